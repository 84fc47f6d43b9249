// Shading correction: a known ramp is flattened exactly; on the phantom (darker towards the
// bottom) the same material gets the same grey level at the top and the bottom, the mean grey
// level is kept and the phases separate no worse.
#include <gtest/gtest.h>

#include <iostream>

#include "fibseg/core/error.hpp"
#include "fibseg/core/image.hpp"
#include "fibseg/intensity/intensity.hpp"
#include "stack_measures.hpp"

namespace fibseg::intensity {
namespace {

using testing::PhaseGreys;

TEST(CorrectShading, FlattensAKnownRamp) {
  // 100 grey at the top falling linearly to 70 at the bottom, with a bright square that must keep
  // its contrast ratio (division) while the ramp goes.
  cv::Mat image(96, 64, CV_16U);
  for (int y = 0; y < 96; ++y) image.row(y).setTo(cv::Scalar(257.0 * 100 * (1 - 0.3 * y / 95)));
  for (ShadingMethod method : {ShadingMethod::Polynomial, ShadingMethod::Gaussian})
    for (ShadingMode mode : {ShadingMode::Divide, ShadingMode::Subtract}) {
      const cv::Mat out = correctShading(image, {method, mode, 0, 1});
      cv::Scalar mean, sd;
      cv::meanStdDev(out, mean, sd);
      EXPECT_NEAR(mean[0], cv::mean(image)[0], 1.0);  // mean grey kept (16-bit levels)
      // The polynomial reproduces a linear ramp exactly; a Gaussian of a ramp is the ramp inside
      // but flattens near the top and bottom border (reflected there), so it removes most of the
      // ramp (standard deviation 8.7 grey levels) but not all.
      cv::Scalar meanIn, sdIn;
      cv::meanStdDev(image, meanIn, sdIn);
      EXPECT_LT(sd[0], method == ShadingMethod::Polynomial ? 1.0 : 0.3 * sdIn[0]) << int(method) << int(mode);
    }
}

TEST(CorrectShading, NoneCopiesBadOrderThrows) {
  cv::Mat image(32, 32, CV_8U, cv::Scalar(7));
  EXPECT_EQ(cv::norm(correctShading(image, {ShadingMethod::None, ShadingMode::Divide, 0, 0}), image, cv::NORM_INF), 0);
  EXPECT_THROW(correctShading(image, {ShadingMethod::Polynomial, ShadingMode::Divide, 0, 7}), Error);
  EXPECT_THROW(correctShading(image, {ShadingMethod::Gaussian, ShadingMode::Divide, -3, 1}), Error);
}

// SE grey level (truth labels) in the top and bottom quarter of the slice.
std::pair<double, double> seTopBottom(const cv::Mat& image, const cv::Mat& truth) {
  const int q = image.rows / 4;
  PhaseGreys top, bottom;
  top.add(image.rowRange(0, q), truth.rowRange(0, q));
  bottom.add(image.rowRange(image.rows - q, image.rows), truth.rowRange(image.rows - q, image.rows));
  return {top.peak(SolidElectrolyte), bottom.peak(SolidElectrolyte)};
}

// `residual`: the largest top-bottom SE difference left, as a fraction of the one before. The
// phantom's shading multiplies (like detector efficiency), so subtracting removes it only on
// average over the phases; a Gaussian background also follows clusters of bright grains.
void checkPhantom(int bitDepth, ShadingMethod method, ShadingMode mode, double residual) {
  auto params = testing::stillPhantom(bitDepth);
  params.slices = 3;
  params.curtaining = 0;  // shading alone
  params.shading = 0.25;
  const phantom::Phantom ph(params);
  const double scale = bitDepth == 16 ? 257 : 1;
  PhaseGreys before, after;
  for (int z = 0; z < params.slices; ++z) {
    const cv::Mat raw = testing::contentOf(ph, z), truth = ph.truthLabels(z);
    const cv::Mat out = correctShading(raw, {method, mode, 0, 2});
    const auto [topBefore, bottomBefore] = seTopBottom(raw, truth);
    const auto [topAfter, bottomAfter] = seTopBottom(out, truth);
    std::cout << "  slice " << z << ": SE grey top/bottom " << topBefore / scale << "/" << bottomBefore / scale
              << " -> " << topAfter / scale << "/" << bottomAfter / scale << ", mean " << cv::mean(raw)[0] / scale
              << " -> " << cv::mean(out)[0] / scale << " (8-bit scale)\n";
    EXPECT_LE(std::fabs(topAfter - bottomAfter), residual * std::fabs(topBefore - bottomBefore));
    EXPECT_NEAR(cv::mean(out)[0], cv::mean(raw)[0], 0.5 * scale);
    before.add(raw, truth);
    after.add(out, truth);
  }
  std::cout << "  separation pore/SE " << before.separation(Pore, SolidElectrolyte) << " -> "
            << after.separation(Pore, SolidElectrolyte) << ", SE/CAM " << before.separation(SolidElectrolyte, ActiveMaterial)
            << " -> " << after.separation(SolidElectrolyte, ActiveMaterial) << "\n";
  EXPECT_GE(after.separation(Pore, SolidElectrolyte), before.separation(Pore, SolidElectrolyte));
  EXPECT_GE(after.separation(SolidElectrolyte, ActiveMaterial), before.separation(SolidElectrolyte, ActiveMaterial));
}

TEST(CorrectShadingOnPhantom, PolynomialDivide8Bit) { checkPhantom(8, ShadingMethod::Polynomial, ShadingMode::Divide, 0.25); }
TEST(CorrectShadingOnPhantom, PolynomialSubtract16Bit) {
  checkPhantom(16, ShadingMethod::Polynomial, ShadingMode::Subtract, 0.5);
}
TEST(CorrectShadingOnPhantom, GaussianDivide8Bit) { checkPhantom(8, ShadingMethod::Gaussian, ShadingMode::Divide, 0.5); }

}  // namespace
}  // namespace fibseg::intensity
