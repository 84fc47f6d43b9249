// Accuracy of the classical path on the phantom: Gabor parameters tuned from ~1% of one slice's
// pixels (sparse points painted from the truth), then the other slices scored against the truth.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include <array>
#include <random>

#include "fibseg/measure/score.hpp"
#include "fibseg/phantom/phantom.hpp"
#include "fibseg/segment/segment.hpp"
#include "fibseg/segment/tune.hpp"

namespace fibseg::segment {
namespace {

phantom::PhantomParams driftFree(int bitDepth, int slices) {
  phantom::PhantomParams p;
  p.slices = slices;
  p.bitDepth = bitDepth;
  p.randomWalk = 0;
  p.steadyDriftX = 0;
  p.steadyDriftY = 0;
  return p;
}

// A person's sparse annotation: about `fraction` of the pixels, chosen at random, given their
// true phase (1 pore, 2 SE, 3 CAM on a grey canvas, as a painted PNG would hold them).
cv::Mat sparseAnnotation(const cv::Mat& truth, double fraction, unsigned seed) {
  cv::Mat painted(truth.size(), CV_8U, cv::Scalar(0));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int y = 0; y < truth.rows; ++y)
    for (int x = 0; x < truth.cols; ++x)
      if (unit(rng) < fraction) painted.at<uchar>(y, x) = uchar(truth.at<uchar>(y, x) + 1);
  return painted;
}

// How a person paints: short strokes (15 px) well inside regions of each phase (3 px from any
// boundary), the same number per phase, until about `fraction` of the pixels are painted.
cv::Mat strokeAnnotation(const cv::Mat& truth, double fraction, unsigned seed) {
  cv::Mat painted(truth.size(), CV_8U, cv::Scalar(0));
  std::array<cv::Mat, 3> inside;
  for (int p = 0; p < 3; ++p) cv::erode(truth == p, inside[p], cv::Mat::ones(7, 7, CV_8U));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> px(0, truth.cols - 1), py(0, truth.rows - 1);
  std::uniform_real_distribution<double> angle(0, CV_PI);
  const int target = int(fraction * double(truth.total()));
  for (int stroke = 0, tries = 0; cv::countNonZero(painted) < target && tries < 100000; ++tries) {
    const int phase = stroke % 3;
    const int y = py(rng), x = px(rng);  // y first: GCC's order when both were arguments
    const cv::Point start(x, y);
    if (!inside[phase].at<uchar>(start)) continue;
    const double a = angle(rng);
    const cv::Point end(start.x + int(15 * std::cos(a)), start.y + int(15 * std::sin(a)));
    cv::Mat line = cv::Mat::zeros(truth.size(), CV_8U);
    cv::line(line, start, end, cv::Scalar(255), 1);
    painted.setTo(phase + 1, line & inside[phase]);
    ++stroke;
  }
  return painted;
}

cv::Mat content(const phantom::Phantom& ph, int z) {
  const cv::Mat raw = ph.rawSlice(z);
  return raw(cv::Rect(0, 0, raw.cols, raw.rows - ph.dataBarRows())).clone();
}

// Simple background normalisation (for comparison only; brightness correction is the intensity
// stage's job): divide by a heavily blurred copy, rescale to the slice's median.
cv::Mat flattened(const cv::Mat& slice) {
  cv::Mat f, background;
  slice.convertTo(f, CV_32F);
  cv::GaussianBlur(f, background, cv::Size(0, 0), slice.rows / 6.0);
  cv::Mat ratio = f / background;
  cv::Scalar mean = cv::mean(f);
  cv::Mat out;
  ratio.convertTo(out, slice.type(), mean[0]);
  return out;
}

struct Outcome {
  TuneResult tune;
  measure::SegmentationScore score;
};

Outcome run(const phantom::Phantom& ph, bool flatten, bool strokes = false) {
  const int tuneSlice = 0;
  cv::Mat slice = content(ph, tuneSlice);
  if (flatten) slice = flattened(slice);
  const cv::Mat cam = camMask(slice, otsuThreshold(slice));
  const cv::Mat truth = ph.truthLabels(tuneSlice);
  const cv::Mat annotation = annotationLabels(
      strokes ? strokeAnnotation(truth, 0.01, 7) : sparseAnnotation(truth, 0.01, 7), "test");
  Outcome out;
  out.tune = tuneGabor(slice, cam, annotation, defaultGaborSweep());
  SegmentParams params{OtsuScope::PerSlice, out.tune.best.gabor, out.tune.best.threshold, Convolution::Auto,
                       {0, 0, 0}};
  measure::SegmentationScorer scorer;
  for (int z = 1; z < ph.params().slices; ++z) {
    cv::Mat s = content(ph, z);
    if (flatten) s = flattened(s);
    scorer.add(segmentSlice(s, params).labels, ph.truthLabels(z));
  }
  out.score = scorer.result();
  return out;
}

void report(const char* what, const Outcome& o) {
  const auto& b = o.tune.best;
  std::printf("%s: tuned on slice 0 (painted-pixel score %.3f): kernel %d sigma %g theta %g lambda %g gamma %g "
              "psi %g threshold %.1f\n%s\n",
              what, b.score, b.gabor.kernelSize, b.gabor.sigma, b.gabor.thetaDeg, b.gabor.lambda, b.gabor.gamma,
              b.gabor.psiDeg, b.threshold, measure::formatSegmentationScore(o.score).c_str());
}

// The phantom has shading, curtaining and per-slice gain; no intensity correction is applied here.
TEST(SegmentAccuracy, TunedFromOneSparselyPaintedSlice) {
  const phantom::Phantom ph(driftFree(8, 12));
  const Outcome o = run(ph, false);
  report("8-bit, no intensity correction", o);
  EXPECT_EQ(o.score.slices, 11);
  EXPECT_GE(o.score.meanIou, 0.83);
  for (int p = 0; p < 3; ++p) EXPECT_GE(o.score.iou[p], 0.7) << p;
  EXPECT_GE(o.tune.camAgreement, 0.95);
}

TEST(SegmentAccuracy, TunedFromStrokesInsideEachPhase) {
  const phantom::Phantom ph(driftFree(8, 12));
  const Outcome o = run(ph, false, true);
  report("8-bit, strokes, no intensity correction", o);
  EXPECT_GE(o.tune.paintedPore + o.tune.paintedSe + o.tune.paintedCam, 1500);
  EXPECT_GE(o.score.meanIou, 0.83);
}

TEST(SegmentAccuracy, SixteenBitSlices) {
  const phantom::Phantom ph(driftFree(16, 6));
  const Outcome o = run(ph, false);
  report("16-bit, no intensity correction", o);
  EXPECT_EQ(o.score.slices, 5);
  EXPECT_GE(o.score.meanIou, 0.83);
}

// For comparison only (brightness correction is the intensity stage's): a crude division by a
// wide blur does not help here, because the blur mixes the phases' grey levels.
TEST(SegmentAccuracy, WithASimpleBackgroundNormalisation) {
  const phantom::Phantom ph(driftFree(8, 12));
  const Outcome o = run(ph, true);
  report("8-bit, divided by a wide Gaussian background", o);
  EXPECT_GE(o.score.meanIou, 0.83);
}

}  // namespace
}  // namespace fibseg::segment
