#include "fibseg/pipeline/register_pass.hpp"

#include <tbb/info.h>
#include <tbb/parallel_pipeline.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <optional>

#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/text.hpp"
#include "fibseg/io/png.hpp"
#include "fibseg/pipeline/previews.hpp"
#include "fibseg/pipeline/progress.hpp"
#include "fibseg/pipeline/slice_stream.hpp"

namespace fibseg::pipeline {
using nlohmann::json;

namespace {

// Feeds the slices [from, to) to `chains` (each lies within; a Registrar each), calling
// `seen(z, cropped)` for every slice on any thread and `added(z)` in slice order. Everything that
// needs one slice (read, crop, the registration's shrink and Fourier transform) and the pair with
// the previous slice run in parallel; the comparisons with the running reference in order.
std::vector<align::ChainMeasurements> feedChains(const RunPlan& plan, const std::vector<align::Chain>& chains,
                                                 int from, int to,
                                                 const std::function<void(int, const cv::Mat&)>& seen,
                                                 const std::function<void(int)>& added) {
  std::vector<std::optional<align::Registrar>> registrars(chains.size());
  std::vector<align::ChainMeasurements> measured(chains.size());
  // Prepares the slices and makes the pairs (as every chain's Registrar would: the same parameters).
  const align::Registrar preparer(plan.align.registration, plan.registerRect.size());
  using Prepared = std::shared_ptr<const align::Registrar::Prepared>;
  struct Item {
    int z = 0;
    Prepared prepared, previous;
    align::PairShift withPrevious;
  };
  Prepared last;
  int next = from;
  tbb::parallel_pipeline(
      2 * tbb::info::default_concurrency(),
      sliceIndices(next, to) &
          tbb::make_filter<int, Item>(tbb::filter_mode::parallel,
                                      [&](int z) {
                                        const cv::Mat raw = plan.series.read(z);
                                        const cv::Mat cropped = align::cropSlice(raw, plan.cropRect, plan.series.sliceName(z));
                                        seen(z, cropped);
                                        return Item{z, preparer.prepare(plan.registerRect == plan.cropRect
                                                                                 ? cropped
                                                                                 : align::cropSlice(raw, plan.registerRect, plan.series.sliceName(z))),
                                                    {}, {}};
                                      }) &
          tbb::make_filter<Item, Item>(tbb::filter_mode::serial_in_order,
                                       [&](Item item) {
                                         if (item.z > from) item.previous = last;
                                         last = item.prepared;
                                         return item;
                                       }) &
          tbb::make_filter<Item, Item>(tbb::filter_mode::parallel,
                                       [&](Item item) {
                                         if (item.previous) item.withPrevious = preparer.pairWithPrevious(*item.previous, *item.prepared);
                                         item.previous.reset();
                                         return item;
                                       }) &
          tbb::make_filter<Item, void>(tbb::filter_mode::serial_in_order, [&](const Item& item) {
            for (std::size_t c = 0; c < chains.size(); ++c) {
              const align::Chain& chain = chains[c];
              if (item.z < chain.start() || item.z >= chain.end) continue;
              // Made at the chain's first slice, not up front: each holds Fourier buffers of the
              // registration region, and a long stack has one chain per align.chain_slices.
              if (item.z == chain.start()) registrars[c].emplace(plan.align.registration, plan.registerRect.size());
              registrars[c]->add(*item.prepared, item.z > chain.start() ? &item.withPrevious : nullptr);
              if (item.z + 1 == chain.end) {  // done: its measurements kept, its slices let go
                measured[c] = registrars[c]->measurements(chain.start(), chain.warmUp);
                registrars[c].reset();
              }
            }
            added(item.z);
          }));
  return measured;
}

bool allBrightness(const RunPlan& plan) {
  return intensity::needsBrightnessReference(plan.intensity) &&
         plan.intensity.brightness.reference == intensity::BrightnessReference::StackMedian;
}

void writeRawOrtho(const RunPlan& plan, const OrthoSlices& ortho) {
  io::writePng(plan.output / "preview" / "ortho_xz_raw.png", previewImage(ortho.xz(), plan.previewWidth));
  io::writePng(plan.output / "preview" / "ortho_yz_raw.png", previewImage(ortho.yz(), plan.previewWidth));
}

}  // namespace

RegisterResult registerSlices(const RunPlan& plan, bool terminal, std::ostream& log) {
  RegisterResult result;
  const bool needStats = intensity::needsBrightnessReference(plan.intensity);
  const bool allStats = allBrightness(plan);
  std::vector<intensity::BrightnessStats> stats(needStats ? (allStats ? plan.slices : 1) : 0);
  OrthoSlices ortho(plan.slices, plan.cropRect.size(), plan.series.bitDepth() == 16 ? CV_16U : CV_8U);
  Progress progress(log, "align   ", plan.slices, terminal);
  const auto measured = feedChains(
      plan, registrationChainsOf(plan), 0, plan.slices,
      [&](int z, const cv::Mat& cropped) {
        if (allStats || (needStats && z == 0)) stats[allStats ? z : 0] = intensity::measureBrightness(cropped);
        ortho.add(z, cropped);
      },
      [&](int) { progress.advance(); });
  result.transforms = align::solveRegistration(plan.align.registration, plan.slices, measured, &result.comparisonOffset);
  if (needStats) result.reference = intensity::brightnessReference(stats, plan.intensity.brightness.reference);
  result.seconds = progress.finish();
  writeRawOrtho(plan, ortho);
  return result;
}

ChainResult measureChain(const RunPlan& plan, const align::Chain& chain) {
  ChainResult result;
  const bool needStats = intensity::needsBrightnessReference(plan.intensity);
  const bool allStats = allBrightness(plan);
  if (allStats) result.brightness.resize(chain.size());
  else if (needStats && chain.first == 0) result.brightness.resize(1);
  OrthoSlices ortho(chain.size(), plan.cropRect.size(), plan.series.bitDepth() == 16 ? CV_16U : CV_8U);
  result.measured = feedChains(
      plan, {chain}, chain.start(), chain.end,
      [&](int z, const cv::Mat& cropped) {
        if (z < chain.first) return;  // the chain before measures and shows it
        if (z - chain.first < int(result.brightness.size()))
          result.brightness[z - chain.first] = intensity::measureBrightness(cropped);
        ortho.add(z - chain.first, cropped);
      },
      [](int) {})[0];
  result.xz = ortho.xz(), result.yz = ortho.yz();
  return result;
}

RegisterResult solveChains(const RunPlan& plan, const std::vector<ChainResult>& chains) {
  RegisterResult result;
  std::vector<align::ChainMeasurements> measured;
  std::vector<intensity::BrightnessStats> stats;
  OrthoSlices ortho(plan.slices, plan.cropRect.size(), plan.series.bitDepth() == 16 ? CV_16U : CV_8U);
  for (const ChainResult& chain : chains) {
    measured.push_back(chain.measured);
    stats.insert(stats.end(), chain.brightness.begin(), chain.brightness.end());
    ortho.place(chain.measured.first, chain.xz, chain.yz);
  }
  result.transforms = align::solveRegistration(plan.align.registration, plan.slices, measured, &result.comparisonOffset);
  if (intensity::needsBrightnessReference(plan.intensity))
    result.reference = intensity::brightnessReference(stats, plan.intensity.brightness.reference);
  writeRawOrtho(plan, ortho);
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
