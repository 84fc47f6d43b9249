#pragma once
// Running the built `fibseg` as a user does, in a folder of this process's own (several people
// may run the suite on one machine at once).
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "temp_folder.hpp"
#include "test_helpers.hpp"

namespace fibseg::test {

struct CliResult {
  int exitCode;
  std::string output;  // stdout and stderr
};

inline nlohmann::json readJson(const std::filesystem::path& file) {
  std::ifstream in(file);
  return nlohmann::json::parse(in);
}
// run.json "outputs": [{file, size, sha256}, ...]
inline bool listedInRun(const nlohmann::json& run, const std::string& file) {
  for (const auto& o : run["outputs"])
    if (o.value("file", "") == file && o.contains("sha256")) return true;
  return false;
}

inline CliResult runCli(const std::string& arguments) {
  const std::string command = std::string(FIBSEG_CLI) + " " + arguments + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  std::array<char, 4096> buffer;
  while (fgets(buffer.data(), buffer.size(), pipe)) output += buffer.data();
  return {WEXITSTATUS(pclose(pipe)), output};
}

// A folder for one test's runs, of this process's own.
struct Workspace : TempFolder {
  explicit Workspace(const std::string& name) : TempFolder("cli_" + name) {}
};

}  // namespace fibseg::test
