// The Gabor filter: the kernel is OpenCV's, and the three ways of applying it agree.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include <random>

#include "fibseg/core/error.hpp"
#include "fibseg/segment/segment.hpp"

namespace fibseg::segment {
namespace {

cv::Mat randomImage(cv::Size size, unsigned seed) {
  cv::Mat image(size, CV_32F);
  cv::RNG rng(seed);
  rng.fill(image, cv::RNG::UNIFORM, 0, 255);
  return image;
}

double maxAbs(const cv::Mat& a) {
  double lo, hi;
  cv::minMaxLoc(a, &lo, &hi);
  return std::max(std::abs(lo), std::abs(hi));
}

TEST(Gabor, KernelIsOpenCvsWithAnglesInDegrees) {
  const GaborParams g{21, 3.5, 30, 9, 0.6, 90};
  const cv::Mat expected =
      cv::getGaborKernel(cv::Size(21, 21), 3.5, 30 * CV_PI / 180, 9, 0.6, CV_PI / 2, CV_32F);
  EXPECT_EQ(cv::norm(gaborKernel(g), expected, cv::NORM_INF), 0.0);
}

TEST(Gabor, ImpulseResponseIsTheKernelTurnedHalfAround) {
  // filter2D correlates: a single bright pixel returns the kernel rotated by 180 degrees.
  const GaborParams g{9, 2, 30, 6, 0.7, 40};
  cv::Mat impulse = cv::Mat::zeros(31, 31, CV_32F);
  impulse.at<float>(15, 15) = 1;
  cv::Mat flipped;
  cv::flip(gaborKernel(g), flipped, -1);
  for (auto method : {Convolution::Auto, Convolution::OpenCv, Convolution::Spatial, Convolution::Dft}) {
    const cv::Mat r = gaborResponse(impulse, g, method);
    EXPECT_LT(cv::norm(r(cv::Rect(11, 11, 9, 9)), flipped, cv::NORM_INF), 1e-5) << int(method);
    EXPECT_LT(maxAbs(r(cv::Rect(0, 0, 31, 11))), 1e-5) << int(method);
  }
}

TEST(Gabor, SpatialAndDftAgreeWithFilter2DIncludingBorders) {
  const cv::Mat image = randomImage({97, 61}, 1);
  for (const GaborParams& g : {GaborParams{5, 1.5, 0, 4, 1, 0}, GaborParams{15, 3, 45, 10, 0.5, 0},
                               GaborParams{31, 6, 120, 16, 0.8, 90}}) {
    const cv::Mat reference = gaborResponse(image, g, Convolution::OpenCv);
    const double scale = maxAbs(reference);
    for (auto method : {Convolution::Auto, Convolution::Spatial, Convolution::Dft}) {
      const cv::Mat r = gaborResponse(image, g, method);
      ASSERT_EQ(r.size(), image.size());
      EXPECT_LT(cv::norm(r, reference, cv::NORM_INF), 1e-4 * scale) << "kernel " << g.kernelSize << " method "
                                                                      << int(method);
    }
  }
}

TEST(Gabor, SeparableRankOfGaborKernels) {
  // Orientation along an axis: envelope and cosine both split into row x column (rank 1).
  EXPECT_EQ(separableRank(gaborKernel({31, 5, 0, 10, 0.5, 0})), 1);
  EXPECT_EQ(separableRank(gaborKernel({31, 5, 90, 10, 0.5, 30})), 1);
  // Round envelope, oblique stripes: cos(ax + by) = cos ax cos by - sin ax sin by (rank 2).
  EXPECT_EQ(separableRank(gaborKernel({31, 5, 30, 10, 1, 0})), 2);
  // Elongated envelope at an angle: no short sum.
  EXPECT_GT(separableRank(gaborKernel({31, 5, 30, 10, 0.5, 0})), 2);
  EXPECT_EQ(separableRank(cv::Mat::zeros(5, 5, CV_32F)), 0);
}

TEST(Gabor, PoreCandidateImageInvertsOnTheEightBitScaleAndBlanksCam) {
  cv::Mat slice8(1, 3, CV_8U);
  slice8.at<uchar>(0) = 0;
  slice8.at<uchar>(1) = 100;
  slice8.at<uchar>(2) = 250;
  cv::Mat cam = cv::Mat::zeros(1, 3, CV_8U);
  cam.at<uchar>(2) = 255;
  const cv::Mat p8 = poreCandidateImage(slice8, cam);
  EXPECT_FLOAT_EQ(p8.at<float>(0), 255);
  EXPECT_FLOAT_EQ(p8.at<float>(1), 155);
  EXPECT_FLOAT_EQ(p8.at<float>(2), 0);

  cv::Mat slice16(1, 3, CV_16U);
  slice16.at<ushort>(0) = 0;
  slice16.at<ushort>(1) = 25700 + 100;  // 100.389 grey levels on the 8-bit scale: kept, not rounded
  slice16.at<ushort>(2) = 64000;
  const cv::Mat p16 = poreCandidateImage(slice16, cam);
  EXPECT_FLOAT_EQ(p16.at<float>(0), 255);
  EXPECT_NEAR(p16.at<float>(1), 255 - 25800.0 / 257, 1e-3);
  EXPECT_FLOAT_EQ(p16.at<float>(2), 0);
}

TEST(Gabor, RejectsImpossibleKernels) {
  EXPECT_THROW(gaborKernel({8, 2, 0, 8, 1, 0}), Error);
  EXPECT_THROW(gaborKernel({9, 0, 0, 8, 1, 0}), Error);
  EXPECT_THROW(gaborKernel({9, 2, 0, 0, 1, 0}), Error);
  EXPECT_THROW(gaborKernel({9, 2, 0, 8, 0, 0}), Error);
}

}  // namespace
}  // namespace fibseg::segment
