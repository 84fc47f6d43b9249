// The whole chain on a phantom stack with every artefact (brightness jitter and trend, shading,
// curtains): slice medians line up, stripes drop, phases separate no worse, and the brightness
// numbers for brightness.csv are the slice's statistics before and after.
#include <gtest/gtest.h>

#include <iostream>

#include "fibseg/core/image.hpp"
#include "fibseg/intensity/intensity.hpp"
#include "stack_measures.hpp"

namespace fibseg::intensity {
namespace {

using testing::PhaseGreys;
using testing::spread;

IntensityParams allSteps() {
  IntensityParams p;
  p.brightness = {BrightnessMethod::Percentiles, BrightnessReference::StackMedian, 5, 95};
  p.shading = {ShadingMethod::Polynomial, ShadingMode::Divide, 0, 2};
  p.curtaining = {true, 8, 128};
  p.enhance = {false, 2, 128, 1.0};
  return p;
}

TEST(CorrectIntensity, WholeChainOnPhantomStack) {
  const phantom::Phantom ph(testing::stillPhantom(8));
  const IntensityParams params = allSteps();
  ASSERT_TRUE(needsBrightnessReference(params));
  const int n = ph.params().slices;
  std::vector<cv::Mat> raw;
  std::vector<BrightnessStats> stats;
  for (int z = 0; z < n; ++z) {
    raw.push_back(testing::contentOf(ph, z));
    stats.push_back(measureBrightness(raw.back()));
  }
  const BrightnessStats reference = brightnessReference(stats, params.brightness.reference);
  std::vector<double> mediansBefore, mediansAfter;
  double stripesBefore = 0, stripesAfter = 0;
  PhaseGreys before, after;
  for (int z = 0; z < n; ++z) {
    const CorrectedSlice c = correctIntensity(raw[z], reference, params);
    ASSERT_EQ(c.image.size(), raw[z].size());
    ASSERT_EQ(c.image.type(), raw[z].type());
    const BrightnessStats out = measureBrightness(c.image);
    EXPECT_DOUBLE_EQ(c.brightness.medianBefore, stats[z].median());
    EXPECT_DOUBLE_EQ(c.brightness.p05Before, stats[z].p05());
    EXPECT_DOUBLE_EQ(c.brightness.p95Before, stats[z].p95());
    EXPECT_DOUBLE_EQ(c.brightness.medianAfter, out.median());
    EXPECT_DOUBLE_EQ(c.brightness.p05After, out.p05());
    EXPECT_DOUBLE_EQ(c.brightness.p95After, out.p95());
    mediansBefore.push_back(c.brightness.medianBefore);
    mediansAfter.push_back(c.brightness.medianAfter);
    stripesBefore += stripeAmplitude(raw[z], 8) / n;
    stripesAfter += stripeAmplitude(c.image, 8) / n;
    before.add(raw[z], ph.truthLabels(z));
    after.add(c.image, ph.truthLabels(z));
  }
  std::cout << "  median spread " << spread(mediansBefore) << " -> " << spread(mediansAfter)
            << ", column-mean stripe amplitude (with content) " << stripesBefore << " -> " << stripesAfter
            << ", separation pore/SE " << before.separation(Pore, SolidElectrolyte) << " -> "
            << after.separation(Pore, SolidElectrolyte) << ", SE/CAM " << before.separation(SolidElectrolyte, ActiveMaterial)
            << " -> " << after.separation(SolidElectrolyte, ActiveMaterial) << "\n";
  EXPECT_GE(spread(mediansBefore), 5 * spread(mediansAfter));
  EXPECT_LT(stripesAfter, stripesBefore);
  EXPECT_GE(after.separation(Pore, SolidElectrolyte), before.separation(Pore, SolidElectrolyte));
  EXPECT_GE(after.separation(SolidElectrolyte, ActiveMaterial), before.separation(SolidElectrolyte, ActiveMaterial));
}

TEST(CorrectIntensity, NothingEnabledIsIdentity) {
  IntensityParams p = allSteps();
  p.brightness.method = BrightnessMethod::None;
  p.shading.method = ShadingMethod::None;
  p.curtaining.enabled = false;
  EXPECT_FALSE(needsBrightnessReference(p));
  cv::Mat image(40, 50, CV_16U);
  cv::RNG(1).fill(image, cv::RNG::UNIFORM, 0, 65535);
  const CorrectedSlice c = correctIntensity(image, BrightnessStats{}, p);
  EXPECT_EQ(cv::norm(c.image, image, cv::NORM_INF), 0);
  EXPECT_DOUBLE_EQ(c.brightness.medianBefore, c.brightness.medianAfter);
}

}  // namespace
}  // namespace fibseg::intensity
