// The local executor: the run's graph (run_graph.hpp) on this machine's threads. Each pass
// streams slices through a bounded TBB pipeline (memory does not grow with the number of
// slices) with all cores busy, calling the per-slice task functions; volumes are written in
// slice order by one stage; the reductions run between the passes. When segmentation needs no
// whole-stack result, correction and segmentation are one pass (issue 27).
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
#include "fibseg/pipeline/earlier_stages.hpp"
#include "fibseg/pipeline/corrected_slices.hpp"
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

/// What the correction writes and gathers: the one greyscale stack (aligned.tif and/or its cache
/// copy, corrected_slices.hpp), the grey histogram, the aligned previews. append() in slice order.
class CorrectionOutputs {
 public:
  CorrectionOutputs(const RunPlan& plan, AlignedStack& stack)
      : plan_(plan), stack_(stack), histogram_(stack.bitDepth),
        ortho_(plan.slices, stack.outputRect.size(), stack.bitDepth == 16 ? CV_16U : CV_8U),
        faces_(plan.slices, stack.outputRect.size(), stack.bitDepth == 16 ? CV_16U : CV_8U) {
    if (plan.align.writeAlignedStack) aligned_ = openStackOutput(plan, alignedVolume(plan, stack));
    if (greyStackPath(plan) != plan.output / "aligned.tif")
      cacheCopy_ = std::make_unique<io::TiffStackWriter>(
          greyStackPath(plan), io::TiffStackOptions{.width = stack.outputRect.width, .height = stack.outputRect.height,
                                                    .bitDepth = stack.bitDepth, .slices = plan.slices,
                                                    .pixelSizeNm = plan.pixelSizeNm,
                                                    .sliceSpacingNm = plan.sliceThicknessNm});
  }
  /// Any thread: what may be gathered out of order.
  void gather(const CorrectedSlice& item) {
    stack_.brightness[item.z] = item.brightness;
    ortho_.add(item.z, item.corrected);
    faces_.add(item.z, item.corrected);
  }
  /// In slice order.
  void append(const CorrectedSlice& item) {
    if (aligned_) aligned_->append(item.aligned);
    if (cacheCopy_) cacheCopy_->append(item.aligned);
    histogram_.merge(item.histogram);
  }
  /// The volumes closed, then the reduction (Otsu, brightness.csv, previews).
  void finish() {
    if (aligned_) aligned_->finish();
    if (cacheCopy_) cacheCopy_->finish();
    finishCorrection(plan_, stack_, histogram_, ortho_, faces_);
  }

 private:
  const RunPlan& plan_;
  AlignedStack& stack_;
  segment::GreyHistogram histogram_;
  OrthoSlices ortho_;
  BlockFaces faces_;
  std::unique_ptr<StackOutput> aligned_;
  std::unique_ptr<io::TiffStackWriter> cacheCopy_;
};

struct SegmentResult {
  std::vector<segment::PhaseFractions> fractions;
  std::vector<int> otsuThresholds;
  double seconds = 0;
};

/// What segmentation writes and gathers: labels volume, probability stacks, fractions, label
/// previews (the slice PNGs are written by segmentSlice itself). append() in slice order.
class SegmentationOutputs {
 public:
  SegmentationOutputs(const RunPlan& plan, const AlignedStack& stack)
      : plan_(plan), context_(segmentContext(plan, stack)),
        ortho_(plan.slices, stack.outputRect.size(), CV_8U), faces_(plan.slices, stack.outputRect.size(), CV_8U) {
    result_.fractions.resize(plan.slices);
    result_.otsuThresholds = emptyOtsuThresholds(plan, stack);
    if (plan.slicePngs || context_.uncertainty) {
      std::error_code ec;
      fs::remove_all(context_.pngFolder, ec);
      ensureWritableFolder(context_.pngFolder);
    }
    labels_ = openStackOutput(plan, labelsVolume(plan, stack));
    if (context_.probabilities) {
      io::TiffStackOptions probabilityOptions{.width = stack.outputRect.width, .height = stack.outputRect.height,
                                              .bitDepth = 8, .slices = plan.slices, .pixelSizeNm = plan.pixelSizeNm,
                                              .sliceSpacingNm = plan.sliceThicknessNm, .deflate = true};
      for (int p = 0; p < plan.phases.count(); ++p)
        probabilities_.push_back(std::make_unique<io::TiffStackWriter>(
            plan.output / ("probability_" + plan.phases.key(p) + ".tif"), probabilityOptions));
    }
  }
  const SegmentContext& context() const { return context_; }
  /// Any thread.
  void gather(const SegmentedSlice& s) {
    ortho_.add(s.z, s.labels);
    faces_.add(s.z, s.labels);
  }
  /// In slice order.
  void append(const SegmentedSlice& s) {
    labels_->append(s.labelImage);
    for (std::size_t p = 0; p < probabilities_.size(); ++p) probabilities_[p]->append(s.probabilities[p]);
    result_.fractions[s.z] = s.fractions;
    if (!s.leastCertain.empty()) uncertain_.push_back({s.z, {}, {}, {}, {}, -1, s.leastCertain, s.meanUncertainty});
    if (s.otsuThreshold >= 0 && int(result_.otsuThresholds.size()) == plan_.slices)
      result_.otsuThresholds[s.z] = s.otsuThreshold;
  }
  SegmentResult finish() {
    labels_->finish();
    for (auto& tiff : probabilities_) tiff->finish();
    if (context_.uncertainty) writeUncertaintyRegions(plan_, uncertain_);
    finishSegmentation(plan_, context_, ortho_, faces_);
    return std::move(result_);
  }

