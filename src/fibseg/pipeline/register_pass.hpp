#pragma once
// Pass 1, registration: read and crop every slice, compare each with its earlier ones, then the
// global reductions: the registration's least-squares solve (align::solveRegistration) and the
// brightness reference (the fit every slice's brightness is matched to).
//
// The comparisons form chains (align.chain_slices, plan.hpp registrationChainsOf): within a chain
// each slice is compared with a running reference built from the slices before it and their
// provisional shifts, so those comparisons run in slice order; reading, cropping, the Fourier
// transforms and the pair with the previous slice run in parallel. Chains are independent: the
// local run feeds them all from one pass over the slices, a distributed run makes one task per
// chain (measureChain), and the solve takes every chain's measurements together.
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

/// One chain measured on its own (a task of a distributed run): its comparisons, the brightness
/// of its slices where the reference needs it (slice 0, or every slice for a stack-median
/// reference; empty otherwise), and its rows of the raw ortho views.
struct ChainResult {
  align::ChainMeasurements measured;
  std::vector<intensity::BrightnessStats> brightness;  // per slice from chain.first, or none
  cv::Mat xz, yz;
};
ChainResult measureChain(const RunPlan& plan, const align::Chain& chain);

/// The reduction after the chains: the solve, the brightness reference, the raw ortho previews.
RegisterResult solveChains(const RunPlan& plan, const std::vector<ChainResult>& chains);

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
