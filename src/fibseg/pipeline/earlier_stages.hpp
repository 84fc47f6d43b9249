#pragma once
// `--from segment`: the outputs of the stages the run reuses. A run that takes its aligned,
// corrected stack from the earlier run's cache still holds the whole run: the alignment's and
// the correction's files (transforms.csv, brightness.csv, the grey previews, aligned.zarr) come
// over from the earlier run, which made them from the same input and parameters (the cache's
// fingerprint says so). Hard links: writers replace files by rename, so the earlier run's copies
// are never changed.
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "fibseg/pipeline/plan.hpp"

namespace fibseg::pipeline {

/// Links the earlier run's align/correct outputs from `earlierRun` into the staging folder
/// `plan.output`. Previews drawn at another output.preview_width than this run's are left out;
/// what is left out is returned, one line each, for the console and run.json.
std::vector<std::string> carryOverEarlierStages(const std::filesystem::path& earlierRun, const RunPlan& plan);

}  // namespace fibseg::pipeline
