#include "fibseg/pipeline/output_folder.hpp"

#include <fcntl.h>
#include <signal.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <tbb/parallel_for.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <vector>

#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/error.hpp"

namespace fibseg::pipeline {
namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

const char* const kLock = ".fibseg.lock";
const char* const kStaging = ".fibseg-staging";
const char* const kSwitching = ".fibseg-switching";
const char* const kPrevious = ".fibseg-previous";
const char* const kMarker = "RUN_INCOMPLETE.txt";
const char* const kRunJson = "run.json";
const char* const kRunKey = ".blocks/run-key";  // what a resumable staging folder was made for

// What earlier versions of fibseg wrote without a manifest: replaced like a listed output.
const std::vector<std::string> kUnlistedOutputs{
    "labels.tif",  "aligned.tif", "transforms.csv", "brightness.csv",      "phase_fractions.csv",
    "report.html", "segmented",   "preview",        "cache",               "parameters_used.toml",
    "probability_pore.tif", "probability_se.tif", "probability_cam.tif"};

std::string systemError() { return std::strerror(errno); }

/// Flushes a file or folder to the disk, so a power cut after a rename finds what was renamed.
void syncPath(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

std::string hexDigest(EVP_MD_CTX* context) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(context, digest, &length);
  static const char* hex = "0123456789abcdef";
  std::string text;
  for (unsigned int i = 0; i < length; ++i) {
    text += hex[digest[i] >> 4];
    text += hex[digest[i] & 15];
  }
  return text;
}

/// Hashes a file (and flushes it to the disk, as its contents are final once listed).
std::string hashFile(const fs::path& file, bool sync) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(file.string() + ": cannot read to checksum it: " + systemError());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr);
  std::vector<char> buffer(1 << 20);
  for (;;) {
    const ssize_t got = ::read(fd, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      const std::string why = systemError();
      ::close(fd);
      throw Error(file.string() + ": read failed while checksumming it: " + why);
    }
    if (got == 0) break;
    EVP_DigestUpdate(context.get(), buffer.data(), static_cast<std::size_t>(got));
  }
  if (sync) ::fsync(fd);
  ::close(fd);
  return hexDigest(context.get());
}

bool hidden(const fs::path& name) { return name.filename().string().starts_with("."); }

ordered_json readJsonFile(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return ordered_json();
  return ordered_json::parse(in, nullptr, false);
}

/// The first component of every output run.json lists ("segmented/labels_0000.png" -> "segmented").
std::set<std::string> topLevelNames(const ordered_json& run) {
  std::set<std::string> names;
  if (!run.is_object() || !run.contains("outputs") || !run["outputs"].is_array()) return names;
  for (const auto& output : run["outputs"])
    if (output.is_object() && output.contains("file") && output["file"].is_string())
      names.insert(fs::path(output["file"].get<std::string>()).begin()->string());
  return names;
}

void moveReplacing(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::remove_all(to, ec);
  fs::rename(from, to, ec);
  if (ec) throw Error("cannot move " + from.string() + " to " + to.string() + ": " + ec.message());
}

