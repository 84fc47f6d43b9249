#pragma once
// Pass 1, registration: read and crop every slice, compare each with its earlier ones, then the
// global reductions: the registration's least-squares solve (align::Registrar::finalise) and the
// brightness reference (the fit every slice's brightness is matched to).
//
// One task: the comparisons form a chain (each slice is compared with a running reference built
// from the slices before it and their provisional shifts), so they run in slice order; reading,
// cropping and the Fourier transforms run in parallel on the task's threads. This is the run's
// serial part (bench/README.md, "Distributed", cost model).
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "fibseg/config/param_set.hpp"
#include "fibseg/pipeline/plan.hpp"

namespace fibseg::pipeline {

struct RegisterResult {
  std::vector<align::SliceTransform> transforms;
  cv::Point2d comparisonOffset;
  intensity::BrightnessStats reference;
  double seconds = 0;
};

/// Writes preview/ortho_{xz,yz}_raw.png; progress ("align") on `log`.
RegisterResult registerSlices(const RunPlan& plan, bool terminal, std::ostream& log);

/// Exact (doubles round-trip): what the correction tasks of a distributed run are handed.
nlohmann::json toJson(const RegisterResult& result);
RegisterResult registerResultFromJson(const nlohmann::json& j);

/// transforms.csv.
void writeTransforms(const RunPlan& plan, const std::vector<align::SliceTransform>& transforms);
/// When more than a quarter of the pairs are bridged, what to tell the user; empty otherwise.
std::string notAlignedWarning(const std::vector<align::SliceTransform>& transforms);
/// Every bridged slice as a warning on `log`.
void warnAboutBridges(const RunPlan& plan, const config::ParamSet& params,
                      const std::vector<align::SliceTransform>& transforms, std::ostream& log);
/// Said whenever the registration removed a comparison offset.
void reportComparisonOffset(cv::Point2d offset, std::ostream& log);

}  // namespace fibseg::pipeline
