#include "fibseg/pipeline/finish_run.hpp"
#include "fibseg/pipeline/run_outcome.hpp"

#include <algorithm>
#include <cstdio>

#include "fibseg/config/load.hpp"
#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/io/zarr.hpp"
#include "fibseg/pipeline/measure_stage.hpp"
#include "fibseg/pipeline/progress.hpp"
#include "fibseg/pipeline/register_pass.hpp"
#include "fibseg/pipeline/segment_pass.hpp"
#include "fibseg/pipeline/zarr_label_source.hpp"
#include "fibseg/report/report.hpp"

namespace fibseg::pipeline {
namespace fs = std::filesystem;

namespace {

nlohmann::ordered_json measureZarrLabels(const RunPlan& plan, const std::vector<measure::PhaseValue>& phases,
                                         std::array<double, 3> voxelUm, const measure::MetricsOptions& options) {
  const ZarrLabelSource source(plan.output / "labels.zarr", phases, voxelUm);
  if (source.shape().nz < 2)
    throw Error("labels.zarr holds one slice: the 2D metrics of a single slice read labels.tif "
                "(output.format = tiff)");
  return measureLabels(source, (plan.output / "labels.zarr").string(), "the run (labels.zarr)", options, plan.output);
}

}  // namespace

RunSummary finishRun(const config::ParamSet& params, const RunPlan& plan, OutputFolder& outputFolder,
                     RunResults& results, std::chrono::steady_clock::time_point start, std::ostream& log) {
  writeFractions(plan, results.fractions);
  writeTextFile(plan.output / "parameters_used.toml", config::formatResolvedParameters(params));

  // The last stage: metrics of labels.tif (metrics.json, tables, PyBaMM parameters). Areas and
  // sizes need lengths, so it runs only when the pixel size is known.
  nlohmann::ordered_json measureJson;
  std::string measureLine, measureError;
  if (!plan.measure) {
    measureJson = {{"skipped", "measure.enabled = false"}};
  } else if (plan.pixelSizeNm <= 0) {
    measureJson = {{"skipped", "pixel size unknown (no metadata, input.pixel_size_nm = 0)"}};
    log << "note: the measure stage is skipped: pixel size unknown; set input.pixel_size_nm (or the sheet's "
           "Pixel resolution) to get metrics.json and the profiles along the thickness\n";
  } else try {  // a failure here never costs the run its segmentation (see the catch below)
    const int along = plan.metrics.slabAxis == measure::X   ? results.stack.outputRect.width
                      : plan.metrics.slabAxis == measure::Y ? results.stack.outputRect.height
                                                            : plan.slices;
    if (plan.metrics.slabs > along)
      throw Error("measure.slabs = " + std::to_string(plan.metrics.slabs) + " (" +
                  params.resolved("measure.slabs").origin + "): the aligned volume is only " + std::to_string(along) +
                  " voxels along " + params.text("measure.slab_axis") + "; expected at most that many slabs");
    const auto measureStart = std::chrono::steady_clock::now();
    if (plan.slices == 1)  // a single slice gets the 2D metrics (measure/metrics_2d), said by their own line
      log << "measure : fractions, boundary lengths, slab profiles (one slice: 2D) ...\n";
    else
      log << "measure : " << (plan.metrics.tortuosity ? "fractions, areas, connectivity, tortuosity" : "fractions, areas, connectivity")
          << (plan.metrics.sizes ? ", sizes" : "") << " ...\n";
    std::vector<measure::PhaseValue> phaseValues;
    for (int p = 0; p < plan.phases.count(); ++p) phaseValues.push_back({plan.phases.key(p), plan.phases.values[p]});
    const double xy = plan.pixelSizeNm / 1000.0;
    const std::array<double, 3> voxelUm{xy, xy, plan.sliceThicknessNm / 1000.0};
    auto metricsOptions = plan.metrics;  // the console is told what will be solved, and roughly how long
    metricsOptions.log = [&log](const std::string& line) { log << "measure : " << line << "\n" << std::flush; };
    const auto metrics = plan.omeZarr ? measureZarrLabels(plan, phaseValues, voxelUm, metricsOptions)
                                      : measureLabelFile(plan.output / "labels.tif", phaseValues, voxelUm,
                                                         metricsOptions, plan.output);
    results.timings["measure"] = secondsSince(measureStart);
    measureLine = metricsSummaryLine(metrics);
    const bool thicknessGiven = params.real("input.slice_thickness_nm") > 0;
    measureJson = {{"voxel_size_um", metrics.at("voxel_size_um")},
                   {"voxel_size_z_source", thicknessGiven ? "input.slice_thickness_nm"
                                                          : "the pixel size (input.slice_thickness_nm = 0: slices "
                                                            "assumed as thick as a pixel)"},
                   {"outputs", metricsFileNames()}};
  } catch (const std::exception& e) {
    measureJson = measureFailure(e.what(), plan.output, log);
    measureError = e.what();
  }

  const auto total = segment::combineFractions(results.fractions).fraction;
  const cv::Rect crop(results.stack.outputRect.tl() + plan.cropRect.tl(), results.stack.outputRect.size());
  RunSummary summary{plan.slices, 0, plan.phases.names, total, outputFolder.folder(), results.reused};
  summary.measureError = measureError;
  nlohmann::ordered_json fractionsJson, phasesJson = nlohmann::ordered_json::array();
  for (int p = 0; p < plan.phases.count(); ++p) {
    fractionsJson[plan.phases.key(p)] = total[p];
    const auto& c = plan.phases.coloursRgb[p];
    phasesJson.push_back({{"name", plan.phases.names[p]}, {"key", plan.phases.key(p)},
                          {"value", plan.phases.values[p]}, {"colour", {c[0], c[1], c[2]}}});
  }
  summary.seconds = secondsSince(start);
  results.timings["total"] = summary.seconds;
  const nlohmann::ordered_json run = {
      {"slices", plan.slices},
      {"image_width", plan.series.width()},
      {"image_height", plan.series.height()},
      {"bit_depth", plan.series.bitDepth()},
      {"pixel_size_nm", plan.pixelSizeNm},
      {"slice_thickness_nm", plan.sliceThicknessNm},
      {"data_bar_rows", plan.dataBarRows},
      {"bridged_slices", align::bridgedCount(results.stack.transforms)},
      {"alignment_warning", notAlignedWarning(results.stack.transforms)},  // empty unless probably not aligned
      {"registration_comparison_offset_px", {results.stack.comparisonOffset.x, results.stack.comparisonOffset.y}},
      {"crop_rect_raw", {{"x", plan.cropRect.x}, {"y", plan.cropRect.y}, {"width", plan.cropRect.width}, {"height", plan.cropRect.height}}},
      {"registration_rect_raw", {{"x", plan.registerRect.x}, {"y", plan.registerRect.y}, {"width", plan.registerRect.width}, {"height", plan.registerRect.height}}},
      // The output volume's place in slice 0's frame without the data bar (what `fibseg score` needs).
      {"crop_in_slice0", {{"x", crop.x}, {"y", crop.y}, {"width", crop.width}, {"height", crop.height}}},
      {"crop", {{"x", crop.x}, {"y", crop.y}, {"width", crop.width}, {"height", crop.height}}},
      {"method", plan.classifier ? "classifier" : plan.notebook ? "notebook" : "classical"},
      {"denoise", plan.notebook ? std::string("nlm h=0.04 patch=5 px distance=6 px (notebook method, for Otsu)")
                  : plan.classifier && !plan.learn.denoiseInput ? std::string("none")
                                                                : intensity::describeDenoise(plan.denoise)},
      {"phases", phasesJson},
      // learn.preset = auto: the cross-validated table and the choice the model was trained with
      {"classifier_preset", plan.classifier ? plan.model->presetChoiceText() : std::string()},
      {"otsu_thresholds", results.otsuThresholds},
      {"phase_fractions", fractionsJson},
      {"preview_slice", plan.previewSlice},
      {"preview_step", plan.previewStep},
      {"reused_cache", results.reused},
      {"not_carried_over", results.notCarriedOver},
      {"measure", measureJson},
      {"timings_s", results.timings}};
  writeTextFile(plan.output / "run.json", withWarnings(run, plan.output, outputFolder.folder()).dump(2) + "\n");
  if (plan.report) report::writeReport(plan.output);
  outputFolder.commit();

  char line[256];
  std::snprintf(line, sizeof line, "done: %d slices in %.1f s (%.2f slices/s);", plan.slices, summary.seconds,
                plan.slices / std::max(summary.seconds, 1e-9));
  std::string fractionsText;
  for (int p = 0; p < plan.phases.count(); ++p) {
    char f[96];
    std::snprintf(f, sizeof f, "%s %s %.3f", p ? "," : "", plan.phases.names[p].c_str(), total[p]);
    fractionsText += f;
  }
  if (const int bridged = align::bridgedCount(results.stack.transforms); bridged > 0)
    log << "registration: " << bridged << " of " << plan.slices - 1 << " slice pairs bridged (see the warnings above)\n";
  if (!measureLine.empty()) log << measureLine << "\n";
  log << line << fractionsText << "\n" << "outputs in " << outputFolder.folder().string() << ": " << (plan.omeZarr ? "labels.zarr" : "labels.tif")
      << (plan.slicePngs ? ", segmented/" : "") << ", phase_fractions.csv, transforms.csv, brightness.csv"
      << (plan.align.writeAlignedStack ? (plan.omeZarr ? ", aligned.zarr" : ", aligned.tif") : "")
      << (measureLine.empty() ? "" : ", metrics.json, metrics.csv, metrics_pybamm.json, slab_fractions.csv, slab_interfaces.csv")
      << (plan.report ? ", report.html" : "") << "\n";
  return summary;
}

}  // namespace fibseg::pipeline