/// Moves the complete run in .fibseg-switching/ into the folder in place of the previous one.
/// Safe to repeat after a kill at any point: an entry still in .fibseg-switching/ is not moved
/// in yet, so a same-named entry in the folder is the previous run's; the old outputs all leave
/// before the first new one arrives, and run.json arrives last.
void switchIn(const fs::path& folder) {
  const fs::path switching = folder / kSwitching, previous = folder / kPrevious;
  std::error_code ec;
  // FIBSEG_TEST_KILL_AFTER_MOVES=n: the process kills itself after the n-th step of the switch,
  // so the tests stop a run at every step of it (random kills rarely land in this short window).
  const char* killAfter = std::getenv("FIBSEG_TEST_KILL_AFTER_MOVES");
  int steps = 0;
  const auto step = [&] {
    if (killAfter && ++steps == std::atoi(killAfter)) ::raise(SIGKILL);
  };
  if (fs::exists(switching / kRunJson)) {
    if (!fs::exists(folder / kMarker))
      writeTextFile(folder / kMarker,
                    "This folder is between two runs of fibseg: the outputs of a new, complete run are being\n"
                    "moved in. The next `fibseg run` into this folder finishes the move (and says so).\n");
    step();
    const ordered_json incoming = readJsonFile(switching / kRunJson);
    const std::set<std::string> newNames = topLevelNames(incoming);
    std::set<std::string> oldNames = topLevelNames(readJsonFile(folder / kRunJson));
    if (oldNames.empty()) oldNames = topLevelNames(readJsonFile(previous / kRunJson));
    oldNames.insert(kUnlistedOutputs.begin(), kUnlistedOutputs.end());
    oldNames.insert(newNames.begin(), newNames.end());

    fs::create_directories(previous, ec);
    if (fs::exists(folder / kRunJson)) {
      moveReplacing(folder / kRunJson, previous / kRunJson);
      step();
    }
    for (const auto& name : oldNames)
      if (name != kRunJson && fs::exists(folder / name) && (fs::exists(switching / name) || !newNames.count(name))) {
        moveReplacing(folder / name, previous / name);
        step();
      }
    for (const auto& name : newNames)
      if (name != kRunJson && fs::exists(switching / name)) {
        moveReplacing(switching / name, folder / name);
        step();
      }
    moveReplacing(switching / kRunJson, folder / kRunJson);
    syncPath(folder);
    step();
  }
  fs::remove(folder / kMarker, ec);
  step();
  fs::remove_all(previous, ec);
  fs::remove_all(switching, ec);
  syncPath(folder);
}

/// Removes or finishes what a killed run left behind, and says so.
void cleanUpAfterKilledRun(const fs::path& folder, const std::string& resumeKey, std::ostream& log) {
  std::error_code ec;
  const fs::path keyFile = folder / kStaging / kRunKey;
  std::string staged;
  if (std::ifstream in(keyFile); in) std::getline(in, staged);
  if (!resumeKey.empty() && staged == resumeKey) {
    log << "resuming the run in " << (folder / kStaging).string()
        << " that stopped before it finished (same input and parameters): its finished blocks are kept\n";
  } else if (fs::exists(folder / kStaging)) {
    fs::remove_all(folder / kStaging, ec);
    log << "removed " << (folder / kStaging).string()
        << ": the outputs of an earlier run into this folder that stopped before it finished (killed, crashed or "
           "out of disk); the run before it is intact\n";
  }
  if (fs::exists(folder / kSwitching)) {
    log << "finishing the switch-in of the earlier run in " << folder.string()
        << ", which was complete but was stopped while its outputs were being moved in\n";
    switchIn(folder);
  } else {
    if (fs::exists(folder / kPrevious)) fs::remove_all(folder / kPrevious, ec);
    if (fs::exists(folder / kMarker)) fs::remove(folder / kMarker, ec);
  }
  // Temporary files beside the outputs, as fibseg versions before the staging folder left them.
  std::vector<std::string> removed;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();
    if ((name.starts_with(".") && name.find(".tmp") != std::string::npos) || name == "segmented.partial") {
      fs::remove_all(entry.path(), ec);
      removed.push_back(name);
    }
  }
  if (!removed.empty()) {
    log << "removed " << removed.size() << " temporary file(s) an earlier run left in " << folder.string() << ":";
    for (const auto& name : removed) log << " " << name;
    log << "\n";
  }
}

std::string readAll(int fd) {
  std::string text(256, '\0');
  const ssize_t got = ::pread(fd, text.data(), text.size(), 0);
  text.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  return text;
}

