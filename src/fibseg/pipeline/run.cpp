#include "fibseg/pipeline/run.hpp"

#include <tbb/global_control.h>
#include <tbb/info.h>
#include <tbb/parallel_pipeline.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>

#include "fibseg/align/align.hpp"
#include "fibseg/config/load.hpp"
#include "fibseg/config/notebook_sheet.hpp"
#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/core/text.hpp"
#include "fibseg/core/image.hpp"
#include "fibseg/core/phases.hpp"
#include "fibseg/intensity/denoise.hpp"
#include "fibseg/intensity/intensity.hpp"
#include "fibseg/io/png.hpp"
#include "fibseg/io/slice_series.hpp"
#include "fibseg/io/tiff.hpp"
#include "fibseg/learn/learn.hpp"
#include "fibseg/measure/metrics.hpp"
#include "fibseg/pipeline/measure_stage.hpp"
#include "fibseg/pipeline/run_outcome.hpp"
#include "fibseg/pipeline/output_folder.hpp"
#include "fibseg/pipeline/block_view.hpp"
#include "fibseg/pipeline/previews.hpp"
#include "fibseg/pipeline/progress.hpp"
#include "fibseg/pipeline/stage_cache.hpp"
#include "fibseg/report/report.hpp"
#include "fibseg/segment/notebook.hpp"
#include "fibseg/segment/segment.hpp"

