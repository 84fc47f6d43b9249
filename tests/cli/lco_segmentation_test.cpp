// lco-fibsem BSE against its 27 manual particle masks (1 = LCO particle = CAM), each slice in its
// own raw frame (no registration: these figures measure segmentation alone). Skipped when the
// real data is absent. Figures and commands: bench/README.md, Real data.
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <array>
#include <filesystem>
#include <iostream>
#include <random>
#include <cstdio>
#include <cstdlib>

#include "fibseg/align/align.hpp"
#include "fibseg/config/param_set.hpp"
#include "fibseg/intensity/denoise.hpp"
#include "fibseg/learn/learn.hpp"
#include "fibseg/segment/segment.hpp"
#include "real_data.hpp"

namespace fs = std::filesystem;
using namespace fibseg;

namespace {

struct MaskedSlice {
  std::string name;
  cv::Mat bse, particle;  // particle: 0/1
};

std::vector<MaskedSlice> maskedSlices(const fs::path& root) {
  std::vector<MaskedSlice> out;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(root / "masks")) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  for (const auto& n : names)
    out.push_back({n, cv::imread((root / "bse" / n).string(), cv::IMREAD_GRAYSCALE),
                   cv::imread((root / "masks" / n).string(), cv::IMREAD_GRAYSCALE) == 1});
  for (auto& s : out) s.particle /= 255;
  return out;
}

double particleIou(const cv::Mat& particle, const cv::Mat& truth) {
  const double both = cv::countNonZero(particle & truth), either = cv::countNonZero(particle | truth);
  return both / either;
}

// Strokes as an honest annotator paints them: short thin lines placed at random inside each
// phase's mask eroded by 4 px (never across an edge), until `fraction` of the slice is painted,
// half per phase. Code 1 = rest, 2 = particle.
cv::Mat strokes(const cv::Mat& particle, double fraction, unsigned seed) {
  cv::Mat annotation = cv::Mat::zeros(particle.size(), CV_8U);
  std::mt19937 rng(seed);
  const long long perPhase = static_cast<long long>(fraction * particle.total() / 2);
  for (int phase = 0; phase < 2; ++phase) {
    cv::Mat inside;
    cv::erode((particle == phase), inside, cv::getStructuringElement(cv::MORPH_ELLIPSE, {9, 9}));
    std::vector<cv::Point> candidates;
    cv::findNonZero(inside, candidates);
    std::uniform_int_distribution<std::size_t> pick(0, candidates.size() - 1);
    std::uniform_real_distribution<double> angle(0, CV_PI);
    long long painted = 0;
    while (painted < perPhase) {
      const cv::Point a = candidates[pick(rng)];
      const double t = angle(rng);
      cv::Mat line = cv::Mat::zeros(particle.size(), CV_8U);
      cv::line(line, a, a + cv::Point(int(12 * std::cos(t)), int(12 * std::sin(t))), 255, 1);
      line &= inside & (annotation == 0);
      annotation.setTo(phase + 1, line);
      painted += cv::countNonZero(line);
    }
  }
  return annotation;
}

}  // namespace

TEST(LcoFibsem, OtsuWithTheDefaultDenoisingReachesCamIou080) {
  FIBSEG_REQUIRE_REAL_DATA(root, "lco-fibsem");
  const auto slices = maskedSlices(root);
  ASSERT_EQ(slices.size(), 27u);
  const auto denoise = config::denoiseParamsFrom(config::ParamSet::defaults());
  double with = 0, without = 0;
  for (const auto& s : slices) {
    without += particleIou(segment::camMask(s.bse, segment::otsuThreshold(s.bse)) / 255, s.particle);
    const cv::Mat d = intensity::denoise(s.bse, denoise);
    with += particleIou(segment::camMask(d, segment::otsuThreshold(d)) / 255, s.particle);
  }
  with /= slices.size(), without /= slices.size();
  std::cout << "Otsu CAM IoU, mean of 27 slices: no denoising " << without << ", "
            << intensity::describeDenoise(denoise) << " " << with << "\n";
  EXPECT_NEAR(without, 0.747, 0.005);  // the figure issue 13 reports for today's defaults
  EXPECT_GE(with, 0.80);
}

