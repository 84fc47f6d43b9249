// Light enhancement: gamma follows its formula exactly; CLAHE raises a weak contrast and keeps
// the brighter region brighter; bad parameters are errors.
#include <gtest/gtest.h>

#include <cmath>

#include "fibseg/core/error.hpp"
#include "fibseg/intensity/intensity.hpp"

namespace fibseg::intensity {
namespace {

TEST(EnhanceContrast, GammaFollowsTheFormula) {
  cv::Mat image(1, 3, CV_8U);
  image.at<uchar>(0) = 0, image.at<uchar>(1) = 64, image.at<uchar>(2) = 255;
  const cv::Mat out = enhanceContrast(image, {false, 2, 64, 0.5});
  EXPECT_EQ(out.at<uchar>(0), 0);
  EXPECT_EQ(out.at<uchar>(1), 128);  // 255 * sqrt(64 / 255) = 127.75
  EXPECT_EQ(out.at<uchar>(2), 255);
  cv::Mat deep(1, 1, CV_16U, cv::Scalar(32768));
  EXPECT_NEAR(enhanceContrast(deep, {false, 2, 64, 2.0}).at<ushort>(0), 65535 * std::pow(32768 / 65535.0, 2), 0.5);
  // Gamma 1 and no CLAHE: unchanged.
  EXPECT_EQ(cv::norm(enhanceContrast(image, {false, 2, 64, 1.0}), image, cv::NORM_INF), 0);
}

void checkClahe(int type, double scale) {
  // Left half 100, right half 110 (8-bit scale), with noise.
  cv::Mat image(128, 128, type);
  cv::RNG rng(5);
  rng.fill(image, cv::RNG::NORMAL, 100 * scale, 2 * scale);
  cv::Mat right = image(cv::Rect(64, 0, 64, 128));
  right += cv::Scalar(10 * scale);
  const cv::Mat out = enhanceContrast(image, {true, 3, 32, 1.0});
  ASSERT_EQ(out.type(), type);
  const double before = cv::mean(right)[0] - cv::mean(image(cv::Rect(0, 0, 64, 128)))[0];
  const double after = cv::mean(out(cv::Rect(64, 0, 64, 128)))[0] - cv::mean(out(cv::Rect(0, 0, 64, 128)))[0];
  // Tiles inside one half hold one level plus noise, so only the tiles across the border gain much.
  EXPECT_GT(after, 1.3 * before);
}

TEST(EnhanceContrast, ClaheRaisesContrast8And16Bit) {
  checkClahe(CV_8U, 1);
  checkClahe(CV_16U, 257);
}

TEST(EnhanceContrast, BadParametersThrow) {
  cv::Mat image(16, 16, CV_8U, cv::Scalar(1));
  EXPECT_THROW(enhanceContrast(image, {true, 0, 64, 1}), Error);
  EXPECT_THROW(enhanceContrast(image, {true, 2, 2, 1}), Error);
  EXPECT_THROW(enhanceContrast(image, {false, 2, 64, -1}), Error);
  EXPECT_THROW(enhanceContrast(cv::Mat(4, 4, CV_32F), {false, 2, 64, 1}), Error);
}

}  // namespace
}  // namespace fibseg::intensity