 private:
  const RunPlan& plan_;
  SegmentContext context_;
  OrthoSlices ortho_;
  BlockFaces faces_;
  std::unique_ptr<StackOutput> labels_;
  std::vector<std::unique_ptr<io::TiffStackWriter>> probabilities_;
  std::vector<SegmentedSlice> uncertain_;  // output.uncertainty_pngs: the slices with their least certain regions
  SegmentResult result_;
};

/// Pass 2 over every slice: the grey stack written once, then the histogram reduction. Returns
/// the pass's seconds.
double alignAndCorrect(const RunPlan& plan, const RunOptions& options, const RegisterResult& registered,
                       AlignedStack& stack, std::ostream& log) {
  stack = startAlignedStack(plan, registered);
  CorrectionOutputs outputs(plan, stack);
  Progress progress(log, "correct ", plan.slices, options.terminal);
  int next = 0;
  tbb::parallel_pipeline(
      2 * tbb::info::default_concurrency(),
      sliceIndices(next, plan.slices) &
          tbb::make_filter<int, CorrectedSlice>(tbb::filter_mode::parallel,
                                                [&](int z) {
                                                  CorrectedSlice item = correctSlice(plan, stack, registered.reference, z);
                                                  outputs.gather(item);
                                                  item.corrected.release();
                                                  return item;
                                                }) &
          tbb::make_filter<CorrectedSlice, void>(tbb::filter_mode::serial_in_order, [&](const CorrectedSlice& item) {
            outputs.append(item);
            progress.advance();
          }));
  outputs.finish();
  return progress.finish();
}

/// Passes 2 and 3 as one (segmentation needs no whole-stack result): each slice is aligned,
/// corrected and segmented in turn, the grey stack and the labels written in slice order.
SegmentResult alignCorrectAndSegment(const RunPlan& plan, const RunOptions& options, const RegisterResult& registered,
                                     AlignedStack& stack, std::ostream& log) {
  stack = startAlignedStack(plan, registered);
  CorrectionOutputs corrected(plan, stack);
  SegmentationOutputs segmented(plan, stack);
  Progress progress(log, "correct and segment ", plan.slices, options.terminal);
  struct Item {
    CorrectedSlice corrected;
    SegmentedSlice segmented;
  };
  int next = 0;
  tbb::parallel_pipeline(
      2 * tbb::info::default_concurrency(),
      sliceIndices(next, plan.slices) &
          tbb::make_filter<int, Item>(tbb::filter_mode::parallel,
                                      [&](int z) {
                                        Item item{correctSlice(plan, stack, registered.reference, z), {}};
                                        corrected.gather(item.corrected);
                                        item.segmented = segmentSlice(plan, segmented.context(), z, item.corrected.corrected);
                                        segmented.gather(item.segmented);
                                        item.corrected.corrected.release();
                                        return item;
                                      }) &
          tbb::make_filter<Item, void>(tbb::filter_mode::serial_in_order, [&](const Item& item) {
            corrected.append(item.corrected);
            segmented.append(item.segmented);
            progress.advance();
          }));
  corrected.finish();
  SegmentResult result = segmented.finish();
  result.seconds = progress.finish();
  return result;
}

