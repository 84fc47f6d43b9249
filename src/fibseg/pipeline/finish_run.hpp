#pragma once
// The end of a run, the same for every executor: phase_fractions.csv and parameters_used.toml,
// the measure stage on the label volume, run.json (written last), report.html, the switch of
// the staging folder into place, and the summary lines.
#include <chrono>
#include <nlohmann/json.hpp>
#include <ostream>
#include <vector>

#include "fibseg/config/param_set.hpp"
#include "fibseg/pipeline/aligned_stack.hpp"
#include "fibseg/pipeline/output_folder.hpp"
#include "fibseg/pipeline/plan.hpp"
#include "fibseg/pipeline/run.hpp"

namespace fibseg::pipeline {

/// What the passes produced (the reductions' results).
struct RunResults {
  AlignedStack stack;
  std::vector<segment::PhaseFractions> fractions;  // per slice
  std::vector<int> otsuThresholds;
  nlohmann::ordered_json timings;  // per stage, in pipeline order
  bool reused = false;
  std::vector<std::string> notCarriedOver;  // earlier stages' outputs a reusing run could not take over
};

RunSummary finishRun(const config::ParamSet& params, const RunPlan& plan, OutputFolder& outputFolder,
                     RunResults& results, std::chrono::steady_clock::time_point start, std::ostream& log);

}  // namespace fibseg::pipeline
