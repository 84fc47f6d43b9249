#include "fibseg/pipeline/run_graph.hpp"

#include "fibseg/core/atomic_file.hpp"
#include "fibseg/pipeline/corrected_slices.hpp"

namespace fibseg::pipeline {

void stageOutputs(RunPlan& plan, const OutputFolder& folder, std::ostream& log) {
  plan.output = folder.staging();
  plan.cacheFolder = plan.output / "cache";
  ensureWritableFolder(plan.cacheFolder);
  ensureWritableFolder(plan.output / "preview");
  log << "fibseg run: " << plan.slices << " slices of " << plan.series.width() << "x" << plan.series.height()
      << " (" << plan.series.bitDepth() << "-bit) from " << plan.input.string() << " -> " << folder.folder().string() << "\n";
  if (plan.pixelSizeNm <= 0) log << "note: pixel size unknown (no metadata, input.pixel_size_nm = 0): volumes are in px\n";
}

void reportRegistration(const RunPlan& plan, const config::ParamSet& params, const RegisterResult& registered,
                        std::ostream& log) {
  writeTransforms(plan, registered.transforms);
  warnAboutBridges(plan, params, registered.transforms, log);
  reportComparisonOffset(registered.comparisonOffset, log);
}

bool segmentNeedsWholeStack(const RunPlan& plan) {
  return (!plan.classifier && !plan.notebook && plan.segment.otsuScope == segment::OtsuScope::Stack) ||
         (plan.model && plan.model->needsNeighbours());
}

VolumeSpec labelsVolume(const RunPlan&, const AlignedStack& stack) {
  return {"labels", stack.outputRect.width, stack.outputRect.height, 8, true};
}
VolumeSpec alignedVolume(const RunPlan&, const AlignedStack& stack) {
  return {"aligned", stack.outputRect.width, stack.outputRect.height, stack.bitDepth, false};
}
std::optional<VolumeSpec> greyCacheVolume(const RunPlan& plan, const AlignedStack& stack) {
  if (greyStackPath(plan) == plan.output / "aligned.tif") return std::nullopt;
  return VolumeSpec{"grey", stack.outputRect.width, stack.outputRect.height, stack.bitDepth, false, greyStackPath(plan)};
}
VolumeSpec correctedVolume(const RunPlan&, const AlignedStack& stack) {
  return {"corrected", stack.outputRect.width, stack.outputRect.height, stack.bitDepth, false};
}

}  // namespace fibseg::pipeline
