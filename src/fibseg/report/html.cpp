#include "fibseg/report/html.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "fibseg/core/error.hpp"

namespace fibseg::report {

std::string escapeHtml(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string base64(const std::uint8_t* data, std::size_t size) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < size; i += 3) {
    const std::uint32_t v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (i + 1 == size) {
    const std::uint32_t v = data[i] << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == size) {
    const std::uint32_t v = (data[i] << 16) | (data[i + 1] << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string pngDataUri(const std::vector<std::uint8_t>& bytes) { return "data:image/png;base64," + base64(bytes); }

std::string pngFileDataUri(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open (missing or unreadable)");
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  static const std::uint8_t signature[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
  if (bytes.size() < 8 || !std::equal(signature, signature + 8, bytes.begin()))
    throw Error(path.string() + ": not a PNG file (expected the PNG signature)");
  return pngDataUri(bytes);
}

std::string formatNumber(double value, int decimals) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  // A small value that the decimals would print as 0 keeps three significant digits instead:
  // 0.000123, or 2.25e-7 (a particle radius in metres), never 0.
  if (value != 0 && std::fabs(value) < 0.5 * std::pow(10.0, -decimals)) {
    char small[64];
    if (std::fabs(value) >= 1e-4) {
      const int needed = int(std::ceil(-std::log10(std::fabs(value)))) + 2;
      std::snprintf(small, sizeof small, "%.*f", needed, value);
      std::string s = small;
      while (s.back() == '0') s.pop_back();
      return s;
    }
    std::snprintf(small, sizeof small, "%.3g", value);  // "2.25e-07" -> "2.25e-7"
    std::string s = small;
    if (const auto e = s.find("e-0"); e != std::string::npos) s.erase(e + 2, 1);
    if (const auto e = s.find("e+0"); e != std::string::npos) s.erase(e + 2, 1);
    return s;
  }
  // Halves round away from zero, as people do (printf would give 31.25 -> "31.2").
  const double scale = std::pow(10.0, decimals);
  if (std::fabs(value) * scale < 1e15) value = std::round(value * scale) / scale;
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  std::string s = buffer;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

}  // namespace fibseg::report
