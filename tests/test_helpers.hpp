#pragma once
// Small checks that tests of several stages share (one definition each, so that test files can
// also be compiled together: the test executables are unity builds, tests/CMakeLists.txt).
#include <filesystem>
#include <fstream>
#include <functional>
#include <opencv2/core.hpp>
#include <sstream>
#include <string>

#include "fibseg/core/error.hpp"

namespace fibseg::test {

/// The message of the fibseg::Error that `f` throws, or "(no error)".
inline std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

/// Same size, type and every pixel.
inline bool samePixels(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

/// A whole file's bytes.
inline std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace fibseg::test
