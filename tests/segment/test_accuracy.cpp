// Accuracy of the classical path on the phantom: Gabor parameters tuned from ~1% of one slice's
// pixels (sparse points painted from the truth), then the other slices scored against the truth.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include <random>

#include "fibseg/measure/score.hpp"
#include "fibseg/phantom/phantom.hpp"
#include "fibseg/segment/segment.hpp"
#include "fibseg/segment/tune.hpp"

namespace fibseg::segment {
namespace {

phantom::PhantomParams driftFree() {
  phantom::PhantomParams p;
  p.slices = 12;
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

Outcome run(const phantom::Phantom& ph, bool flatten) {
  const int tuneSlice = 0;
  cv::Mat slice = content(ph, tuneSlice);
  if (flatten) slice = flattened(slice);
  const cv::Mat cam = camMask(slice, otsuThreshold(slice));
  const cv::Mat annotation = annotationLabels(sparseAnnotation(ph.truthLabels(tuneSlice), 0.01, 7), "test");
  Outcome out;
  out.tune = tuneGabor(slice, cam, annotation, defaultGaborSweep());
  SegmentParams params{OtsuScope::PerSlice, out.tune.best.gabor, out.tune.best.threshold, Convolution::Auto,
                       {0, 0, 0}, {0, 1, 2}};
  measure::SegmentationScorer scorer;
  for (int z = 1; z < ph.params().slices; ++z) {
    cv::Mat s = content(ph, z);
    if (flatten) s = flattened(s);
    scorer.add(segmentSlice(s, params).labels, ph.truthLabels(z));
  }
  out.score = scorer.result();
  return out;
}

TEST(SegmentAccuracy, TunedFromOneSparselyPaintedSlice) {
  const phantom::Phantom ph(driftFree());
  for (bool flatten : {false, true}) {
    const Outcome o = run(ph, flatten);
    const auto& b = o.tune.best;
    std::printf("flatten=%d tune score %.3f k%d s%g th%g l%g g%g p%g thr %.2f | %s\n", flatten, b.score,
                b.gabor.kernelSize, b.gabor.sigma, b.gabor.thetaDeg, b.gabor.lambda, b.gabor.gamma, b.gabor.psiDeg,
                b.threshold, measure::formatSegmentationScore(o.score).c_str());
  }
}

}  // namespace
}  // namespace fibseg::segment
