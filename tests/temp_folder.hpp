#pragma once
// A scratch folder of this process's own under the system's temporary folder, emptied on creation
// and removed with everything in it at the end of the scope (several people may run the suite on
// one machine at once, hence the process id in the name).
#include <unistd.h>

#include <filesystem>
#include <string>

namespace fibseg::test {

struct TempFolder {
  std::filesystem::path path;
  explicit TempFolder(const std::string& name)
      : path(std::filesystem::temp_directory_path() / ("fibseg_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempFolder() { std::filesystem::remove_all(path); }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

}  // namespace fibseg::test
