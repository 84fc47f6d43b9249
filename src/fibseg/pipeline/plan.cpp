#include "fibseg/pipeline/plan.hpp"

#include <algorithm>
#include <cstdio>

#include "fibseg/config/load.hpp"
#include "fibseg/config/notebook_sheet.hpp"
#include "fibseg/core/error.hpp"

namespace fibseg::pipeline {
namespace fs = std::filesystem;

RunPlan makePlan(const config::ParamSet& params) {
  RunPlan plan;
  plan.input = params.text("input.path");
  plan.output = params.text("output.folder");
  plan.cacheFolder = plan.output / "cache";
  std::error_code ec;
  if (fs::exists(plan.output, ec) && fs::exists(plan.input, ec) && fs::equivalent(plan.input, plan.output, ec))
    throw Error("output.folder " + plan.output.string() +
                " is the input folder; choose another folder so the slices are never overwritten");
  const fs::path inputFolder = fs::weakly_canonical(plan.input, ec), outputFolder = fs::weakly_canonical(plan.output, ec);
  // The notebook's users keep results in <Slices path>/Results (its sheet's default, marked by
  // config::kNotebookResultsOrigin): allowed, since slices are read from the folder's top level only
  // and the run writes nothing else there. Anywhere else inside the input is refused.
  const bool notebookResults =
      params.resolved("output.folder").origin.ends_with(config::kNotebookResultsOrigin);
  if (!notebookResults && !inputFolder.empty() && fs::is_directory(inputFolder, ec) &&
      std::mismatch(inputFolder.begin(), inputFolder.end(), outputFolder.begin(), outputFolder.end()).first == inputFolder.end())
    throw Error("output.folder " + plan.output.string() + " is inside the input folder " + plan.input.string() +
                "; choose a folder outside it so the input is never written");
  plan.series = io::SliceSeries::open(
      plan.input, {params.text("input.format"), params.text("input.prefer_names_containing")});
  plan.slices = static_cast<int>(plan.series.size());

  plan.pixelSizeNm = params.real("input.pixel_size_nm");
  if (plan.pixelSizeNm <= 0) plan.pixelSizeNm = plan.series.pixelSizeNm().value_or(0);
  plan.sliceThicknessNm = params.real("input.slice_thickness_nm");
  if (plan.sliceThicknessNm <= 0) plan.sliceThicknessNm = plan.pixelSizeNm;

  plan.align = config::alignParamsFrom(params);
  plan.intensity = config::intensityParamsFrom(params);
  plan.denoise = config::denoiseParamsFrom(params);
  plan.segment = config::segmentParamsFrom(params);
  plan.phases = config::phasesFrom(params);
  plan.classifier = params.text("segment.method") == "classifier";
  plan.notebook = params.text("segment.method") == "notebook";
  if (plan.notebook) plan.notebookParams = config::notebookParamsFrom(params);
  if (!plan.classifier && !plan.phases.isClassicalThree())
    throw Error("phases.names = " + plan.phases.namesText() + " (" + params.resolved("phases.names").origin +
                ") with segment.method = " + params.text("segment.method") +
                ": the classical path makes exactly the phases pore, SE, CAM; expected those three names, or "
                "segment.method = classifier with a model trained on your phases");
  if (plan.classifier) {
    plan.learn = config::learnParamsFrom(params);
    plan.model = learn::loadModelFor(plan.learn);  // learn.preset = auto: the model's normalisation, auto-context
    plan.learn.refine = learn::refinementFor(plan.learn, *plan.model);  // auto: the model's, unless refine_band is set
    const std::string where = "learn.model " + plan.learn.model.string();
    plan.model->requirePhases(plan.phases.names, where);
    const auto& trained = plan.model->context();
    if (trained.bitDepth && trained.bitDepth != plan.series.bitDepth())
      throw Error(where + " was trained on " + std::to_string(trained.bitDepth) + "-bit slices, but " +
                  plan.input.string() + " holds " + std::to_string(plan.series.bitDepth()) +
                  "-bit slices; expected the same bit depth (retrain on these slices)");
    const std::string denoise = intensity::describeDenoise(
        plan.learn.denoiseInput ? plan.denoise : intensity::noDenoising(plan.denoise));
    if (trained.denoise != denoise)
      throw Error(where + " was trained on slices denoised with '" + trained.denoise +
                  "', but this run denoises with '" + denoise +
                  "' (intensity.denoise*, learn.denoise_input); expected the same denoising as in training");
  }
  plan.slicePngs = params.boolean("output.slice_pngs");
  plan.uncertaintyPngs = params.boolean("output.uncertainty_pngs");
  if (plan.uncertaintyPngs && !plan.classifier)
    throw Error("output.uncertainty_pngs = true (" + params.resolved("output.uncertainty_pngs").origin +
                ") with segment.method = " + params.text("segment.method") +
                ": only the trained classifier has phase probabilities to be unsure of; expected segment.method = "
                "classifier, or output.uncertainty_pngs = false");
  plan.report = params.boolean("output.report");
  plan.omeZarr = params.text("output.format") == "ome-zarr";
  // Blocks of at most output.block_slices, as equal as Zarr chunks allow (all but the last one the
  // same): 60 slices in blocks of 16 are 4 blocks of 15, so tasks side by side end together.
  const int atMost = static_cast<int>(params.integer("output.block_slices"));
  const int blocks = std::max(1, (plan.slices + atMost - 1) / atMost);
  plan.blockSlices = std::max(1, (plan.slices + blocks - 1) / blocks);
  plan.previewWidth = static_cast<int>(params.integer("output.preview_width"));
  plan.previewStep = std::max(1, (plan.slices + kMaxPreviewSlices - 1) / kMaxPreviewSlices);
  plan.previewSlice = plan.slices / 2;

  const cv::Mat first = plan.series.read(0);
  plan.dataBarRows = align::dataBarRows(first, plan.align, plan.series.dataBarRows());
  plan.cropRect = align::cropRect(first.size(), plan.dataBarRows, plan.align.roi);
  plan.registerRect = align::registrationRect(first.size(), plan.dataBarRows, plan.cropRect, plan.align.registrationRegion);

  plan.measure = params.boolean("measure.enabled");
  if (plan.measure) {
    plan.metrics = config::metricsOptionsFrom(params);
    const int along = plan.metrics.slabAxis == measure::X   ? plan.cropRect.width
                      : plan.metrics.slabAxis == measure::Y ? plan.cropRect.height
                                                            : plan.slices;
    if (plan.metrics.slabs > along)  // the aligned volume is at most the crop: fail before any work
      throw Error("measure.slabs = " + std::to_string(plan.metrics.slabs) + " (" +
                  params.resolved("measure.slabs").origin + "): the slices give at most " + std::to_string(along) +
                  " voxels along " + params.text("measure.slab_axis") + "; expected at most that many slabs");
    // The output is at most the crop: when even that would not fit in memory, say so now rather
    // than after aligning and segmenting (the stage checks the exact size again).
    measure::LabelVolume bound;
    bound.nx = plan.cropRect.width, bound.ny = plan.cropRect.height, bound.nz = plan.slices;
    bound.phaseNames.resize(plan.phases.count());
    // The stage measures in blocks of slices beyond its memory limit: only a few slices must fit.
    const std::size_t need = 32 * measure::streamedBytesPerSlice(bound, plan.metrics.sizes);
    const std::size_t have = measure::availableMemoryBytes();
    if (have && need > have)
      throw Error("measure.enabled = true: measuring up to " + std::to_string(bound.nx) + " x " +
                  std::to_string(bound.ny) + " x " + std::to_string(bound.nz) + " voxels needs about " +
                  std::to_string(need >> 20) + " MiB, " + std::to_string(have >> 20) +
                  " MiB available; set measure.tortuosity = false and/or measure.sizes = false, or "
                  "measure.enabled = false and run `fibseg measure` on a crop of labels.tif");
  }
  return plan;
}

std::vector<align::Chain> registrationChainsOf(const RunPlan& plan) {
  return align::chainsOf(plan.slices, plan.align.chainSlices, plan.align.registration.referenceSlices);
}

std::vector<Block> blocksOf(const RunPlan& plan) {
  std::vector<Block> blocks;
  for (int first = 0; first < plan.slices; first += plan.blockSlices)
    blocks.push_back({int(blocks.size()), first, std::min(plan.slices, first + plan.blockSlices)});
  return blocks;
}

double depthPerSlice(const RunPlan& plan) {
  return plan.pixelSizeNm > 0 && plan.sliceThicknessNm > 0 ? plan.sliceThicknessNm / plan.pixelSizeNm : 1.0;
}

std::string numbered(const std::string& stem, int z) {
  char name[64];
  std::snprintf(name, sizeof name, "%s_%04d.png", stem.c_str(), z);
  return name;
}

}  // namespace fibseg::pipeline
