#include "fibseg/pipeline/register_pass.hpp"

#include <tbb/info.h>
#include <tbb/parallel_pipeline.h>

#include <cstdio>
#include <memory>

#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/text.hpp"
#include "fibseg/io/png.hpp"
#include "fibseg/pipeline/previews.hpp"
#include "fibseg/pipeline/progress.hpp"
#include "fibseg/pipeline/slice_stream.hpp"

namespace fibseg::pipeline {
using nlohmann::json;

RegisterResult registerSlices(const RunPlan& plan, bool terminal, std::ostream& log) {
  RegisterResult result;
  const bool needStats = intensity::needsBrightnessReference(plan.intensity);
  const bool allStats = needStats && plan.intensity.brightness.reference == intensity::BrightnessReference::StackMedian;
  std::vector<intensity::BrightnessStats> stats(needStats ? (allStats ? plan.slices : 1) : 0);
  OrthoSlices ortho(plan.slices, plan.cropRect.size(), plan.series.bitDepth() == 16 ? CV_16U : CV_8U);
  align::Registrar registrar(plan.align.registration, plan.registerRect.size());
  Progress progress(log, "align   ", plan.slices, terminal);

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

json toJson(const RegisterResult& r) {
  json transforms = json::array();
  for (const auto& t : r.transforms) transforms.push_back({t.shift.x, t.shift.y, t.peak, t.flagged, t.quality});
  return {{"transforms", transforms},
          {"comparison_offset", {r.comparisonOffset.x, r.comparisonOffset.y}},
          {"reference", {{"quantiles", r.reference.quantiles}, {"bit_depth", r.reference.bitDepth}}},
          {"seconds", r.seconds}};
}

RegisterResult registerResultFromJson(const json& j) {
  RegisterResult r;
  for (const auto& t : j.at("transforms"))
    r.transforms.push_back({{t[0].get<double>(), t[1].get<double>()}, t[2].get<double>(), t[3].get<bool>(), t[4].get<double>()});
  r.comparisonOffset = {j.at("comparison_offset")[0].get<double>(), j.at("comparison_offset")[1].get<double>()};
  r.reference.quantiles = j.at("reference").at("quantiles").get<std::vector<double>>();
  r.reference.bitDepth = j.at("reference").at("bit_depth").get<int>();
  r.seconds = j.value("seconds", 0.0);
  return r;
}

}  // namespace fibseg::pipeline
