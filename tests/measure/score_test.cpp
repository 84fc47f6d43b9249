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
