// The local executor: the run's graph (run_graph.hpp) on this machine's threads. Each pass
// streams slices through a bounded TBB pipeline (memory does not grow with the number of
// slices) with all cores busy, calling the per-slice task functions; volumes are written in
// slice order by one stage; the reductions run between the passes.
#include <tbb/global_control.h>
#include <tbb/info.h>
#include <tbb/parallel_pipeline.h>

#include <chrono>
#include <deque>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/pipeline/correct_pass.hpp"
#include "fibseg/pipeline/finish_run.hpp"
#include "fibseg/pipeline/output_folder.hpp"
#include "fibseg/pipeline/progress.hpp"
#include "fibseg/pipeline/register_pass.hpp"
#include "fibseg/pipeline/run.hpp"
#include "fibseg/pipeline/run_graph.hpp"
#include "fibseg/pipeline/segment_pass.hpp"
#include "fibseg/pipeline/slice_stream.hpp"
#include "fibseg/pipeline/stack_output.hpp"
#include "fibseg/pipeline/stage_cache.hpp"

namespace fibseg::pipeline {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

/// Pass 2 over every slice: corrected slices to the cache (and the aligned volume), then the
/// histogram reduction. Returns the pass's seconds.
double alignAndCorrect(const RunPlan& plan, const RunOptions& options, const RegisterResult& registered,
                       AlignedStack& stack, std::ostream& log) {
  stack = startAlignedStack(plan, registered);
  segment::GreyHistogram histogram(stack.bitDepth);
  io::TiffStackOptions cacheOptions{.width = stack.outputRect.width, .height = stack.outputRect.height,
                                    .bitDepth = stack.bitDepth, .slices = plan.slices,
                                    .pixelSizeNm = plan.pixelSizeNm, .sliceSpacingNm = plan.sliceThicknessNm};
  io::TiffStackWriter corrected(plan.cacheFolder / "corrected.tif", cacheOptions);
  std::unique_ptr<StackOutput> aligned;
  if (plan.align.writeAlignedStack) aligned = openStackOutput(plan, alignedVolume(plan, stack));
  const int type = stack.bitDepth == 16 ? CV_16U : CV_8U;
  OrthoSlices ortho(plan.slices, stack.outputRect.size(), type);
  BlockFaces faces(plan.slices, stack.outputRect.size(), type);
  Progress progress(log, "correct ", plan.slices, options.terminal);
  int next = 0;
  tbb::parallel_pipeline(
      2 * tbb::info::default_concurrency(),
      sliceIndices(next, plan.slices) &
          tbb::make_filter<int, CorrectedSlice>(tbb::filter_mode::parallel,
                                                [&](int z) {
                                                  CorrectedSlice item = correctSlice(plan, stack, registered.reference, z);
                                                  stack.brightness[z] = item.brightness;
                                                  ortho.add(z, item.corrected);
                                                  faces.add(z, item.corrected);
                                                  return item;
                                                }) &
          tbb::make_filter<CorrectedSlice, void>(tbb::filter_mode::serial_in_order, [&](const CorrectedSlice& item) {
            if (aligned) aligned->append(item.aligned);
            corrected.append(item.corrected);
            histogram.merge(item.histogram);
            progress.advance();
          }));
  corrected.finish();
  if (aligned) aligned->finish();
  finishCorrection(plan, stack, histogram, ortho, faces);
  return progress.finish();
}

struct SegmentResult {
  std::vector<segment::PhaseFractions> fractions;
  std::vector<int> otsuThresholds;
  double seconds = 0;
};

/// Pass 3 over every slice of the cache: labels volume, PNGs, fractions.
SegmentResult segmentStack(const RunPlan& plan, const RunOptions& options, const AlignedStack& stack,
                           std::ostream& log) {
  SegmentResult result;
  result.fractions.resize(plan.slices);
  result.otsuThresholds = emptyOtsuThresholds(plan, stack);
  const SegmentContext context = segmentContext(plan, stack);
  if (plan.slicePngs || context.uncertainty) {
    std::error_code ec;
    fs::remove_all(context.pngFolder, ec);
    ensureWritableFolder(context.pngFolder);
  }
  const std::unique_ptr<StackOutput> labelsOut = openStackOutput(plan, labelsVolume(plan, stack));
  std::vector<std::unique_ptr<io::TiffStackWriter>> probabilityTiffs;
  if (context.probabilities) {
    io::TiffStackOptions probabilityOptions{.width = stack.outputRect.width, .height = stack.outputRect.height,
                                            .bitDepth = 8, .slices = plan.slices, .pixelSizeNm = plan.pixelSizeNm,
                                            .sliceSpacingNm = plan.sliceThicknessNm, .deflate = true};
    for (int p = 0; p < plan.phases.count(); ++p)
      probabilityTiffs.push_back(std::make_unique<io::TiffStackWriter>(
          plan.output / ("probability_" + plan.phases.key(p) + ".tif"), probabilityOptions));
  }
  OrthoSlices ortho(plan.slices, stack.outputRect.size(), CV_8U);
  BlockFaces faces(plan.slices, stack.outputRect.size(), CV_8U);
  io::TiffPageReader corrected(plan.cacheFolder / "corrected.tif");
  if (corrected.pages() != plan.slices)
    throw Error((plan.cacheFolder / "corrected.tif").string() + ": " + std::to_string(corrected.pages()) +
                " slices, expected " + std::to_string(plan.slices) + "; run without --from");
  Progress progress(log, "segment ", plan.slices, options.terminal);

  struct Item {
    int z;
    cv::Mat slice;
    std::optional<learn::Prediction> prediction;  // made in order (a classifier with z context)
    SegmentedSlice segmented;
  };
  // A classifier with z context (learn.z_context) also sees the aligned slices above and below:
  // the stack goes through it in order, so each slice's features serve its neighbours too.
  const std::optional<learn::Classifier>& classifier = plan.model;
  const bool withNeighbours = classifier && classifier->needsNeighbours();
  if (withNeighbours && plan.slices < 2)
    throw Error("learn.model " + plan.learn.model.string() + " was trained with learn.z_context = " +
                classifier->featureSpec().zContext + ", which needs each slice's neighbours; the input has " +
                std::to_string(plan.slices) + " slice; expected a stack, or a model trained with learn.z_context = none");
  std::deque<learn::Prediction> madeInOrder;
  std::optional<learn::StackPredictor> inOrder;
  if (withNeighbours)
    inOrder.emplace(*classifier, context.probabilities || context.uncertainty,
                    [&](int, learn::Prediction prediction) { madeInOrder.push_back(std::move(prediction)); });
  std::deque<cv::Mat> fedSlices;  // as the classifier saw them, for the refinement
  std::vector<SegmentedSlice> uncertain;  // output.uncertainty_pngs: the slices with regions
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
                                     if (!withNeighbours) return Item{z, corrected.read(z), {}, {}};
                                     while (madeInOrder.empty()) {
                                       if (fed < plan.slices) {
                                         fedSlices.push_back(asTrained(plan, corrected.read(fed++)));
                                         inOrder->add(fedSlices.back());
                                       } else {
                                         inOrder->finish();
                                       }
                                     }
                                     Item item{z, std::move(fedSlices.front()), std::move(madeInOrder.front()), {}};
                                     fedSlices.pop_front();
                                     madeInOrder.pop_front();
                                     return item;
                                   }) &
          tbb::make_filter<Item, Item>(tbb::filter_mode::parallel,
                                       [&](Item item) {
                                         item.segmented = segmentSlice(plan, context, item.z, item.slice,
                                                                       std::move(item.prediction));
                                         ortho.add(item.z, item.segmented.labels);
                                         faces.add(item.z, item.segmented.labels);
                                         item.slice.release();
                                         return item;
                                       }) &
          tbb::make_filter<Item, void>(tbb::filter_mode::serial_in_order, [&](const Item& item) {
            const SegmentedSlice& s = item.segmented;
            labelsOut->append(s.labelImage);
            for (std::size_t p = 0; p < probabilityTiffs.size(); ++p) probabilityTiffs[p]->append(s.probabilities[p]);
            result.fractions[s.z] = s.fractions;
            if (!s.leastCertain.empty()) uncertain.push_back({s.z, {}, {}, {}, {}, -1, s.leastCertain, s.meanUncertainty});
            if (s.otsuThreshold >= 0 && int(result.otsuThresholds.size()) == plan.slices)
              result.otsuThresholds[s.z] = s.otsuThreshold;
            progress.advance();
          }));
  labelsOut->finish();
  for (auto& tiff : probabilityTiffs) tiff->finish();
  if (context.uncertainty) writeUncertaintyRegions(plan, uncertain);
  finishSegmentation(plan, context, ortho, faces);
  result.seconds = progress.finish();
  return result;
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
  stageOutputs(plan, outputFolder, log);

  // Pass 1 and 2, unless a matching cache lets `--from segment` skip them.
  const std::string fingerprint = stageFingerprint(plan.input, params, kCachedSections);
  const std::string cachedParameters = describeParameterValues(params, kCachedSections);
  const fs::path cacheJson = plan.cacheFolder / "corrected.json";
  RunResults results;
  if (options.from == "segment") {
    std::ifstream in(cacheJson);
    const json cache = in ? json::parse(in, nullptr, false) : json();
    if (cache.is_object() && cache.value("fingerprint", "") == fingerprint && fs::exists(plan.cacheFolder / "corrected.tif")) {
      results.stack = alignedStackFromJson(cache);
      results.reused = true;
      log << "reusing the aligned, corrected stack in " << (outputFolder.folder() / "cache").string() << "\n";
    } else {
      log << "the cache in " << (outputFolder.folder() / "cache").string()
          << (cache.is_object() ? " was made from other input or parameters" : " is missing")
          << "; running every stage\n";
    }
  }
  if (!results.reused) {
    std::error_code ec;
    fs::remove(cacheJson, ec);  // stale from here on
    const RegisterResult registered = registerSlices(plan, options.terminal, log);
    reportRegistration(plan, params, registered, log);
    results.timings["read_crop_register"] = registered.seconds;
    results.timings["align_correct"] = alignAndCorrect(plan, options, registered, results.stack, log);
    writeTextFile(cacheJson, toJson(results.stack, fingerprint, cachedParameters).dump() + "\n");
  }

  SegmentResult segmented = segmentStack(plan, options, results.stack, log);
  results.timings["segment_write"] = segmented.seconds;
  results.fractions = std::move(segmented.fractions);
  results.otsuThresholds = std::move(segmented.otsuThresholds);
  return finishRun(params, plan, outputFolder, results, start, log);
}

}  // namespace fibseg::pipeline
