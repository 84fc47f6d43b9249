#pragma once
// What a finished run tells its user beyond the numbers: every warning in one list in run.json
// (what the report's first screen shows), the folder the run ends in, and how a failed measure
// stage is recorded without costing the run its segmentation.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace fibseg::pipeline {

/// Removes any metrics file the failed stage left in `staging`, says on `log` that it failed and
/// that every other output is kept, and returns run.json's "measure" value: {"failed": why, ...}.
nlohmann::ordered_json measureFailure(const std::string& why, const std::filesystem::path& staging, std::ostream& log);

/// Every warning of a run, one sentence each, from run.json's fields and transforms.csv in
/// `staging`: slices bridged (by name), the stack probably not aligned, a phase not found, the
/// measure stage failed or skipped, the pixel size unknown.
std::vector<std::string> runWarnings(const nlohmann::ordered_json& run, const std::filesystem::path& staging);

/// `run` with "output_folder" (the folder the run ends in, not the staging folder) and
/// "warnings" (runWarnings) added.
nlohmann::ordered_json withWarnings(nlohmann::ordered_json run, const std::filesystem::path& staging,
                                    const std::filesystem::path& outputFolder);

}  // namespace fibseg::pipeline
