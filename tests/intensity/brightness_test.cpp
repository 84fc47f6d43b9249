// Brightness equalisation: statistics of hand-built images with known answers, and on a phantom
// stack whose slices carry gain/offset jitter and a brightness trend, the slice medians line up.
#include <gtest/gtest.h>

#include <iostream>

#include "fibseg/core/error.hpp"
#include "fibseg/core/image.hpp"
#include "fibseg/intensity/intensity.hpp"
#include "stack_measures.hpp"

namespace fibseg::intensity {
namespace {

using testing::PhaseGreys;
using testing::spread;

BrightnessParams params(BrightnessMethod method, BrightnessReference reference = BrightnessReference::StackMedian) {
  return {method, reference, 5, 95};
}

TEST(BrightnessStats, PercentilesOfAKnownImage) {
  // 8x8 image holding 0..63 once each: a fraction f of the pixels lies below 64 f - 0.5.
  cv::Mat image(8, 8, CV_8U);
  for (int i = 0; i < 64; ++i) image.at<uchar>(i / 8, i % 8) = uchar(i);
  const BrightnessStats s = measureBrightness(image);
  EXPECT_EQ(s.bitDepth, 8);
  EXPECT_NEAR(s.median(), 31.5, 1e-9);
  EXPECT_NEAR(s.p05(), 64 * 0.05 - 0.5, 1e-9);
  EXPECT_NEAR(s.p95(), 64 * 0.95 - 0.5, 1e-9);
  EXPECT_NEAR(s.percentile(0), -0.5, 1e-9);
  EXPECT_NEAR(s.percentile(100), 63.5, 1e-9);
}

TEST(BrightnessStats, SixteenBitAndConstantImage) {
  cv::Mat image(4, 4, CV_16U, cv::Scalar(40000));
  const BrightnessStats s = measureBrightness(image);
  EXPECT_EQ(s.bitDepth, 16);
  EXPECT_NEAR(s.median(), 40000, 1e-9);
  EXPECT_NEAR(s.p05(), 40000 - 0.45, 1e-9);
  EXPECT_THROW(measureBrightness(cv::Mat(4, 4, CV_32F)), Error);
}

TEST(BrightnessReference, MedianIsLevelWise) {
  std::vector<BrightnessStats> stats;
  for (int v : {10, 200, 30}) stats.push_back(measureBrightness(cv::Mat(4, 4, CV_8U, cv::Scalar(v))));
  EXPECT_NEAR(brightnessReference(stats, BrightnessReference::StackMedian).median(), 30, 1e-9);
  EXPECT_NEAR(brightnessReference(stats, BrightnessReference::FirstSlice).median(), 10, 1e-9);
  stats.push_back(measureBrightness(cv::Mat(4, 4, CV_16U, cv::Scalar(10))));
  EXPECT_THROW(brightnessReference(stats, BrightnessReference::StackMedian), Error);
  EXPECT_THROW(brightnessReference({}, BrightnessReference::FirstSlice), Error);
}

TEST(EqualiseBrightness, PercentilesUndoAGainAndOffset) {
  cv::Mat original(64, 64, CV_16U);
  cv::RNG rng(7);
  rng.fill(original, cv::RNG::UNIFORM, 10000, 50000);
  cv::Mat changed;
  original.convertTo(changed, CV_16U, 0.8, 3000);
  const cv::Mat back = equaliseBrightness(changed, measureBrightness(changed), measureBrightness(original),
                                          params(BrightnessMethod::Percentiles));
  cv::Mat diff;
  cv::absdiff(back, original, diff);
  double worst;
  cv::minMaxLoc(diff, nullptr, &worst);
  EXPECT_LE(worst, 3.0);  // 16-bit grey levels, after rounding twice
}

TEST(EqualiseBrightness, HistogramMatchingCopiesTheReferenceDistribution) {
  cv::Mat reference(64, 64, CV_8U), slice(64, 64, CV_8U);
  cv::RNG rng(3);
  rng.fill(reference, cv::RNG::NORMAL, 120, 25);
  rng.fill(slice, cv::RNG::UNIFORM, 20, 90);  // a different shape, not just gain and offset
  const BrightnessStats ref = measureBrightness(reference);
  const cv::Mat out = equaliseBrightness(slice, measureBrightness(slice), ref, params(BrightnessMethod::Histogram));
  const BrightnessStats got = measureBrightness(out);
  for (double p : {5.0, 25.0, 50.0, 75.0, 95.0}) EXPECT_NEAR(got.percentile(p), ref.percentile(p), 2.0) << p;
  // Monotone: brighter stays brighter.
  for (int i = 0; i < 200; ++i) {
    // Each draw its own: C++ leaves a call's argument order open; y before x was GCC's.
    const int ay = rng.uniform(0, 64), ax = rng.uniform(0, 64), by = rng.uniform(0, 64), bx = rng.uniform(0, 64);
    const cv::Point a(ax, ay), b(bx, by);
    if (slice.at<uchar>(a) < slice.at<uchar>(b)) {
      EXPECT_LE(out.at<uchar>(a), out.at<uchar>(b));
    }
  }
}

TEST(EqualiseBrightness, NoneIsACopyAndMismatchedDepthThrows) {
  cv::Mat slice(8, 8, CV_8U, cv::Scalar(9));
  const BrightnessStats s = measureBrightness(slice);
  EXPECT_EQ(cv::norm(equaliseBrightness(slice, s, s, params(BrightnessMethod::None)), slice, cv::NORM_INF), 0);
  const BrightnessStats s16 = measureBrightness(cv::Mat(8, 8, CV_16U, cv::Scalar(9)));
  EXPECT_THROW(equaliseBrightness(slice, s, s16, params(BrightnessMethod::Percentiles)), Error);
}

// The measure: the spread of slice medians over a phantom stack drops at least 5x, the
// same material keeps its grey level from slice to slice, and the phases separate no worse.
void checkStack(int bitDepth, BrightnessMethod method, BrightnessReference reference) {
  const phantom::Phantom ph(testing::stillPhantom(bitDepth));
  const int n = ph.params().slices;
  std::vector<cv::Mat> raw;
  std::vector<BrightnessStats> stats;
  for (int z = 0; z < n; ++z) {
    raw.push_back(testing::contentOf(ph, z));
    stats.push_back(measureBrightness(raw.back()));
  }
  const BrightnessStats ref = brightnessReference(stats, reference);
  std::vector<double> mediansBefore, mediansAfter, seBefore, seAfter;
  PhaseGreys before, after;
  for (int z = 0; z < n; ++z) {
    const cv::Mat out = equaliseBrightness(raw[z], stats[z], ref, params(method, reference));
    const cv::Mat truth = ph.truthLabels(z);
    mediansBefore.push_back(stats[z].median());
    mediansAfter.push_back(measureBrightness(out).median());
    PhaseGreys b, a;
    b.add(raw[z], truth);
    a.add(out, truth);
    seBefore.push_back(b.peak(SolidElectrolyte));
    seAfter.push_back(a.peak(SolidElectrolyte));
    before.add(raw[z], truth);
    after.add(out, truth);
  }
  const double scale = bitDepth == 16 ? 257 : 1;
  std::cout << "  median spread " << spread(mediansBefore) / scale << " -> " << spread(mediansAfter) / scale
            << ", SE peak spread " << spread(seBefore) / scale << " -> " << spread(seAfter) / scale
            << ", separation pore/SE " << before.separation(Pore, SolidElectrolyte) << " -> "
            << after.separation(Pore, SolidElectrolyte) << ", SE/CAM " << before.separation(SolidElectrolyte, ActiveMaterial)
            << " -> " << after.separation(SolidElectrolyte, ActiveMaterial) << " (grey levels on the 8-bit scale)\n";
  EXPECT_GE(spread(mediansBefore), 5 * spread(mediansAfter));
  EXPECT_GE(spread(seBefore), 2 * spread(seAfter));
  EXPECT_GE(after.separation(Pore, SolidElectrolyte), before.separation(Pore, SolidElectrolyte));
  EXPECT_GE(after.separation(SolidElectrolyte, ActiveMaterial), before.separation(SolidElectrolyte, ActiveMaterial));
}

TEST(EqualiseBrightnessOnPhantom, Percentiles8BitToStackMedian) {
  checkStack(8, BrightnessMethod::Percentiles, BrightnessReference::StackMedian);
}
TEST(EqualiseBrightnessOnPhantom, Percentiles16BitToFirstSlice) {
  checkStack(16, BrightnessMethod::Percentiles, BrightnessReference::FirstSlice);
}
TEST(EqualiseBrightnessOnPhantom, Histogram8BitToStackMedian) {
  checkStack(8, BrightnessMethod::Histogram, BrightnessReference::StackMedian);
}
TEST(EqualiseBrightnessOnPhantom, Histogram16BitToStackMedian) {
  checkStack(16, BrightnessMethod::Histogram, BrightnessReference::StackMedian);
}

}  // namespace
}  // namespace fibseg::intensity
