#pragma once
// What makes a stage's output reusable: a fingerprint of everything it depends on (the input
// files' names, sizes and modification times, and the values of every parameter of its own and
// earlier stages). A cache whose recorded fingerprint differs is stale.
#include <filesystem>
#include <string>
#include <vector>

#include "fibseg/config/param_set.hpp"

namespace fibseg::pipeline {

/// Hex digest over the input path's files and the parameters of `sections`.
std::string stageFingerprint(const std::filesystem::path& input, const config::ParamSet& params,
                             const std::vector<std::string>& sections);

/// "name=value" lines for the parameters of `sections`: recorded beside a cache, so a stale cache
/// can say which parameter changed.
std::string describeParameterValues(const config::ParamSet& params, const std::vector<std::string>& sections);

}  // namespace fibseg::pipeline