TEST(LcoFibsem, ClassifierFromStrokesOnTwoSlicesScoredOnTheOther25) {
  FIBSEG_REQUIRE_REAL_DATA(root, "lco-fibsem");
  const auto slices = maskedSlices(root);
  const auto params = config::ParamSet::defaults();
  auto learnParams = config::learnParamsFrom(params);
  const auto all = config::denoiseParamsFrom(params);
  const auto denoise = learnParams.denoiseInput ? all : intensity::noDenoising(all);  // registry: none
  const std::vector<std::size_t> trained = {4, 17};  // Image00070, Image00200: early and late in the stack
  std::vector<learn::AnnotatedSlice> examples;
  long long painted = 0, pixels = 0;
  for (std::size_t i : trained) {
    const cv::Mat a = strokes(slices[i].particle, 0.015, 11 + unsigned(i));
    painted += cv::countNonZero(a);
    pixels += a.total();
    examples.push_back({intensity::denoise(slices[i].bse, denoise), a, slices[i].name});
  }
  const double fraction = double(painted) / pixels;
  EXPECT_LE(fraction, 0.02);
  const learn::TrainingContext context{{"rest", "particle"}, {0, 1}, {}, 0, intensity::describeDenoise(denoise)};
  const auto model = learn::trainModel(examples, learnParams, context);  // learn.preset = auto
  std::cout << model.presetChoiceText();
  double iou = 0;
  int scored = 0;
  for (std::size_t i = 0; i < slices.size(); ++i) {
    if (std::find(trained.begin(), trained.end(), i) != trained.end()) continue;
    // As `fibseg run` segments: the model's labels with the refinement auto chose.
    const cv::Mat bse = intensity::denoise(slices[i].bse, denoise);
    const cv::Mat labels = model.predict(bse).labels;
    iou += particleIou(learn::refineBoundaries(labels, bse, learn::refinementFor(learnParams, model), 2),
                       slices[i].particle);
    ++scored;
  }
  iou /= scored;
  std::cout << "classifier (registry learn defaults, 2D features, learn.preset = auto), strokes on " << 100 * fraction
            << " % of 2 slices: CAM IoU, mean of " << scored << " other slices " << iou << "\n";
  EXPECT_EQ(scored, 25);
  EXPECT_GE(iou, 0.80);
}

namespace {

// Every BSE slice of the series (30, of which 27 have masks), in name order.
std::vector<std::pair<std::string, cv::Mat>> allSlices(const fs::path& root) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(root / "bse")) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  std::vector<std::pair<std::string, cv::Mat>> out;
  for (const auto& n : names) out.push_back({n, cv::imread((root / "bse" / n).string(), cv::IMREAD_GRAYSCALE)});
  return out;
}

// Slice `from` moved into slice `to`'s raw frame by the registration's shifts (content
// displacements relative to slice 0), as the aligned stack has them; where `from` does not reach
// (the drift's edge strip), `to`'s own pixels.
cv::Mat intoFrameOf(const cv::Mat& from, cv::Point2d shiftFrom, const cv::Mat& to, cv::Point2d shiftTo) {
  const cv::Rect frame(0, 0, to.cols, to.rows);
  cv::Mat moved = align::applyShift(from, shiftFrom - shiftTo, frame);
  const cv::Mat reached = align::applyShift(cv::Mat(from.size(), CV_8U, cv::Scalar(255)), shiftFrom - shiftTo, frame);
  to.copyTo(moved, reached < 255);
  return moved;
}

// The stack's masked slices with their neighbours {z-1, z+1} (registered with the registry
// defaults, moved into each slice's raw frame as `fibseg score` maps labels back; empty at the
// ends), and the test's strokes on slices 4 and 17 (Image00070, Image00200, as in the 2D test).
class StackScoring {
 public:
  explicit StackScoring(const fs::path& root) : slices_(maskedSlices(root)), series_(allSlices(root)) {
    for (const auto& s : series_) raw_.push_back(s.second);
    shifts_ = align::shiftsOf(
        align::registerSlices(raw_, config::alignParamsFrom(config::ParamSet::defaults()).registration));
  }
  std::size_t stackSize() const { return raw_.size(); }

  /// The strokes of the annotated slices (seeded per slice), each with its stack neighbours.
  std::vector<learn::AnnotatedSlice> strokeExamples() const {
    std::vector<learn::AnnotatedSlice> examples;
    for (std::size_t i : kTrained)
      examples.push_back({slices_[i].bse, strokes(slices_[i].particle, 0.015, 11 + unsigned(i)), slices_[i].name,
                          neighboursOf(slices_[i].name)});
    return examples;
  }

  /// CAM IoU, mean of the 25 slices not annotated, of a model trained with `params`' learn
  /// section (registry: no denoising for the classifier).
  double meanIou(const config::ParamSet& params) const {
    const auto learnParams = config::learnParamsFrom(params);
    return meanIous(params, {learnParams.refine})[0];
  }

