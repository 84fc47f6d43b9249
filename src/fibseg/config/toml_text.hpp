#pragma once
// Writing parameter values as TOML (templates and parameters_used.toml share it).
#include <string>

#include "fibseg/config/registry.hpp"

namespace fibseg::config {

/// A TOML basic string with quotes and escapes: "C:\\data" for C:\data.
std::string tomlString(const std::string& text);
/// The value in TOML syntax for its parameter type: 40, 0.5, true, "otsu", [1.0, 2.5].
std::string tomlValue(const ParamSpec& spec, const Value& value);

}  // namespace fibseg::config
