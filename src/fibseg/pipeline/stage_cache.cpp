#include "fibseg/pipeline/stage_cache.hpp"

#include <algorithm>
#include <cstdio>

#include "fibseg/io/slice_series.hpp"

namespace fibseg::pipeline {
namespace fs = std::filesystem;

namespace {
// FNV-1a, 64-bit: a fingerprint, not a defence against tampering.
struct Fnv {
  unsigned long long h = 1469598103934665603ull;
  void add(const std::string& s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;  // separator
  }
};

bool inSections(const std::string& name, const std::vector<std::string>& sections) {
  return std::any_of(sections.begin(), sections.end(),
                     [&](const std::string& s) { return name.rfind(s + ".", 0) == 0; });
}

void addFile(Fnv& f, const fs::path& path) {
  std::error_code ec;
  f.add(path.filename().string());
  f.add(std::to_string(fs::file_size(path, ec)));
  f.add(std::to_string(fs::last_write_time(path, ec).time_since_epoch().count()));
}
}  // namespace

std::string describeParameterValues(const config::ParamSet& params, const std::vector<std::string>& sections) {
  std::string text;
  for (const auto& [name, resolved] : params.values())
    if (inSections(name, sections)) text += name + "=" + (resolved.isSet ? config::formatValue(resolved.value) : "") + "\n";
  return text;
}

std::string stageFingerprint(const fs::path& input, const config::ParamSet& params,
                             const std::vector<std::string>& sections) {
  Fnv f;
  std::error_code ec;
  if (fs::is_directory(input, ec)) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(input, ec))
      if (entry.is_regular_file() && io::isSliceImageFile(entry.path())) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto& file : files) addFile(f, file);
  } else {
    addFile(f, input);
  }
  f.add(describeParameterValues(params, sections));
  char hex[20];
  std::snprintf(hex, sizeof hex, "%016llx", f.h);
  return hex;
}

}  // namespace fibseg::pipeline