/// flock: released by the kernel when the holder dies, so a killed run never leaves a stale lock.
int takeLock(const fs::path& folder) {
  const fs::path path = folder / kLock;
  for (int attempt = 0; attempt < 20; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw Error("cannot create the lock file " + path.string() + ": " + systemError());
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      const std::string holder = readAll(fd);
      ::close(fd);
      if (error == EWOULDBLOCK)
        throw Error("output folder " + folder.string() + " is in use by another fibseg run (" +
                    (holder.empty() ? std::string("starting") : holder) +
                    "); wait for it to finish, or choose another output.folder");
      throw Error("cannot lock " + path.string() + ": " + std::strerror(error));
    }
    // A run that just finished removes its lock file: locking the removed file would let a third
    // run in beside us, so lock the file that is there now.
    struct stat held {}, current {};
    if (::fstat(fd, &held) == 0 && ::stat(path.c_str(), &current) == 0 && held.st_ino == current.st_ino &&
        held.st_dev == current.st_dev) {
      const std::string holder = "pid " + std::to_string(::getpid()) + "\n";
      if (::ftruncate(fd, 0) == 0 && ::pwrite(fd, holder.data(), holder.size(), 0) < 0) {
        // The pid is only for the message of a refused run; the lock itself holds without it.
      }
      return fd;
    }
    ::close(fd);
  }
  throw Error("cannot lock " + path.string() + ": it keeps being replaced by other runs");
}

void carryOverCache(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  if (!fs::is_directory(from, ec)) return;
  for (const auto& entry : fs::recursive_directory_iterator(from, ec)) {
    const fs::path target = to / fs::relative(entry.path(), from);
    if (entry.is_directory()) {
      fs::create_directories(target, ec);
      continue;
    }
    fs::create_directories(target.parent_path(), ec);
    // A hard link costs no space; every writer replaces its file by rename, never in place, so
    // the previous run's copy stays as it was.
    std::error_code link;
    fs::create_hard_link(entry.path(), target, link);
    if (link) {
      fs::copy_file(entry.path(), target, fs::copy_options::overwrite_existing, ec);
      if (ec) throw Error("cannot carry the cache " + entry.path().string() + " over to the new run: " + ec.message());
    }
  }
}

}  // namespace

std::string sha256OfFile(const fs::path& file) { return hashFile(file, false); }

struct GrowingFileSha256::State {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context{EVP_MD_CTX_new(), EVP_MD_CTX_free};
  std::uint64_t hashed = 0;
  std::vector<char> buffer = std::vector<char>(1 << 20);
};

GrowingFileSha256::GrowingFileSha256() : state_(std::make_unique<State>()) {
  EVP_DigestInit_ex(state_->context.get(), EVP_sha256(), nullptr);
}
GrowingFileSha256::~GrowingFileSha256() = default;

namespace {
// Hashes [hashed, upTo) of the open file `fd` (upTo = -1: to its end); returns where it stopped.
std::uint64_t hashRange(int fd, const fs::path& file, EVP_MD_CTX* context, std::vector<char>& buffer,
                        std::uint64_t hashed, std::uint64_t upTo) {
  while (hashed < upTo) {
    const std::size_t want = std::size_t(std::min<std::uint64_t>(buffer.size(), upTo - hashed));
    const ssize_t got = ::pread(fd, buffer.data(), want, off_t(hashed));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw Error(file.string() + ": read failed while checksumming it: " + systemError());
    if (got == 0) break;
    EVP_DigestUpdate(context, buffer.data(), std::size_t(got));
    hashed += std::uint64_t(got);
  }
  return hashed;
}
}  // namespace

void GrowingFileSha256::advance(const fs::path& file, std::uint64_t settled) {
  if (settled <= state_->hashed) return;
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(file.string() + ": cannot read to checksum it: " + systemError());
  const std::uint64_t from = state_->hashed;
  try {
    state_->hashed = hashRange(fd, file, state_->context.get(), state_->buffer, from, settled);
  } catch (...) {
    ::close(fd);
    throw;
  }
  // Start writing these bytes to the disk now, so the flush at the end has little left to wait for.
  ::sync_file_range(fd, off_t(from), off_t(state_->hashed - from), SYNC_FILE_RANGE_WRITE);
  ::close(fd);
}