namespace fibseg::pipeline {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Stages whose output the cache holds, and so whose parameters make it stale when changed.
const std::vector<std::string> kCachedSections{"input", "align", "intensity"};
constexpr int kMaxPreviewSlices = 100;  // the report's slider; more would bloat report.html

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string numbered(const std::string& stem, int z) {
  char name[64];
  std::snprintf(name, sizeof name, "%s_%04d.png", stem.c_str(), z);
  return name;
}

/// First filter of a slice pipeline: 0, 1, ..., slices - 1, in order.
auto sliceIndices(int& next, int slices) {
  return tbb::make_filter<void, int>(tbb::filter_mode::serial_in_order, [&next, slices](tbb::flow_control& fc) {
    if (next >= slices) fc.stop();
    return next++;
  });
}

/// The concrete things every pass needs, derived once from the parameters and the first slice.
struct RunPlan {
  fs::path input, output, cacheFolder;
  io::SliceSeries series;
  int slices = 0;
  double pixelSizeNm = 0, sliceThicknessNm = 0;
  align::AlignParams align;
  intensity::IntensityParams intensity;
  intensity::DenoiseParams denoise;  // what segmentation sees (not aligned.tif nor the cache)
  segment::SegmentParams segment;
  PhaseSet phases;
  bool classifier = false;
  bool notebook = false;  // segment.method = notebook: the original notebook's method
  segment::NotebookParams notebookParams;
  learn::LearnParams learn;
  std::optional<learn::Classifier> model;  // loaded up front: a wrong model fails before any work
  bool slicePngs = true, report = true;
  bool measure = true;  // measure.enabled: the metrics stage at the end
  measure::MetricsOptions metrics;
  int previewWidth = 512, previewStep = 1, previewSlice = 0;
  int dataBarRows = 0;
  cv::Rect cropRect;      // in raw slice pixels
  cv::Rect registerRect;  // in raw slice pixels: what registration compares
};

/// Slice spacing in slice-plane pixels, for the 3D views: 1 when the sizes are unknown.
double depthPerSlice(const RunPlan& plan) {
  return plan.pixelSizeNm > 0 && plan.sliceThicknessNm > 0 ? plan.sliceThicknessNm / plan.pixelSizeNm : 1.0;
}

/// view3d_grey.png: the aligned, corrected stack as a block (8-bit grey shown as grey).
void writeGreyBlock(const RunPlan& plan, const BlockFaces& faces) {
  const auto bgr = [](const cv::Mat& face) {
    cv::Mat eight, out;
    if (face.depth() == CV_16U) face.convertTo(eight, CV_8U, 1.0 / 257);
    else eight = face;
    cv::cvtColor(eight, out, cv::COLOR_GRAY2BGR);
    return out;
  };
  io::writePng(plan.output / "view3d_grey.png", renderBlock(bgr(faces.front()), bgr(faces.top()), bgr(faces.side()),
                                                            depthPerSlice(plan), plan.previewWidth, false));
}

/// What passes 1-2 produce and pass 3 (or a later `--from segment`) needs; saved as the cache.
struct AlignedStack {
  std::vector<align::SliceTransform> transforms;
  cv::Point2d comparisonOffset;  // removed from every comparison by the registration (px)
  cv::Rect outputRect;  // in the cropped slice 0's frame
  std::vector<intensity::SliceBrightness> brightness;
  std::vector<std::uint64_t> histogram;  // grey levels of the corrected slices
  int stackOtsuThreshold = 0;            // Otsu of that histogram (segment.otsu_scope = stack)
  int bitDepth = 8;
};

json toJson(const AlignedStack& s, const std::string& fingerprint, const std::string& parameters) {
  json transforms = json::array();
  for (const auto& t : s.transforms) transforms.push_back({t.shift.x, t.shift.y, t.peak, t.flagged, t.quality});
  json brightness = json::array();
  for (const auto& b : s.brightness)
    brightness.push_back({b.medianBefore, b.p05Before, b.p95Before, b.medianAfter, b.p05After, b.p95After});
  return {{"fingerprint", fingerprint},
          {"parameters", parameters},
          {"output_rect", {s.outputRect.x, s.outputRect.y, s.outputRect.width, s.outputRect.height}},
          {"bit_depth", s.bitDepth},
          {"stack_otsu_threshold", s.stackOtsuThreshold},
          {"transforms", transforms},
          {"comparison_offset", {s.comparisonOffset.x, s.comparisonOffset.y}},
          {"brightness", brightness},
          {"histogram", s.histogram}};
}

AlignedStack fromJson(const json& j) {
  AlignedStack s;
  for (const auto& t : j.at("transforms"))
    s.transforms.push_back({{t[0].get<double>(), t[1].get<double>()}, t[2].get<double>(), t[3].get<bool>(),
                            t.size() > 4 ? t[4].get<double>() : 0.0});
  if (j.contains("comparison_offset"))
    s.comparisonOffset = {j["comparison_offset"][0].get<double>(), j["comparison_offset"][1].get<double>()};
  for (const auto& b : j.at("brightness"))
    s.brightness.push_back({b[0], b[1], b[2], b[3], b[4], b[5]});
  const auto& r = j.at("output_rect");
  s.outputRect = cv::Rect(r[0], r[1], r[2], r[3]);
  s.bitDepth = j.at("bit_depth");
  s.stackOtsuThreshold = j.at("stack_otsu_threshold");
  s.histogram = j.at("histogram").get<std::vector<std::uint64_t>>();
  return s;
}

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
  plan.report = params.boolean("output.report");
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

/// The staging folder's sub-folders (refusing an earlier run is OutputFolder's job).
void prepareOutputFolder(const RunPlan& plan) {
  ensureWritableFolder(plan.cacheFolder);
  ensureWritableFolder(plan.output / "preview");
}

// ------------------------------------------------------------------ pass 1: register

struct RegisterResult {
  std::vector<align::SliceTransform> transforms;
  cv::Point2d comparisonOffset;
  intensity::BrightnessStats reference;
  double seconds = 0;
};

RegisterResult registerSlices(const RunPlan& plan, const RunOptions& options, std::ostream& log) {
  RegisterResult result;
  const bool needStats = intensity::needsBrightnessReference(plan.intensity);
  const bool allStats = needStats && plan.intensity.brightness.reference == intensity::BrightnessReference::StackMedian;
  std::vector<intensity::BrightnessStats> stats(needStats ? (allStats ? plan.slices : 1) : 0);
  OrthoSlices ortho(plan.slices, plan.cropRect.size(), plan.series.bitDepth() == 16 ? CV_16U : CV_8U);
  align::Registrar registrar(plan.align.registration, plan.registerRect.size());
  Progress progress(log, "align   ", plan.slices, options.terminal);

  int next = 0;
  struct Item {
    int z;
    std::shared_ptr<const align::Registrar::Prepared> prepared;
  };
  // Everything that needs one slice only (read, crop, the registration's shrink and Fourier
  // transform) runs in parallel; the comparisons with earlier slices run in order.
  tbb::parallel_pipeline(
      2 * tbb::info::default_concurrency(),
      sliceIndices(next, plan.slices) &
          tbb::make_filter<int, Item>(tbb::filter_mode::parallel,
                                      [&](int z) {
                                        const cv::Mat raw = plan.series.read(z);
                                        const cv::Mat cropped = align::cropSlice(raw, plan.cropRect, plan.series.sliceName(z));
                                        if (allStats || (needStats && z == 0))
                                          stats[allStats ? z : 0] = intensity::measureBrightness(cropped);
                                        ortho.add(z, cropped);
                                        return Item{z, registrar.prepare(plan.registerRect == plan.cropRect
                                                                             ? cropped
                                                                             : align::cropSlice(raw, plan.registerRect, plan.series.sliceName(z)))};
                                      }) &
          tbb::make_filter<Item, void>(tbb::filter_mode::serial_in_order, [&](const Item& item) {
            registrar.add(*item.prepared);
            progress.advance();
          }));
  result.transforms = registrar.finalise(&result.comparisonOffset);
  if (needStats) result.reference = intensity::brightnessReference(stats, plan.intensity.brightness.reference);
  result.seconds = progress.finish();

  io::writePng(plan.output / "preview" / "ortho_xz_raw.png", previewImage(ortho.xz(), plan.previewWidth));
  io::writePng(plan.output / "preview" / "ortho_yz_raw.png", previewImage(ortho.yz(), plan.previewWidth));
  return result;
}

void writeTransforms(const RunPlan& plan, const std::vector<align::SliceTransform>& transforms) {
  std::string csv = "slice,name,dx,dy,peak,flagged,quality\n";
  char row[256];
  for (int z = 0; z < plan.slices; ++z) {
    const auto& t = transforms.at(z);
    std::snprintf(row, sizeof row, ",%.4f,%.4f,%.4f,%d,%.3f\n", t.shift.x, t.shift.y, t.peak, t.flagged ? 1 : 0,
                  t.quality);
    csv += std::to_string(z) + "," + csvField(plan.series.sliceName(z)) + row;
  }
  writeTextFile(plan.output / "transforms.csv", csv);
}

// When more than a quarter of the pairs are bridged, what to tell the user (console and run.json);
// empty otherwise.
std::string notAlignedWarning(const std::vector<align::SliceTransform>& transforms) {
  const int bridged = align::bridgedCount(transforms);
  if (transforms.size() < 2 || 4 * bridged <= int(transforms.size()) - 1) return "";
  return std::to_string(bridged) + " of " + std::to_string(transforms.size() - 1) +
         " slice pairs were bridged: the stack is probably NOT aligned. Check transforms.csv and the report; "
         "set a registration region on structure that stays from slice to slice (align.register_x/_y/_width/"
         "_height), a wider band-pass for noisy images (align.bandpass_fine 2-3), or a lower align.min_quality "
         "(at your own risk: 1 is what chance gives)";
}

// Every bridged slice is a guess, said as a warning; many of them mean the stack is not aligned.
void warnAboutBridges(const RunPlan& plan, const config::ParamSet& params,
                      const std::vector<align::SliceTransform>& transforms, std::ostream& log) {
  for (int z = 1; z < int(transforms.size()); ++z) {
    if (!transforms[z].flagged) continue;
    char quality[64];
    std::snprintf(quality, sizeof quality, "%.2f < align.min_quality %.2f", transforms[z].quality,
                  params.real("align.min_quality"));
    log << "warning: slice " << z << " (" << plan.series.sliceName(z)
        << ") bridged: no trusted comparison measured its step (quality with the previous slice " << quality
        << "); its step is guessed from its neighbours\n";
  }
  if (const std::string warning = notAlignedWarning(transforms); !warning.empty()) log << "warning: " << warning << "\n";
}

// Said whenever the registration removed one: it moves the whole drift (lco: ~5 px over 30 slices).
void reportComparisonOffset(cv::Point2d offset, std::ostream& log) {
  if (offset == cv::Point2d()) return;
  char text[256];
  std::snprintf(text, sizeof text,
                "align: every comparison carried the same offset (%.3f, %.3f) px, whatever slices it spanned "
                "(significant at 3 sigma); removed from the drift (run.json registration_comparison_offset_px)\n",
                offset.x, offset.y);
  log << text;
}

// ------------------------------------------------------------------ pass 2: align + correct

double alignAndCorrect(const RunPlan& plan, const RunOptions& options, const RegisterResult& registered,
                       AlignedStack& stack, std::ostream& log) {
  const auto shifts = align::shiftsOf(registered.transforms);
  stack.transforms = registered.transforms;
  stack.comparisonOffset = registered.comparisonOffset;
  stack.outputRect = align::outputRect(shifts, plan.cropRect.size(), plan.align.crop);
  stack.bitDepth = plan.series.bitDepth();
  stack.brightness.resize(plan.slices);
  segment::GreyHistogram histogram(stack.bitDepth);

  io::TiffStackOptions tiffOptions{.width = stack.outputRect.width, .height = stack.outputRect.height,
                                   .bitDepth = stack.bitDepth, .slices = plan.slices,
                                   .pixelSizeNm = plan.pixelSizeNm, .sliceSpacingNm = plan.sliceThicknessNm};
  io::TiffStackWriter corrected(plan.cacheFolder / "corrected.tif", tiffOptions);
  std::optional<io::TiffStackWriter> aligned;
  if (plan.align.writeAlignedStack) aligned.emplace(plan.output / "aligned.tif", tiffOptions);
  const int type = stack.bitDepth == 16 ? CV_16U : CV_8U;
  OrthoSlices orthoAligned(plan.slices, stack.outputRect.size(), type);
  BlockFaces greyBlock(plan.slices, stack.outputRect.size(), type);
  Progress progress(log, "correct ", plan.slices, options.terminal);

  struct Item {
    int z;
    cv::Mat aligned, corrected;
    segment::GreyHistogram histogram{8};
  };
  int next = 0;
  tbb::parallel_pipeline(
      2 * tbb::info::default_concurrency(),
      sliceIndices(next, plan.slices) &
          tbb::make_filter<int, Item>(
              tbb::filter_mode::parallel,
              [&](int z) {
                const cv::Mat raw = plan.series.read(z);
                const cv::Mat cropped = align::cropSlice(raw, plan.cropRect, plan.series.sliceName(z));
                Item item{z, align::applyShift(cropped, shifts[z], stack.outputRect), {}, segment::GreyHistogram(stack.bitDepth)};
                auto result = intensity::correctIntensity(item.aligned, registered.reference, plan.intensity);
                item.corrected = std::move(result.image);
                stack.brightness[z] = result.brightness;
                // Stack-wide Otsu thresholds what segmentation sees: the denoised slices.
                item.histogram.add(plan.segment.otsuScope == segment::OtsuScope::Stack
                                       ? intensity::denoise(item.corrected, plan.denoise)
                                       : item.corrected);
                orthoAligned.add(z, item.corrected);
                greyBlock.add(z, item.corrected);
                if (z % plan.previewStep == 0)
                  io::writePng(plan.output / "preview" / numbered("grey", z), previewImage(item.corrected, plan.previewWidth));
                return item;
              }) &
          tbb::make_filter<Item, void>(tbb::filter_mode::serial_in_order, [&](const Item& item) {
            if (aligned) aligned->append(item.aligned);
            corrected.append(item.corrected);
            histogram.merge(item.histogram);
            progress.advance();
          }));
  corrected.finish();
  if (aligned) aligned->finish();
  stack.histogram = histogram.counts();
  stack.stackOtsuThreshold = segment::otsuThreshold(histogram);
  writeGreyBlock(plan, greyBlock);
  io::writePng(plan.output / "preview" / "ortho_xz_aligned.png", previewImage(orthoAligned.xz(), plan.previewWidth));
  io::writePng(plan.output / "preview" / "ortho_yz_aligned.png", previewImage(orthoAligned.yz(), plan.previewWidth));
  return progress.finish();
}

void writeBrightnessAndHistogram(const RunPlan& plan, const AlignedStack& stack) {
  std::string csv = "slice,median_before,p05_before,p95_before,median_after,p05_after,p95_after\n";
  char row[256];
  for (int z = 0; z < plan.slices; ++z) {
    const auto& b = stack.brightness.at(z);
    std::snprintf(row, sizeof row, "%d,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f\n", z, b.medianBefore, b.p05Before,
                  b.p95Before, b.medianAfter, b.p05After, b.p95After);
    csv += row;
  }
  writeTextFile(plan.output / "brightness.csv", csv);

  std::string histogram = "grey,count\n";
  for (std::size_t g = 0; g < stack.histogram.size(); ++g)
    if (stack.histogram[g]) histogram += std::to_string(g) + "," + std::to_string(stack.histogram[g]) + "\n";
  writeTextFile(plan.output / "preview" / "histogram.csv", histogram);
}

// ------------------------------------------------------------------ pass 3: segment

struct SegmentResult {
  std::vector<segment::PhaseFractions> fractions;
  std::vector<int> otsuThresholds;  // one (stack) or one per slice; empty for the classifier
  double seconds = 0;
};

SegmentResult segmentStack(const RunPlan& plan, const RunOptions& options, const AlignedStack& stack,
                           std::ostream& log) {
  SegmentResult result;
  result.fractions.resize(plan.slices);
  const std::optional<learn::Classifier>& classifier = plan.model;
  int stackThreshold = -1;
  if (plan.classifier) {
    // The classifier needs no threshold.
  } else if (plan.notebook) {
    result.otsuThresholds.resize(plan.slices);  // the notebook takes Otsu per slice
  } else if (plan.segment.otsuScope == segment::OtsuScope::Stack) {
    stackThreshold = stack.stackOtsuThreshold;
    result.otsuThresholds.push_back(stackThreshold);
  } else {
    result.otsuThresholds.resize(plan.slices);
  }

  const fs::path pngFolder = plan.output / "segmented.partial";
  if (plan.slicePngs) {
    std::error_code ec;
    fs::remove_all(pngFolder, ec);
    ensureWritableFolder(pngFolder);
  }
  io::TiffStackOptions labelOptions{.width = stack.outputRect.width, .height = stack.outputRect.height,
                                    .bitDepth = 8, .slices = plan.slices, .pixelSizeNm = plan.pixelSizeNm,
                                    .sliceSpacingNm = plan.sliceThicknessNm, .deflate = true};
  io::TiffStackWriter labelsTiff(plan.output / "labels.tif", labelOptions);
  std::vector<std::unique_ptr<io::TiffStackWriter>> probabilityTiffs;
  if (classifier && plan.learn.writeProbabilities)
    for (int p = 0; p < plan.phases.count(); ++p)
      probabilityTiffs.push_back(std::make_unique<io::TiffStackWriter>(
          plan.output / ("probability_" + plan.phases.key(p) + ".tif"), labelOptions));
  OrthoSlices orthoLabels(plan.slices, stack.outputRect.size(), CV_8U);
  BlockFaces labelBlock(plan.slices, stack.outputRect.size(), CV_8U);
  io::TiffPageReader corrected(plan.cacheFolder / "corrected.tif");
  if (corrected.pages() != plan.slices)
    throw Error((plan.cacheFolder / "corrected.tif").string() + ": " + std::to_string(corrected.pages()) +
                " slices, expected " + std::to_string(plan.slices) + "; run without --from");
  Progress progress(log, "segment ", plan.slices, options.terminal);

  struct Item {
    int z;
    cv::Mat slice, labelImage;
    std::vector<cv::Mat> probabilities;
    std::optional<learn::Prediction> prediction;  // made in order (a classifier with z context)
  };
  auto asTrained = [&](const cv::Mat& slice) {
    return plan.learn.denoiseInput && !slice.empty() ? intensity::denoise(slice, plan.denoise) : slice;
  };
  // A classifier with z context (learn.z_context) also sees the aligned slices above and below:
  // the stack goes through it in order, so each slice's features serve its neighbours too.
  const bool withNeighbours = classifier && classifier->needsNeighbours();
  if (withNeighbours && plan.slices < 2)
    throw Error("learn.model " + plan.learn.model.string() + " was trained with learn.z_context = " +
                classifier->featureSpec().zContext + ", which needs each slice's neighbours; the input has " +
                std::to_string(plan.slices) + " slice; expected a stack, or a model trained with learn.z_context = none");
  std::deque<learn::Prediction> madeInOrder;
  std::optional<learn::StackPredictor> inOrder;
  if (withNeighbours)
    inOrder.emplace(*classifier, !probabilityTiffs.empty(),
                    [&](int, learn::Prediction prediction) { madeInOrder.push_back(std::move(prediction)); });
  std::deque<cv::Mat> fedSlices;  // as the classifier saw them, for the refinement
  int next = 0, fed = 0;
  tbb::parallel_pipeline(
      2 * tbb::info::default_concurrency(),
      tbb::make_filter<void, Item>(tbb::filter_mode::serial_in_order,
                                   [&](tbb::flow_control& fc) {
                                     if (next >= plan.slices) {
                                       fc.stop();
                                       return Item{};
                                     }
                                     const int z = next++;
                                     if (!withNeighbours) return Item{z, corrected.read(z), {}, {}, {}};
                                     while (madeInOrder.empty()) {
                                       if (fed < plan.slices) {
                                         fedSlices.push_back(asTrained(corrected.read(fed++)));
                                         inOrder->add(fedSlices.back());
                                       } else {
                                         inOrder->finish();
                                       }
                                     }
                                     Item item{z, std::move(fedSlices.front()), {}, {}, std::move(madeInOrder.front())};
                                     fedSlices.pop_front();
                                     madeInOrder.pop_front();
                                     return item;
                                   }) &
          tbb::make_filter<Item, Item>(
              tbb::filter_mode::parallel,
              [&](Item item) {
                const int z = item.z;
                cv::Mat labels;
                if (classifier) {
                  // With z context the slice was predicted in order and is already as trained.
                  const cv::Mat seen = item.prediction ? item.slice : asTrained(item.slice);
                  auto prediction = item.prediction ? std::move(*item.prediction)
                                                    : classifier->predict(seen, !probabilityTiffs.empty());
                  if (plan.learn.refine.bandPx > 0)  // here, in parallel with the next slices' prediction
                    prediction.labels =
                        learn::refineBoundaries(prediction.labels, seen, plan.learn.refine, plan.phases.count());
                  labels = prediction.labels;
                  for (const auto& p : prediction.probabilities) {
                    cv::Mat eight;
                    p.convertTo(eight, CV_8U, 255.0);
                    item.probabilities.push_back(eight);
                  }
                } else if (plan.notebook) {
                  auto segmentation = segment::segmentLikeNotebook(item.slice, plan.notebookParams);
                  labels = segmentation.labels;
                  // Otsu on the denoised 0..1 scale, recorded on the 8-bit grey scale of the histogram
                  result.otsuThresholds[z] = int(std::lround(segmentation.camThreshold * 255));
                  if (z == plan.previewSlice) {
                    io::writePng(plan.output / "preview" / "gabor_response.png",
                                 previewImage(segmentation.gaborResponse, plan.previewWidth));
                    io::writePng(plan.output / "preview" / "pore_mask.png",
                                 previewImage(labels == Pore, plan.previewWidth, true));
                  }
                } else {
                  auto segmentation = segment::segmentSlice(item.slice, intensity::denoise(item.slice, plan.denoise),
                                                            plan.segment, stackThreshold);
                  labels = segmentation.labels;
                  if (stackThreshold < 0) result.otsuThresholds[z] = segmentation.camThreshold;
                  if (z == plan.previewSlice) {
                    cv::Mat response;
                    cv::normalize(segmentation.gaborResponse, response, 0, 255, cv::NORM_MINMAX, CV_8U);
                    io::writePng(plan.output / "preview" / "gabor_response.png", previewImage(response, plan.previewWidth));
                    io::writePng(plan.output / "preview" / "pore_mask.png",
                                 previewImage(labels == Pore, plan.previewWidth, true));
                  }
                }
                result.fractions[z] = segment::phaseFractions(labels, plan.phases.count());
                orthoLabels.add(z, labels);
                labelBlock.add(z, labels);
                item.labelImage = segment::labelImage(labels, plan.phases.values);
                if (plan.slicePngs) {
                  io::writePng(pngFolder / numbered("labels", z), item.labelImage);
                  io::writePng(pngFolder / numbered("colour", z), segment::colourLabels(labels, plan.phases.coloursRgb));
                }
                if (z % plan.previewStep == 0)
                  io::writePng(plan.output / "preview" / numbered("labels", z), previewImage(labels, plan.previewWidth, true));
                item.slice.release();
                return item;
              }) &
          tbb::make_filter<Item, void>(tbb::filter_mode::serial_in_order, [&](const Item& item) {
            labelsTiff.append(item.labelImage);
            for (std::size_t p = 0; p < probabilityTiffs.size(); ++p) probabilityTiffs[p]->append(item.probabilities[p]);
            progress.advance();
          }));
  labelsTiff.finish();
  for (auto& tiff : probabilityTiffs) tiff->finish();
  if (plan.slicePngs) {
    // The slice PNGs appear all at once, replacing an earlier run's.
    std::error_code ec;
    fs::remove_all(plan.output / "segmented", ec);
    fs::rename(pngFolder, plan.output / "segmented", ec);
    if (ec) throw Error("cannot move " + pngFolder.string() + " to " + (plan.output / "segmented").string() + ": " + ec.message());
  }
  const auto colour = [&](const cv::Mat& face) { return segment::colourLabels(face, plan.phases.coloursRgb); };
  io::writePng(plan.output / "view3d_labels.png",
               renderBlock(colour(labelBlock.front()), colour(labelBlock.top()), colour(labelBlock.side()),
                           depthPerSlice(plan), plan.previewWidth, true));
  io::writePng(plan.output / "preview" / "ortho_xz_labels.png", previewImage(orthoLabels.xz(), plan.previewWidth, true));
  io::writePng(plan.output / "preview" / "ortho_yz_labels.png", previewImage(orthoLabels.yz(), plan.previewWidth, true));
  result.seconds = progress.finish();
  return result;
}

/// One column per phase, headed by its key (lower-case name: pore, se, cam by default).
void writeFractions(const RunPlan& plan, const SegmentResult& segmented) {
  std::string csv = "slice";
  for (int p = 0; p < plan.phases.count(); ++p) csv += "," + csvField(plan.phases.key(p));
  csv += "\n";
  char cell[32];
  auto addRow = [&](const std::string& first, const std::vector<double>& f) {
    csv += first;
    for (double v : f) {
      std::snprintf(cell, sizeof cell, ",%.5f", v);
      csv += cell;
    }
    csv += "\n";
  };
  for (int z = 0; z < plan.slices; ++z) addRow(std::to_string(z), segmented.fractions[z].fraction);
  addRow("total", segment::combineFractions(segmented.fractions).fraction);
  writeTextFile(plan.output / "phase_fractions.csv", csv);
}

}  // namespace

