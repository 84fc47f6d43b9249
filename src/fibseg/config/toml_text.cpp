#include "fibseg/config/toml_text.hpp"

#include <cstdio>

namespace fibseg::config {

namespace {
std::string tomlFloat(double v) {
  std::string s = formatNumber(v);
  // A TOML float needs a fraction or an exponent; "40" would read back as an integer.
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s;
}
}  // namespace

std::string tomlString(const std::string& text) {
  std::string out = "\"";
  for (const unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04X", c);
          out += buffer;
        } else {
          out += char(c);
        }
    }
  }
  return out + "\"";
}

std::string tomlValue(const ParamSpec& spec, const Value& value) {
  if (const auto* i = std::get_if<long long>(&value))
    return spec.type == ParamType::Real ? tomlFloat(double(*i)) : std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) return tomlFloat(*d);
  if (const auto* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  if (const auto* s = std::get_if<std::string>(&value)) return tomlString(*s);
  const auto& list = std::get<std::vector<double>>(value);
  std::string out = "[";
  for (std::size_t i = 0; i < list.size(); ++i) out += (i ? ", " : "") + tomlFloat(list[i]);
  return out + "]";
}

}  // namespace fibseg::config