/// Pass 3 over every slice of the grey stack, corrected again: labels volume, PNGs, fractions.
SegmentResult segmentStack(const RunPlan& plan, const RunOptions& options, const AlignedStack& stack,
                           std::ostream& log) {
  SegmentationOutputs outputs(plan, stack);
  const SegmentContext& context = outputs.context();
  const fs::path greyStack = greyStackPath(plan);
  io::TiffPageReader grey(greyStack);
  if (grey.pages() != plan.slices)
    throw Error(greyStack.string() + ": " + std::to_string(grey.pages()) + " slices, expected " +
                std::to_string(plan.slices) + "; run without --from");
  const auto corrected = [&](const cv::Mat& aligned) { return correctAligned(aligned, stack.reference, plan.intensity); };
  Progress progress(log, "segment ", plan.slices, options.terminal);

  struct Item {
    int z;
    cv::Mat slice;  // aligned (corrected in the parallel stage), or as trained (z context)
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
                                     if (!withNeighbours) return Item{z, grey.read(z), {}, {}};
                                     while (madeInOrder.empty()) {
                                       if (fed < plan.slices) {
                                         fedSlices.push_back(asTrained(plan, corrected(grey.read(fed++))));
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
                                         if (!item.prediction) item.slice = corrected(item.slice);
                                         item.segmented = segmentSlice(plan, context, item.z, item.slice,
                                                                       std::move(item.prediction));
                                         outputs.gather(item.segmented);
                                         item.slice.release();
                                         return item;
                                       }) &
          tbb::make_filter<Item, void>(tbb::filter_mode::serial_in_order, [&](const Item& item) {
            outputs.append(item.segmented);
            progress.advance();
          }));
  SegmentResult result = outputs.finish();
  result.seconds = progress.finish();
  return result;
}

/// --from segment: the grey stack of the earlier run joins the new one (a hard link: writers
/// replace files by rename, so the earlier run's copy is never changed).
void carryOverGreyStack(const OutputFolder& folder, const RunPlan& plan) {
  const fs::path from = folder.folder() / "aligned.tif", to = plan.output / "aligned.tif";
  std::error_code ec;
  if (greyStackPath(plan) != to || !fs::is_regular_file(from, ec)) return;
  fs::create_hard_link(from, to, ec);
  if (ec) {
    ec.clear();
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
    if (ec) throw Error("cannot carry " + from.string() + " over to the new run: " + ec.message());
  }
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
  std::optional<SegmentResult> segmented;
  if (options.from == "segment") {
    std::ifstream in(cacheJson);
    const json cache = in ? json::parse(in, nullptr, false) : json();
    carryOverGreyStack(outputFolder, plan);
    const bool current = cache.is_object() && cache.value("fingerprint", "") == fingerprint && cache.contains("reference");
    if (current && fs::exists(greyStackPath(plan))) {
      results.stack = alignedStackFromJson(cache);
      results.reused = true;
      log << "reusing the aligned, corrected stack in " << (outputFolder.folder() / "cache").string() << "\n";
      results.notCarriedOver = carryOverEarlierStages(outputFolder.folder(), plan);
      for (const auto& w : results.notCarriedOver) log << "warning: " << w << "\n";
    } else {
      log << "the cache in " << (outputFolder.folder() / "cache").string()
          << (cache.is_object() ? " was made from other input or parameters" : " is missing")
          << "; running every stage\n";
    }
  }
  if (!results.reused) {
    std::error_code ec;
    fs::remove(cacheJson, ec);  // stale from here on
    fs::remove(plan.cacheFolder / "corrected.tif", ec);  // an earlier version's corrected stack
    const RegisterResult registered = registerSlices(plan, options.terminal, log);
    reportRegistration(plan, params, registered, log);
    results.timings["read_crop_register"] = registered.seconds;
    if (segmentNeedsWholeStack(plan)) {
      results.timings["align_correct"] = alignAndCorrect(plan, options, registered, results.stack, log);
    } else {
      segmented = alignCorrectAndSegment(plan, options, registered, results.stack, log);
      results.timings["align_correct_segment_write"] = segmented->seconds;
    }
    writeTextFile(cacheJson, toJson(results.stack, fingerprint, cachedParameters).dump() + "\n");
  }
  if (!segmented) {
    segmented = segmentStack(plan, options, results.stack, log);
    results.timings["segment_write"] = segmented->seconds;
  }
  results.fractions = std::move(segmented->fractions);
  results.otsuThresholds = std::move(segmented->otsuThresholds);
  return finishRun(params, plan, outputFolder, results, start, log);
}

}  // namespace fibseg::pipeline