RunSummary runPipeline(const config::ParamSet& params, const RunOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  std::ostream& log = options.log ? *options.log : std::cerr;
  params.requireComplete();
  if (!options.from.empty() && options.from != "segment")
    throw Error("--from " + options.from + ": expected 'segment' (the only stage whose input is cached)");
  const int threads = static_cast<int>(params.integer("output.threads"));
  std::optional<tbb::global_control> limit;
  if (threads > 0) limit.emplace(tbb::global_control::max_allowed_parallelism, threads);

  RunPlan plan = makePlan(params);
  // Every output of this run goes to the staging folder, switched in whole by commit() at the end.
  OutputFolder outputFolder(plan.output, {.replaceEarlierRun = options.overwrite || !options.from.empty(),
                                          .keepCache = options.from == "segment"}, log);
  plan.output = outputFolder.staging();
  plan.cacheFolder = plan.output / "cache";
  prepareOutputFolder(plan);
  log << "fibseg run: " << plan.slices << " slices of " << plan.series.width() << "x" << plan.series.height()
      << " (" << plan.series.bitDepth() << "-bit) from " << plan.input.string() << " -> " << outputFolder.folder().string() << "\n";
  if (plan.pixelSizeNm <= 0) log << "note: pixel size unknown (no metadata, input.pixel_size_nm = 0): volumes are in px\n";

  // Pass 1 and 2, unless a matching cache lets `--from segment` skip them.
  const std::string fingerprint = stageFingerprint(plan.input, params, kCachedSections);
  const std::string cachedParameters = describeParameterValues(params, kCachedSections);
  const fs::path cacheJson = plan.cacheFolder / "corrected.json";
  AlignedStack stack;
  // ordered_json: run.json keeps the order written here (stages in pipeline order), not sorted.
  nlohmann::ordered_json timings;
  bool reused = false;
  if (options.from == "segment") {
    std::ifstream in(cacheJson);
    const json cache = in ? json::parse(in, nullptr, false) : json();
    if (cache.is_object() && cache.value("fingerprint", "") == fingerprint && fs::exists(plan.cacheFolder / "corrected.tif")) {
      stack = fromJson(cache);
      reused = true;
      log << "reusing the aligned, corrected stack in " << (outputFolder.folder() / "cache").string() << "\n";
    } else {
      log << "the cache in " << (outputFolder.folder() / "cache").string()
          << (cache.is_object() ? " was made from other input or parameters" : " is missing")
          << "; running every stage\n";
    }
  }
  if (!reused) {
    std::error_code ec;
    fs::remove(cacheJson, ec);  // stale from here on
    const RegisterResult registered = registerSlices(plan, options, log);
    writeTransforms(plan, registered.transforms);
    warnAboutBridges(plan, params, registered.transforms, log);
    reportComparisonOffset(registered.comparisonOffset, log);
    timings["read_crop_register"] = registered.seconds;
    timings["align_correct"] = alignAndCorrect(plan, options, registered, stack, log);
    writeBrightnessAndHistogram(plan, stack);
    writeTextFile(cacheJson, toJson(stack, fingerprint, cachedParameters).dump() + "\n");
  }

  const SegmentResult segmented = segmentStack(plan, options, stack, log);
  timings["segment_write"] = segmented.seconds;
  writeFractions(plan, segmented);
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
    const int along = plan.metrics.slabAxis == measure::X   ? stack.outputRect.width
                      : plan.metrics.slabAxis == measure::Y ? stack.outputRect.height
                                                            : plan.slices;
    if (plan.metrics.slabs > along)
      throw Error("measure.slabs = " + std::to_string(plan.metrics.slabs) + " (" +
                  params.resolved("measure.slabs").origin + "): the aligned volume is only " + std::to_string(along) +
                  " voxels along " + params.text("measure.slab_axis") + "; expected at most that many slabs");
    const auto measureStart = std::chrono::steady_clock::now();
    log << "measure : " << (plan.metrics.tortuosity ? "fractions, areas, connectivity, tortuosity" : "fractions, areas, connectivity")
        << (plan.metrics.sizes ? ", sizes" : "") << " ...\n";
    std::vector<measure::PhaseValue> phaseValues;
    for (int p = 0; p < plan.phases.count(); ++p) phaseValues.push_back({plan.phases.key(p), plan.phases.values[p]});
    const double xy = plan.pixelSizeNm / 1000.0;
    auto metricsOptions = plan.metrics;  // the console is told what will be solved, and roughly how long
    metricsOptions.log = [&log](const std::string& line) { log << "measure : " << line << "\n" << std::flush; };
    const auto metrics = measureLabelFile(plan.output / "labels.tif", phaseValues,
                                          std::array<double, 3>{xy, xy, plan.sliceThicknessNm / 1000.0}, metricsOptions,
                                          plan.output);
    timings["measure"] = secondsSince(measureStart);
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

  const auto total = segment::combineFractions(segmented.fractions).fraction;
  const cv::Rect crop(stack.outputRect.tl() + plan.cropRect.tl(), stack.outputRect.size());
  RunSummary summary{plan.slices, 0, plan.phases.names, total, outputFolder.folder(), reused};
  summary.measureError = measureError;
  nlohmann::ordered_json fractionsJson, phasesJson = nlohmann::ordered_json::array();
  for (int p = 0; p < plan.phases.count(); ++p) {
    fractionsJson[plan.phases.key(p)] = total[p];
    const auto& c = plan.phases.coloursRgb[p];
    phasesJson.push_back({{"name", plan.phases.names[p]}, {"key", plan.phases.key(p)},
                          {"value", plan.phases.values[p]}, {"colour", {c[0], c[1], c[2]}}});
  }
  summary.seconds = secondsSince(start);
  timings["total"] = summary.seconds;
  const nlohmann::ordered_json run = {
      {"slices", plan.slices},
      {"image_width", plan.series.width()},
      {"image_height", plan.series.height()},
      {"bit_depth", plan.series.bitDepth()},
      {"pixel_size_nm", plan.pixelSizeNm},
      {"slice_thickness_nm", plan.sliceThicknessNm},
      {"data_bar_rows", plan.dataBarRows},
      {"bridged_slices", align::bridgedCount(stack.transforms)},
      {"alignment_warning", notAlignedWarning(stack.transforms)},  // empty unless probably not aligned
      {"registration_comparison_offset_px", {stack.comparisonOffset.x, stack.comparisonOffset.y}},
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
      {"otsu_thresholds", segmented.otsuThresholds},
      {"phase_fractions", fractionsJson},
      {"preview_slice", plan.previewSlice},
      {"preview_step", plan.previewStep},
      {"reused_cache", reused},
      {"measure", measureJson},
      {"timings_s", timings}};
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
  if (const int bridged = align::bridgedCount(stack.transforms); bridged > 0)
    log << "registration: " << bridged << " of " << plan.slices - 1 << " slice pairs bridged (see the warnings above)\n";
  if (!measureLine.empty()) log << measureLine << "\n";
  log << line << fractionsText << "\n" << "outputs in " << outputFolder.folder().string() << ": labels.tif, segmented/, phase_fractions.csv, "
      << "transforms.csv, brightness.csv" << (plan.align.writeAlignedStack ? ", aligned.tif" : "")
      << (measureLine.empty() ? "" : ", metrics.json, metrics.csv, metrics_pybamm.json, slab_fractions.csv, slab_interfaces.csv")
      << (plan.report ? ", report.html" : "") << "\n";
  return summary;
}

}  // namespace fibseg::pipeline
