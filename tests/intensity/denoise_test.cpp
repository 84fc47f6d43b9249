// Denoising before segmentation, on hand-built images with known answers.
#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <cmath>

#include "fibseg/core/error.hpp"
#include "fibseg/intensity/denoise.hpp"

using namespace fibseg;
using namespace fibseg::intensity;

namespace {
DenoiseParams params(DenoiseMethod method) { return {method, 2.0, 5, 50.0, 3.0, 0.04, 5, 6}; }
}  // namespace

TEST(Denoise, GaussianSpreadsAnImpulseAsTheNormalDensity) {
  cv::Mat impulse = cv::Mat::zeros(41, 41, CV_16U);
  impulse.at<std::uint16_t>(20, 20) = 65535;
  const cv::Mat out = denoise(impulse, params(DenoiseMethod::Gaussian));
  ASSERT_EQ(out.type(), CV_16U);
  // Centre of a 2D Gaussian of sigma 2: 1 / (2 pi sigma^2) of the mass; one sigma away, e^-1/2 of that.
  const double centre = 65535 / (2 * CV_PI * 4);
  EXPECT_NEAR(out.at<std::uint16_t>(20, 20), centre, 0.01 * centre);
  EXPECT_NEAR(out.at<std::uint16_t>(20, 22), centre * std::exp(-0.5), 0.02 * centre);
  EXPECT_NEAR(cv::sum(out)[0], 65535, 65535 * 0.001);  // mass kept
}

TEST(Denoise, MedianRemovesSpecksAndKeepsAStraightEdge) {
  for (int type : {CV_8U, CV_16U})
    for (int size : {3, 5, 7}) {
      const double high = type == CV_8U ? 200 : 50000;
      cv::Mat step(20, 20, type, cv::Scalar(10));
      step.colRange(10, 20).setTo(high);
      cv::Mat specked = step.clone();
      if (type == CV_8U) specked.at<std::uint8_t>(5, 4) = 255, specked.at<std::uint8_t>(12, 15) = 0;
      else specked.at<std::uint16_t>(5, 4) = 65535, specked.at<std::uint16_t>(12, 15) = 0;
      DenoiseParams p = params(DenoiseMethod::Median);
      p.medianSize = size;
      const cv::Mat out = denoise(specked, p);
      EXPECT_EQ(cv::countNonZero(out != step), 0) << "type " << type << " size " << size;
    }
  DenoiseParams even = params(DenoiseMethod::Median);
  even.medianSize = 4;
  EXPECT_THROW(denoise(cv::Mat(8, 8, CV_8U, cv::Scalar(1)), even), Error);
}

TEST(Denoise, BilateralSmoothsNoiseButNotAStrongEdge) {
  cv::Mat clean(40, 40, CV_8U, cv::Scalar(60));
  clean.colRange(20, 40).setTo(200);
  cv::Mat noise(clean.size(), CV_16S);
  cv::setRNGSeed(3);
  cv::randn(noise, 0, 8);
  cv::Mat noisy;
  cv::add(clean, noise, noisy, cv::noArray(), CV_8U);
  const cv::Mat out = denoise(noisy, params(DenoiseMethod::Bilateral));
  cv::Scalar meanIn, sdIn, meanOut, sdOut;
  cv::meanStdDev(noisy(cv::Rect(2, 2, 14, 36)), meanIn, sdIn);
  cv::meanStdDev(out(cv::Rect(2, 2, 14, 36)), meanOut, sdOut);
  EXPECT_LT(sdOut[0], 0.5 * sdIn[0]);  // flat region: noise at least halved
  // Across the edge (140 grey levels, far beyond sigma_grey 50) the sides stay apart: the
  // columns beside the edge keep their own side's level within the noise.
  EXPECT_NEAR(cv::mean(out.col(19))[0], 60, 6);
  EXPECT_NEAR(cv::mean(out.col(20))[0], 200, 6);
  // A Gaussian of the same reach mixes them.
  const cv::Mat blurred = denoise(noisy, params(DenoiseMethod::Gaussian));
  EXPECT_GT(cv::mean(blurred.col(19))[0], 90);
}

TEST(Denoise, NoneIsTheSliceItself) {
  const cv::Mat slice(4, 4, CV_8U, cv::Scalar(7));
  EXPECT_EQ(denoise(slice, params(DenoiseMethod::None)).data, slice.data);
  EXPECT_EQ(describeDenoise(params(DenoiseMethod::Median)), "median size=5 px");
}