  /// The same for one model and several boundary refinements (learn.refine_band, refine_sigma).
  std::vector<double> meanIous(const config::ParamSet& params, const std::vector<learn::BoundaryRefinement>& refinements) const {
    const auto learnParams = config::learnParamsFrom(params);
    const auto examples = strokeExamples();
    const learn::TrainingContext context{{"rest", "particle"}, {0, 1}, {}, 0, "none"};
    // The settings given, as they are (learn.preset = manual): these tests compare settings.
    const auto model = learn::Classifier::train(examples, learnParams.features, learnParams.training, context);
    return scored(model, refinements);
  }

  /// CAM IoU, mean of the 25 slices not annotated, of the model learn.preset = auto trains from
  /// the strokes on the stack's slices (as `fibseg train --stack` gives it: each with its
  /// neighbours), with the refinement it chose; `table` receives its cross-validation table.
  double meanIouAuto(const config::ParamSet& params, std::string* table) const {
    const auto learnParams = config::learnParamsFrom(params);
    const auto examples = strokeExamples();
    const learn::TrainingContext context{{"rest", "particle"}, {0, 1}, {}, 0, "none"};
    const auto model = learn::trainModel(examples, learnParams, context);
    *table = model.presetChoiceText();
    return scored(model, {learn::refinementFor(learnParams, model)})[0];
  }

 private:
  std::vector<double> scored(const learn::Classifier& model, const std::vector<learn::BoundaryRefinement>& refinements) const {
    std::vector<double> iou(refinements.size(), 0.0);
    int scored = 0;
    for (std::size_t i = 0; i < slices_.size(); ++i) {
      if (std::find(kTrained.begin(), kTrained.end(), i) != kTrained.end()) continue;
      const cv::Mat labels = model.predict(slices_[i].bse, neighboursOf(slices_[i].name)).labels;
      for (std::size_t r = 0; r < refinements.size(); ++r)
        iou[r] += particleIou(
            learn::refineBoundaries(labels, slices_[i].bse, refinements[r], 2),
            slices_[i].particle);
      ++scored;
    }
    EXPECT_EQ(scored, 25);
    for (double& v : iou) v /= scored;
    return iou;
  }

 private:
  std::vector<cv::Mat> neighboursOf(const std::string& name) const {
    const std::size_t z = std::find_if(series_.begin(), series_.end(), [&](const auto& s) { return s.first == name; }) -
                          series_.begin();
    std::vector<cv::Mat> out;
    for (std::size_t n : {z - 1, z + 1})
      out.push_back(n < series_.size() ? intoFrameOf(raw_[n], shifts_[n], raw_[z], shifts_[z]) : cv::Mat());
    return out;
  }

  static constexpr std::array<std::size_t, 2> kTrained = {4, 17};
  std::vector<MaskedSlice> slices_;
  std::vector<std::pair<std::string, cv::Mat>> series_;
  std::vector<cv::Mat> raw_;
  std::vector<cv::Point2d> shifts_;
};

config::ParamSet withSettings(config::ParamSet params, const std::vector<std::pair<std::string, std::string>>& set) {
  for (const auto& [name, value] : set) params.set(name, value, "test");
  return params;
}

}  // namespace

// Issue 25: the same strokes on the stack's slices, registry defaults (learn.preset = auto, which
// may add z context, auto-context and boundary refinement where its cross-validation on the
// strokes finds they help). Prints the table. It chooses the neighbours' changes with
// auto-context: 0.876 (0.856 before z context "changes", as in 2D); asserts 0.87.
TEST(LcoFibsem, ClassifierAutoFromStrokesOnTheStackWithRegistryDefaults) {
  FIBSEG_REQUIRE_REAL_DATA(root, "lco-fibsem");
  const StackScoring scoring(root);
  std::string table;
  const double iou = scoring.meanIouAuto(config::ParamSet::defaults(), &table);
  std::printf("%sclassifier, registry defaults (learn.preset = auto), strokes on 1.5 %% of 2 stack slices: CAM IoU, "
              "mean of the other 25: %.4f (issue 25's target 0.88)\n", table.c_str(), iou);
  EXPECT_GE(iou, 0.87);
}

