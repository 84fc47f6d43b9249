#pragma once
// A small registry with one parameter of every type, so the loaders are tested independently of
// which stages have registered their parameters so far.
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fibseg/config/load.hpp"
#include "fibseg/config/registry.hpp"
#include "test_helpers.hpp"

namespace fibseg::config::testing {

inline const std::vector<ParamSpec>& testSpecs() {
  static const std::vector<ParamSpec> specs = {
      {.section = "input", .key = "path", .type = ParamType::Path, .defaultValue = "",
       .description = "Folder of slice images.", .required = true},
      {.section = "input", .key = "pixel_size_nm", .type = ParamType::Real, .defaultValue = "0",
       .unit = "nm", .min = 0.0, .description = "Pixel size; 0 = from the TIFF metadata."},
      {.section = "input", .key = "slice_thickness_nm", .type = ParamType::Real, .defaultValue = "0",
       .unit = "nm", .min = 0.0, .description = "Milling step; 0 = the pixel size."},
      {.section = "align", .key = "max_shift", .type = ParamType::Integer, .defaultValue = "40",
       .unit = "px", .min = 1.0, .max = 500.0, .description = "Largest shift between two slices."},
      {.section = "align", .key = "enabled", .type = ParamType::Boolean, .defaultValue = "true",
       .description = "Align the slices."},
      {.section = "segment", .key = "method", .type = ParamType::Choice, .defaultValue = "otsu",
       .choices = {"otsu", "classifier"}, .description = "How pixels are classified."},
      {.section = "segment", .key = "grey_levels", .type = ParamType::RealList,
       .defaultValue = "0, 128, 255", .min = 0.0, .max = 255.0,
       .description = "Grey levels written for pore, SE and CAM."},
      {.section = "segment", .key = "note", .type = ParamType::Text, .defaultValue = "none",
       .description = "A note copied to the report."},
      {.section = "output", .key = "folder", .type = ParamType::Path, .defaultValue = "",
       .description = "Folder for all results.", .required = true},
  };
  return specs;
}

/// A fresh empty folder under the system temporary folder, removed by the destructor.
class TempFolder {
 public:
  TempFolder() {
    std::random_device random;
    path_ = std::filesystem::temp_directory_path() / ("fibseg_config_test_" + std::to_string(random()));
    std::filesystem::create_directories(path_);
  }
  ~TempFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline void writeText(const std::filesystem::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary) << text;
}

using fibseg::test::readFile;

/// 1-based number of the first line of `text` that contains `needle` (0 if none).
inline int lineOf(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n)
    if (line.find(needle) != std::string::npos) return n;
  return 0;
}

// Loading with the small registry above; kRequired gives its two required parameters.
inline ParamSet load(const std::filesystem::path& file, const std::vector<std::string>& overrides = {}) {
  return loadParameters(file, overrides, testSpecs());
}
inline const std::vector<std::string> kRequired = {"input.path=/data/slices", "output.folder=/data/out"};

}  // namespace fibseg::config::testing
