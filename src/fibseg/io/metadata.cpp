#include "fibseg/io/metadata.hpp"

#include <algorithm>
#include <regex>
#include <sstream>

namespace fibseg::io {

namespace {
std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}
std::optional<double> positive(double v) { return v > 0 ? std::optional<double>(v) : std::nullopt; }
}  // namespace

std::optional<double> nanometresPer(const std::string& rawUnit) {
  std::string unit = trim(rawUnit);
  std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::tolower(c); });
  if (unit == "pm") return 1e-3;
  if (unit == "nm" || unit == "nanometer" || unit == "nanometre") return 1.0;
  if (unit == "um" || unit == "micron" || unit == "microns" || unit == "\xc2\xb5m" ||
      unit == "\xb5m" || unit == "micrometer" || unit == "micrometre" || unit == "\\u00b5m")
    return 1e3;
  if (unit == "mm") return 1e6;
  if (unit == "cm") return 1e7;
  if (unit == "m") return 1e9;
  return std::nullopt;
}

/// The text of `key` in `[section]` of FEI's INI-style metadata, if present.
static std::optional<std::string> feiValue(const std::string& text, const std::string& wantedSection, const std::string& key) {
  std::istringstream in(text);
  std::string line, section;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.size() > 1 && line.front() == '[' && line.back() == ']') {
      section = line.substr(1, line.size() - 2);
      continue;
    }
    const auto eq = line.find('=');
    if (section == wantedSection && eq != std::string::npos && trim(line.substr(0, eq)) == key)
      return line.substr(eq + 1);
  }
  return std::nullopt;
}

std::optional<double> pixelSizeFromFeiText(const std::string& text) {
  const auto value = feiValue(text, "Scan", "PixelWidth");
  if (!value) return std::nullopt;
  try {
    return positive(std::stod(*value) * 1e9);  // metres -> nm
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<int> dataBarRowsFromFeiText(const std::string& text) {
  const auto value = feiValue(text, "PrivateFei", "DatabarHeight");
  if (!value) return std::nullopt;
  try {
    const int rows = std::stoi(*value);
    return rows >= 0 ? std::optional<int>(rows) : std::nullopt;
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<double> pixelSizeFromZeissText(const std::string& text) {
  static const std::regex pattern(R"(Image Pixel Size\s*=\s*([0-9.eE+-]+)\s*([A-Za-z\xb5\xc2]+))");
  std::smatch match;
  if (!std::regex_search(text, match, pattern)) return std::nullopt;
  const auto scale = nanometresPer(match[2].str());
  if (!scale) return std::nullopt;
  try {
    return positive(std::stod(match[1].str()) * *scale);
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<double> pixelSizeFromImageJ(const std::string& description, double xResolution) {
  if (description.rfind("ImageJ=", 0) != 0 || xResolution <= 0) return std::nullopt;
  static const std::regex unitPattern(R"(unit=([^\n]+))");
  std::smatch match;
  if (!std::regex_search(description, match, unitPattern)) return std::nullopt;
  const auto scale = nanometresPer(match[1].str());
  if (!scale) return std::nullopt;
  return positive(*scale / xResolution);
}

}  // namespace fibseg::io
