#pragma once
// libFuzzer glue: the readers take file paths, so each input is written to a file of the
// reader's extension. A fibseg::Error is the expected answer to a bad file; anything else that
// escapes (another exception, a crash, a sanitizer report) is a bug.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "fibseg/core/error.hpp"

namespace fibseg::fuzz {

inline std::filesystem::path inputFile(const uint8_t* data, size_t size, const std::string& extension) {
  const auto folder = std::filesystem::temp_directory_path() / ("fibseg_fuzz_" + std::to_string(::getpid()));
  std::filesystem::create_directories(folder);
  const auto file = folder / ("input" + extension);
  std::ofstream(file, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return file;
}

template <class F>
void expectingErrors(F&& read) {
  try {
    read();
  } catch (const fibseg::Error&) {
  }
}

}  // namespace fibseg::fuzz
