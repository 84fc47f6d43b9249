#include <gtest/gtest.h>

#include "fibseg/core/error.hpp"
#include "fibseg/measure/score.hpp"

using namespace fibseg;

TEST(ShiftScore, HandComputed) {
  const auto s = measure::scoreShifts({{0, 0}, {1, 1}, {2, 2}}, {{0, 0}, {1, 1}, {2 + 3, 2 + 4}});
  EXPECT_DOUBLE_EQ(s.maxError, 5.0);
  EXPECT_DOUBLE_EQ(s.rmsError, std::sqrt(25.0 / 3));
  EXPECT_THROW(measure::scoreShifts({{0, 0}}, {}), Error);
}

TEST(SegmentationScore, HandComputedFourByFour) {
  // truth: top half CAM (2), bottom-left SE (1), bottom-right pore (0)
  cv::Mat truth = (cv::Mat_<uchar>(4, 4) << 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 0, 0, 1, 1, 0, 0);
  cv::Mat seg = truth.clone();
  seg.at<uchar>(2, 1) = 0;  // one SE pixel called pore
  measure::SegmentationScorer scorer;
  scorer.add(seg, truth);
  const auto s = scorer.result();
  EXPECT_DOUBLE_EQ(s.iou[2], 1.0);
  EXPECT_DOUBLE_EQ(s.iou[1], 3.0 / 4);  // 3 right of 4 truth SE, no extra
  EXPECT_DOUBLE_EQ(s.iou[0], 4.0 / 5);  // 4 right, union 5
  EXPECT_DOUBLE_EQ(s.accuracy, 15.0 / 16);
  EXPECT_DOUBLE_EQ(s.fractionSegmented[0], 5.0 / 16);
}

TEST(SegmentationScore, CropOffsetSelectsTheTruthRegion) {
  cv::Mat truth = (cv::Mat_<uchar>(3, 3) << 0, 0, 0, 0, 1, 2, 0, 2, 1);
  cv::Mat seg = (cv::Mat_<uchar>(2, 2) << 1, 2, 2, 1);
  measure::SegmentationScorer scorer;
  scorer.add(seg, truth, {1, 1});
  EXPECT_DOUBLE_EQ(scorer.result().accuracy, 1.0);
  EXPECT_THROW(scorer.add(seg, truth, {2, 2}), Error);
}

namespace fibseg::measure {
namespace {

// A 10 x 8 raw slice whose mask marks a 4 x 4 square at (3, 2); the aligned labels (6 x 5) show
// the raw slice from (2, 1) (crop) moved by a shift of (1, 1): label (y, x) = raw (y + 2, x + 3).
TEST(MaskOverlap, LabelsMappedBackToTheRawFrame) {
  cv::Mat mask = cv::Mat::zeros(8, 10, CV_8U);
  mask(cv::Rect(3, 2, 4, 4)).setTo(1);
  cv::Mat labels = cv::Mat::zeros(5, 6, CV_8U);
  labels(cv::Rect(0, 0, 4, 4)).setTo(2);  // exactly the square, in the labels' frame
  const auto o = overlapWithRawMask(labels, 2, mask, 1, {3, 2}, "mask");
  EXPECT_EQ(o.counted, 30);
  EXPECT_EQ(o.outside, 80 - 30);
  EXPECT_EQ(o.intersection, 16);
  EXPECT_DOUBLE_EQ(o.iou(), 1.0);
  // One column off: 12 of the 16 overlap, union 20.
  EXPECT_DOUBLE_EQ(overlapWithRawMask(labels, 2, mask, 1, {2, 2}, "mask").iou(), 12.0 / 20.0);
}

}  // namespace
}  // namespace fibseg::measure
