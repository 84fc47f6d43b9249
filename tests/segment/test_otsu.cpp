// Otsu threshold between active material (bright) and the rest, 8- and 16-bit, per slice and from
// a stack histogram accumulated slice by slice.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include <random>

#include "fibseg/core/error.hpp"
#include "fibseg/segment/segment.hpp"

namespace fibseg::segment {
namespace {

// Two noisy populations (no empty bins between them, so the maximum is unique).
cv::Mat twoPopulations(int depth, double dark, double bright, double sigma, unsigned seed) {
  cv::Mat image(64, 64, depth == 8 ? CV_8U : CV_16U);
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0, sigma);
  const double top = depth == 8 ? 255 : 65535;
  for (int y = 0; y < image.rows; ++y)
    for (int x = 0; x < image.cols; ++x) {
      const double v = std::clamp((x < 24 ? bright : dark) + noise(rng), 0.0, top);
      if (depth == 8) image.at<uchar>(y, x) = cv::saturate_cast<uchar>(v);
      else image.at<ushort>(y, x) = cv::saturate_cast<ushort>(v);
    }
  return image;
}

TEST(Otsu, MatchesOpenCvOnAnEightBitSlice) {
  const cv::Mat slice = twoPopulations(8, 100, 180, 20, 3);
  cv::Mat ignored;
  const double expected = cv::threshold(slice, ignored, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
  EXPECT_EQ(otsuThreshold(slice), int(expected));
}

TEST(Otsu, GapBetweenTwoLevelsGivesTheMiddleAndAnExactMask) {
  cv::Mat slice(8, 8, CV_8U, cv::Scalar(60));
  slice(cv::Rect(0, 0, 3, 8)).setTo(200);  // 24 CAM pixels
  EXPECT_EQ(otsuThreshold(slice), 129);  // plateau 60..199, middle
  const cv::Mat mask = camMask(slice, otsuThreshold(slice));
  EXPECT_EQ(cv::countNonZero(mask), 24);
  EXPECT_EQ(cv::countNonZero(mask(cv::Rect(0, 0, 3, 8))), 24);
}

TEST(Otsu, SixteenBitUsesTheFullHistogram) {
  // 1000 and 1100 are both grey level 4 after an 8-bit conversion (/257, rounded); only a full 65536-bin
  // Otsu can separate them.
  cv::Mat slice(8, 8, CV_16U, cv::Scalar(1000));
  slice(cv::Rect(5, 0, 3, 8)).setTo(1100);
  const int t = otsuThreshold(slice);
  EXPECT_GE(t, 1000);
  EXPECT_LT(t, 1100);
  const cv::Mat mask = camMask(slice, t);
  EXPECT_EQ(cv::countNonZero(mask), 24);
  EXPECT_EQ(cv::countNonZero(mask(cv::Rect(5, 0, 3, 8))), 24);

  // Noisy 16-bit populations: the threshold lands between the two means, at 16-bit resolution.
  const cv::Mat noisy = twoPopulations(16, 20000, 40000, 3000, 5);
  const int tn = otsuThreshold(noisy);
  EXPECT_GT(tn, 26000);
  EXPECT_LT(tn, 34000);
  EXPECT_NE(tn % 257, 0) << "suspiciously on the 8-bit grid";
}

TEST(Otsu, StackHistogramEqualsTheHistogramOfAllSlicesTogether) {
  const cv::Mat a = twoPopulations(8, 90, 170, 15, 11), b = twoPopulations(8, 110, 200, 15, 12);
  GreyHistogram stack(8), other(8);
  stack.add(a);
  other.add(b);
  stack.merge(other);
  EXPECT_EQ(stack.total(), a.total() + b.total());
  cv::Mat both;
  cv::vconcat(a, b, both);
  EXPECT_EQ(otsuThreshold(stack), otsuThreshold(both));
  EXPECT_NE(otsuThreshold(stack), otsuThreshold(a));  // a different answer than one slice's
}

TEST(Otsu, RejectsFlatSlicesAndMixedDepths) {
  EXPECT_THROW(otsuThreshold(cv::Mat(4, 4, CV_8U, cv::Scalar(7))), Error);
  GreyHistogram h(8);
  EXPECT_THROW(otsuThreshold(h), Error);
  EXPECT_THROW(h.add(cv::Mat(4, 4, CV_16U, cv::Scalar(7))), Error);
  EXPECT_THROW(GreyHistogram(12), Error);
}

}  // namespace
}  // namespace fibseg::segment