std::string GrowingFileSha256::finish(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(file.string() + ": cannot read to checksum it: " + systemError());
  try {
    hashRange(fd, file, state_->context.get(), state_->buffer, state_->hashed, UINT64_MAX);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::fsync(fd);
  ::close(fd);
  return hexDigest(state_->context.get());
}

// A file hashed before commit(): which file it was (device, inode), and as it was then.
struct OutputFolder::Hashed {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  timespec modified{};
  std::string sha256;
};

namespace {
bool sameFile(const struct stat& now, dev_t device, ino_t inode, off_t size, const timespec& modified) {
  return now.st_dev == device && now.st_ino == inode && now.st_size == size &&
         now.st_mtim.tv_sec == modified.tv_sec && now.st_mtim.tv_nsec == modified.tv_nsec;
}
}  // namespace

const OutputFolder::Hashed* OutputFolder::hashedAlready(const fs::path& file) const {
  struct stat now {};
  if (hashed_.empty() || ::stat(file.c_str(), &now) != 0) return nullptr;
  for (const Hashed& h : hashed_)
    if (sameFile(now, h.device, h.inode, h.size, h.modified)) return &h;
  return nullptr;
}

void OutputFolder::addHashed(const fs::path& file, const std::string& sha256) {
  struct stat now {};
  if (::stat(file.c_str(), &now) == 0) hashed_.push_back({now.st_dev, now.st_ino, now.st_size, now.st_mtim, sha256});
}

void OutputFolder::hashStagedOutputs() {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(staging_, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    std::error_code type;
    if (hidden(it->path().filename())) {  // temporaries, the tasks' records
      if (it->is_directory(type)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(type) && it->path() != staging_ / kRunJson && !hashedAlready(it->path()))
      files.push_back(it->path());
  }
  // On both cores, as commit() would: the flushes wait on the disk more than they compute.
  std::vector<std::optional<Hashed>> done(files.size());
  tbb::parallel_for(std::size_t(0), files.size(), [&](std::size_t i) {
    struct stat before {};
    if (::stat(files[i].c_str(), &before) != 0) return;
    try {
      done[i] = Hashed{before.st_dev, before.st_ino, before.st_size, before.st_mtim, hashFile(files[i], true)};
    } catch (const Error&) {
      // gone or replaced meanwhile: commit() reads it
    }
  });
  for (auto& h : done)
    if (h) hashed_.push_back(std::move(*h));
}

OutputFolder::OutputFolder(fs::path folder, OutputFolderOptions options, std::ostream& log)
    : folder_(std::move(folder)), staging_(folder_ / kStaging) {
  std::error_code ec;
  createdFolder_ = !fs::exists(folder_, ec);
  ensureWritableFolder(folder_);
  try {
    lockFd_ = takeLock(folder_);
    cleanUpAfterKilledRun(folder_, options.resumeKey, log);
    const bool earlierRun = fs::exists(folder_ / kRunJson) || fs::exists(folder_ / "labels.tif");
    if (earlierRun && !options.replaceEarlierRun)
      throw Error("output folder " + folder_.string() +
                  " already holds a run; pass --overwrite to replace it, or --from segment to redo "
                  "only the segmentation");
    ensureWritableFolder(staging_);
    if (!options.resumeKey.empty()) {
      keepStaging_ = true;  // a failed or interrupted run is resumed from its blocks
      ensureWritableFolder((staging_ / kRunKey).parent_path());
      writeTextFile(staging_ / kRunKey, options.resumeKey + "\n");
    }
    if (options.keepCache) carryOverCache(folder_ / "cache", staging_ / "cache");
  } catch (...) {
    release();
    throw;
  }
}

OutputFolder::~OutputFolder() { release(); }

void OutputFolder::release() noexcept {
  std::error_code ec;
  if (!committed_ && !keepStaging_) fs::remove_all(staging_, ec);
  if (lockFd_ >= 0) {
    fs::remove(folder_ / kLock, ec);  // while still held: see takeLock
    ::close(lockFd_);
    lockFd_ = -1;
  }
  if (createdFolder_ && fs::is_empty(folder_, ec)) fs::remove(folder_, ec);
  createdFolder_ = false;
}

void OutputFolder::commit() {
  const fs::path runJson = staging_ / kRunJson;
  ordered_json run = readJsonFile(runJson);
  if (!run.is_object()) throw Error(runJson.string() + ": missing or unreadable; the run cannot be completed");

  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(staging_))
    if (entry.is_regular_file() && entry.path() != runJson) files.push_back(fs::relative(entry.path(), staging_));
  std::sort(files.begin(), files.end());
  // Reading back, hashing and flushing every output is a few percent of a short run: both cores.
  std::vector<std::string> hashes(files.size());
  tbb::parallel_for(std::size_t(0), files.size(), [&](std::size_t i) {
    const Hashed* known = hashedAlready(staging_ / files[i]);
    hashes[i] = known ? known->sha256 : hashFile(staging_ / files[i], true);
  });
  ordered_json outputs = ordered_json::array();
  for (std::size_t i = 0; i < files.size(); ++i)
    outputs.push_back({{"file", files[i].generic_string()},
                       {"size", fs::file_size(staging_ / files[i])},
                       {"sha256", hashes[i]}});
  run["outputs"] = outputs;
  writeTextFile(runJson, run.dump(2) + "\n");
  syncPath(runJson);
  syncPath(staging_);

  // From here the new run is complete on disk: a kill leaves it to be switched in by the next run.
  fs::rename(staging_, folder_ / kSwitching, ec);
  if (ec) throw Error("cannot move " + staging_.string() + " to " + (folder_ / kSwitching).string() + ": " + ec.message());
  committed_ = true;
  syncPath(folder_);
  switchIn(folder_);
}

FolderCheck checkOutputFolder(const fs::path& folder) {
  std::error_code ec;
  if (fs::exists(folder / kMarker)) return {FolderState::Incomplete, (folder / kMarker).string() + " marks it"};
  std::vector<std::string> visible;
  for (const auto& entry : fs::directory_iterator(folder, ec))
    if (!hidden(entry.path())) visible.push_back(entry.path().filename().string());
  if (!fs::exists(folder / kRunJson)) {
    if (visible.empty()) return {FolderState::Empty, "no run"};
    return {FolderState::Inconsistent, "outputs (" + visible.front() + ", ...) but no run.json and no RUN_INCOMPLETE.txt"};
  }
  const ordered_json run = readJsonFile(folder / kRunJson);
  if (!run.is_object() || !run.contains("outputs") || !run["outputs"].is_array())
    return {FolderState::Inconsistent, "run.json does not list the outputs"};
  std::set<std::string> listed{kRunJson};
  for (const auto& output : run["outputs"]) {
    const std::string name = output.value("file", "");
    const fs::path file = folder / name;
    listed.insert(fs::path(name).generic_string());
    if (!fs::is_regular_file(file, ec)) return {FolderState::Inconsistent, name + " is listed in run.json but missing"};
    if (fs::file_size(file, ec) != output.value("size", std::uintmax_t{0}))
      return {FolderState::Inconsistent, name + " has another size than run.json lists"};
    if (hashFile(file, false) != output.value("sha256", ""))
      return {FolderState::Inconsistent, name + " has another SHA-256 than run.json lists"};
  }
  for (auto it = fs::recursive_directory_iterator(folder, ec); it != fs::recursive_directory_iterator(); ++it) {
    if (hidden(it->path())) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file()) continue;
    const std::string name = fs::relative(it->path(), folder).generic_string();
    if (!listed.count(name)) return {FolderState::Inconsistent, name + " is not part of the run run.json lists"};
  }
  return {FolderState::Complete, std::to_string(listed.size() - 1) + " outputs match run.json"};
}

}  // namespace fibseg::pipeline
