// Output areas and moving slices onto slice 0's frame.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "fibseg/align/align.hpp"
#include "fibseg/core/error.hpp"

namespace fibseg::align {
namespace {

TEST(OutputArea, CommonAreaIsWhatEverySliceCovers) {
  // 20 x 10 slices; aligned slice z covers x in [-s.x, 19 - s.x], y in [-s.y, 9 - s.y].
  const std::vector<cv::Point2d> shifts{{0, 0}, {2.5, -1}, {-1, 3}};
  EXPECT_EQ(commonArea(shifts, {20, 10}), cv::Rect(1, 1, 16, 6));  // x 1..16, y 1..6
  EXPECT_EQ(outputRect(shifts, {20, 10}, CropMode::Common), cv::Rect(1, 1, 16, 6));
  EXPECT_EQ(commonArea({{0, 0}}, {20, 10}), cv::Rect(0, 0, 20, 10));
}

TEST(OutputArea, PaddedAreaIsWhatAnySliceCovers) {
  const std::vector<cv::Point2d> shifts{{0, 0}, {2.5, -1}, {-1, 3}};
  EXPECT_EQ(paddedArea(shifts, {20, 10}), cv::Rect(-2, -3, 23, 14));  // x -2..20, y -3..10
  EXPECT_EQ(outputRect(shifts, {20, 10}, CropMode::Pad), cv::Rect(-2, -3, 23, 14));
}

TEST(OutputArea, NoSharedPixelIsAnError) {
  EXPECT_THROW(commonArea({{0, 0}, {25, 0}}, {20, 10}), Error);
}

TEST(ApplyShift, IntegerShiftMovesPixelsExactly) {
  cv::Mat slice(10, 12, CV_8U);
  for (int y = 0; y < slice.rows; ++y)
    for (int x = 0; x < slice.cols; ++x) slice.at<uchar>(y, x) = uchar(10 * y + x);
  // Content displaced by (2, 1): aligned(y, x) = slice(y + 1, x + 2).
  const cv::Rect area = commonArea({{0, 0}, {2, 1}}, slice.size());
  EXPECT_EQ(area, cv::Rect(0, 0, 10, 9));
  const cv::Mat out = applyShift(slice, {2, 1}, area);
  ASSERT_EQ(out.type(), CV_8U);
  for (int y = 0; y < out.rows; ++y)
    for (int x = 0; x < out.cols; ++x) ASSERT_EQ(out.at<uchar>(y, x), slice.at<uchar>(y + 1, x + 2)) << x << "," << y;
}

TEST(ApplyShift, SubPixelShiftOfASmoothImage) {
  // A linear ramp is reproduced exactly by bicubic interpolation (away from the outermost
  // pixels, where the kernel reaches past the slice and sees replicated border values), up to
  // OpenCV's interpolation table, which places sub-pixel positions to 1/32 px (3 grey levels
  // on this 100-per-px ramp).
  cv::Mat slice(16, 16, CV_16U);
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x) slice.at<ushort>(y, x) = ushort(1000 + 100 * x + 40 * y);
  const cv::Point2d shift(0.5, 0.25);
  const cv::Rect area = commonArea({{0, 0}, shift}, slice.size());
  const cv::Mat out = applyShift(slice, shift, area);
  ASSERT_EQ(out.type(), CV_16U);
  for (int y = 1; y + 1 < out.rows; ++y)
    for (int x = 1; x + 1 < out.cols; ++x)
      EXPECT_NEAR(out.at<ushort>(y, x), 1000 + 100 * (x + area.x + 0.5) + 40 * (y + area.y + 0.25), 3.0);
}

TEST(ApplyShift, PaddedPixelsOutsideTheSliceAreZero) {
  const cv::Mat slice(10, 12, CV_8U, cv::Scalar(100));
  const std::vector<cv::Point2d> shifts{{0, 0}, {3, -2}};
  const cv::Rect area = paddedArea(shifts, slice.size());
  EXPECT_EQ(area, cv::Rect(-3, 0, 15, 12));
  const cv::Mat aligned0 = applyShift(slice, shifts[0], area);  // slice 0 covers x 0..11, y 0..9
  EXPECT_EQ(cv::countNonZero(aligned0), 12 * 10);
  EXPECT_EQ(cv::countNonZero(aligned0(cv::Rect(3, 0, 12, 10))), 12 * 10);
  const cv::Mat aligned1 = applyShift(slice, shifts[1], area);  // covers x -3..8, y 2..11
  EXPECT_EQ(cv::countNonZero(aligned1(cv::Rect(0, 2, 12, 10))), 12 * 10);
  EXPECT_EQ(cv::countNonZero(aligned1), 12 * 10);
}

}  // namespace
}  // namespace fibseg::align
