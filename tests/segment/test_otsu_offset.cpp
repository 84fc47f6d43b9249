// segment.otsu_offset (the studio's Otsu slider): grey levels added to the Otsu threshold, the
// slice's own or the stack's, before it splits active material from the rest.
#include <gtest/gtest.h>

#include "fibseg/core/image.hpp"
#include "fibseg/segment/segment.hpp"

namespace fibseg::segment {
namespace {

TEST(OtsuOffset, MovesTheActiveMaterialThresholdByTheOffset) {
  // Three grey levels in columns: 40, 100 and 200; Otsu puts CAM above some t in [100, 200).
  cv::Mat slice(16, 48, CV_8U);
  slice.colRange(0, 16).setTo(40);
  slice.colRange(16, 32).setTo(100);
  slice.colRange(32, 48).setTo(200);
  SegmentParams p{OtsuScope::PerSlice, {1, 1, 0, 1000, 1, 0}, 1e9, Convolution::Auto, {0, 0, 0}};
  const int otsu = otsuThreshold(slice);
  ASSERT_GE(otsu, 100);
  ASSERT_LT(otsu, 200);
  const auto plain = segmentSlice(slice, p);
  EXPECT_EQ(plain.camThreshold, otsu);
  EXPECT_EQ(cv::countNonZero(plain.labels == ActiveMaterial), 16 * 16);
  // An offset that brings the threshold below 100 takes the middle column into CAM.
  p.otsuOffset = 99 - otsu;
  const auto lower = segmentSlice(slice, p);
  EXPECT_EQ(lower.camThreshold, 99);
  EXPECT_EQ(cv::countNonZero(lower.labels == ActiveMaterial), 32 * 16);
  // One at or above 200 leaves no CAM; a given (stack) threshold is offset the same way.
  p.otsuOffset = 200 - otsu;
  EXPECT_EQ(cv::countNonZero(segmentSlice(slice, p).labels == ActiveMaterial), 0);
  p.otsuOffset = -10;
  EXPECT_EQ(segmentSlice(slice, p, 150).camThreshold, 140);
}

}  // namespace
}  // namespace fibseg::segment