// The same strokes, with learn.z_context = above_below: each slice's neighbours in the stack
// also describe every pixel. Trained and scored like the 2D test above.
TEST(LcoFibsem, ClassifierWithTheNeighbouringSlicesBeatsTheSameStrokesIn2D) {
  FIBSEG_REQUIRE_REAL_DATA(root, "lco-fibsem");
  const StackScoring scoring(root);
  ASSERT_EQ(scoring.stackSize(), 30u);
  const auto params = config::ParamSet::defaults();
  const double flat = scoring.meanIou(withSettings(params, {{"learn.z_context", "none"}}));
  const double sides = scoring.meanIou(withSettings(params, {{"learn.z_context", "above_below"}}));
  std::printf("classifier, strokes on 1.5 %% of 2 slices, CAM IoU mean of the other 25: 2D %.4f, "
              "learn.z_context = above_below %.4f\n", flat, sides);
  EXPECT_GT(sides, flat);
  EXPECT_GE(sides, 0.80);
}

// Issue 13's target, CAM IoU >= 0.88 from the same strokes: z context, auto-context (a second
// stage on the first stage's probabilities smoothed at 1, 2, 4, 8 px), 30 rounds of depth 6, and
// the boundaries refined within 3 px onto the grey edge (learn.refine_band = 3, refine_sigma =
// 1.5). The classifier alone measured 0.8783 (main, 2026-12-02), with the refinement 0.8866; the
// refinement gives 0.881-0.887 for any band of 2-6 px and sigma of 1-2 px (bench/README.md, Real
// data). Also asserted: the gain the second stage brings over the same z context alone.
TEST(LcoFibsem, ClassifierAutoContextAndRefinedBoundariesReachCamIou088) {
  FIBSEG_REQUIRE_REAL_DATA(root, "lco-fibsem");
  const StackScoring scoring(root);
  const auto zOnly = withSettings(config::ParamSet::defaults(), {{"learn.z_context", "above_below"},
                                                                 {"learn.rounds", "30"},
                                                                 {"learn.max_depth", "6"}});
  const auto twoStage = withSettings(zOnly, {{"learn.auto_context_scales", "1, 2, 4, 8"}});
  const double zIou = scoring.meanIou(zOnly);
  const auto twoStageIou = scoring.meanIous(twoStage, {{0, 1.0}, {3, 1.5}});
  std::printf("classifier, strokes on 1.5 %% of 2 slices, CAM IoU mean of the other 25, learn.z_context = "
              "above_below, 30 rounds of depth 6: %.4f; + learn.auto_context_scales = 1, 2, 4, 8: %.4f; "
              "+ learn.refine_band = 3, refine_sigma = 1.5: %.4f (issue 13's target 0.88)\n",
              zIou, twoStageIou[0], twoStageIou[1]);
  EXPECT_GE(twoStageIou[0], zIou + 0.03);
  EXPECT_GE(twoStageIou[1], 0.88);
  EXPECT_GT(twoStageIou[1], twoStageIou[0]);
}

// The table of bench/README.md (Real data, boundary refinement): three classifiers, bands 0-6 px,
// sigma 0-2 px. About 4 min: `build/tests/test_cli --gtest_also_run_disabled_tests
// --gtest_filter=LcoFibsem.DISABLED_RefineBandScan`.
TEST(LcoFibsem, DISABLED_RefineBandScan) {
  FIBSEG_REQUIRE_REAL_DATA(root, "lco-fibsem");
  const StackScoring scoring(root);
  const auto defaults = config::ParamSet::defaults();
  const auto zOnly = withSettings(defaults, {{"learn.z_context", "above_below"}, {"learn.rounds", "30"}, {"learn.max_depth", "6"}});
  const auto best = withSettings(zOnly, {{"learn.auto_context_scales", "1, 2, 4, 8"}});
  std::vector<learn::BoundaryRefinement> refinements;
  for (int band : {0, 1, 2, 3, 4, 5, 6})
    for (double sigma : {0.0, 1.0, 1.5, 2.0}) refinements.push_back({band, sigma});
  const auto lighter = withSettings(defaults, {{"learn.z_context", "above_below"}, {"learn.auto_context_scales", "1, 2, 4, 8"}});
  const char* only = std::getenv("FIBSEG_SCAN_ONLY");  // one row's name, to rerun it alone
  for (const auto& [name, params] : {std::pair{std::string("defaults"), defaults}, std::pair{std::string("z only"), zOnly},
                                     std::pair{std::string("best"), best},
                                     std::pair{std::string("z + auto-context, 15 rounds of depth 4"), lighter}}) {
    if (only && name != only) continue;
    const auto iou = scoring.meanIous(params, refinements);
    for (std::size_t r = 0; r < refinements.size(); ++r)
      std::printf("%s band %d sigma %.1f: %.4f\n", name.c_str(), refinements[r].bandPx, refinements[r].sigma, iou[r]);
    std::fflush(stdout);
  }
}
