#include "fibseg/core/atomic_file.hpp"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <string>

#include "fibseg/core/error.hpp"

namespace fibseg {
namespace fs = std::filesystem;

namespace {
std::atomic<unsigned> counter{0};
}

AtomicFile::AtomicFile(fs::path target) : target_(std::move(target)) {
  temporary_ = target_.parent_path() /
               ("." + target_.filename().string() + ".tmp" + std::to_string(::getpid()) + "_" +
                std::to_string(counter++));
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    std::error_code ignored;
    fs::remove(temporary_, ignored);
  }
}

void AtomicFile::commit() {
  std::error_code ec;
  fs::rename(temporary_, target_, ec);
  if (ec) throw Error("cannot move finished output to " + target_.string() + ": " + ec.message());
  committed_ = true;
}

void ensureWritableFolder(const fs::path& folder) {
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) throw Error("cannot create output folder " + folder.string() + ": " + ec.message());
  if (::access(folder.c_str(), W_OK) != 0)
    throw Error("output folder " + folder.string() + " is not writable");
}

void writeTextFile(const fs::path& target, const std::string& text) {
  AtomicFile file(target);
  {
    std::ofstream out(file.temporaryPath(), std::ios::binary);
    if (!out) throw Error("cannot write " + target.string());
    out << text;
    if (!out.flush()) throw Error("cannot write " + target.string() + " (disk full?)");
  }
  file.commit();
}

}  // namespace fibseg
