#pragma once
// The graph of a run, shared by the local executor (local_executor.cpp, threads) and the dask
// executor (block_tasks.hpp through the Python module, fibseg.distributed):
//
//   plan                        makePlan (plan.hpp): parameters + slice 0 -> RunPlan, blocks
//   register   (per chain)      read, crop, compare in order within a chain       (register_pass)
//     reduction                 the least-squares solve, the brightness reference, transforms.csv
//   correct    (per slice/block) correctSlice: read, crop, shift, correct, count   (correct_pass)
//     reduction                 output area (before), histogram -> Otsu, brightness.csv, previews
//   segment    (per slice/block) segmentSlice: segment, fractions, PNGs            (segment_pass)
//     reduction                 fractions merge, label previews, segmented/
//   (correct and segment are one step per slice/block unless segmentNeedsWholeStack)
//   finish                      measure, run.json last, report, switch-in          (finish_run)
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "fibseg/config/param_set.hpp"
#include "fibseg/pipeline/aligned_stack.hpp"
#include "fibseg/pipeline/output_folder.hpp"
#include "fibseg/pipeline/plan.hpp"
#include "fibseg/pipeline/register_pass.hpp"
#include "fibseg/pipeline/stack_output.hpp"

namespace fibseg::pipeline {

/// Stages whose output the cache holds, and so whose parameters make it stale when changed.
inline const std::vector<std::string> kCachedSections{"input", "align", "intensity"};

/// Points the plan at the staging folder of `folder`, makes its sub-folders, and says what runs.
void stageOutputs(RunPlan& plan, const OutputFolder& folder, std::ostream& log);

/// The registration's reduction outputs: transforms.csv and the warnings about bridged slices.
void reportRegistration(const RunPlan& plan, const config::ParamSet& params, const RegisterResult& registered,
                        std::ostream& log);

/// True when segmentation needs what only the whole corrected stack gives: its Otsu threshold
/// (classical path, segment.otsu_scope = stack) or the slices in order (a classifier with z
/// context). Otherwise correction and segmentation are one step per slice (and per block).
bool segmentNeedsWholeStack(const RunPlan& plan);

/// The volumes a run writes.
VolumeSpec labelsVolume(const RunPlan& plan, const AlignedStack& stack);
VolumeSpec alignedVolume(const RunPlan& plan, const AlignedStack& stack);
/// The run's grey stack (corrected_slices.hpp greyStackPath) when it is not aligned.tif: a TIFF in
/// cache/ ("grey" blocks), what `--from segment`, `fibseg corrected` and the studio read. None otherwise.
std::optional<VolumeSpec> greyCacheVolume(const RunPlan& plan, const AlignedStack& stack);
/// The corrected grey between the passes of a distributed run (block files only, never a volume).
VolumeSpec correctedVolume(const RunPlan& plan, const AlignedStack& stack);

}  // namespace fibseg::pipeline
