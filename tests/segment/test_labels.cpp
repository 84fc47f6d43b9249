// Labels of a hand-built slice, island cleanup, and the renderings the pipeline writes.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "fibseg/core/error.hpp"
#include "fibseg/core/image.hpp"
#include "fibseg/segment/segment.hpp"

namespace fibseg::segment {
namespace {

// SE at 110, a CAM disc at 200 and a pore disc at 30, slight noise-free blur at the edges.
struct Scene {
  cv::Mat slice, truth;
};
Scene scene(int depth) {
  Scene s;
  s.truth = cv::Mat(64, 96, CV_8U, cv::Scalar(SolidElectrolyte));
  cv::circle(s.truth, {25, 32}, 14, cv::Scalar(ActiveMaterial), cv::FILLED);
  cv::circle(s.truth, {68, 30}, 9, cv::Scalar(Pore), cv::FILLED);
  cv::Mat grey(s.truth.size(), CV_32F, cv::Scalar(110));
  grey.setTo(200, s.truth == ActiveMaterial);
  grey.setTo(30, s.truth == Pore);
  grey.convertTo(s.slice, depth == 8 ? CV_8U : CV_16U, depth == 8 ? 1.0 : 257.0);
  return s;
}

SegmentParams smoothing(double threshold) {
  // lambda >> window: the Gabor kernel is a plain Gaussian (sum ~ 2 pi sigma^2 = 6.28 for sigma 1).
  return {OtsuScope::PerSlice, {7, 1, 0, 1000, 1, 0}, threshold, Convolution::Auto, {0, 0, 0}};
}

TEST(Labels, HandBuiltSliceIsSegmentedExactlyAwayFromEdges) {
  for (int depth : {8, 16}) {
    const Scene s = scene(depth);
    // Inverted: SE 145, pore 225 (x kernel sum 6.28 -> ~911 and ~1413); threshold halfway.
    const SliceSegmentation out = segmentSlice(s.slice, smoothing(1160));
    ASSERT_EQ(out.labels.type(), CV_8U);
    const int threshold8 = depth == 8 ? out.camThreshold : out.camThreshold / 257;
    EXPECT_GE(threshold8, 110);
    EXPECT_LT(threshold8, 200);
    // Within 2 px of a phase boundary the smoothing mixes phases; everywhere else: exact.
    cv::Mat grown, shrunk;
    cv::dilate(s.truth, grown, cv::Mat::ones(5, 5, CV_8U));
    cv::erode(s.truth, shrunk, cv::Mat::ones(5, 5, CV_8U));
    const cv::Mat interior = grown == shrunk;
    EXPECT_EQ(cv::countNonZero((out.labels != s.truth) & interior), 0) << depth << "-bit";
    // The pore keeps its size to within its rim.
    const double poreTruth = cv::countNonZero(s.truth == Pore), pore = cv::countNonZero(out.labels == Pore);
    EXPECT_NEAR(pore / poreTruth, 1.0, 0.1) << depth << "-bit";
    EXPECT_EQ(out.gaborResponse.type(), CV_32F);
  }
}

TEST(Labels, StackThresholdIsUsedWhenGiven) {
  const Scene s = scene(8);
  // A threshold above every grey level: no CAM at all, the CAM disc reads as SE.
  const SliceSegmentation out = segmentSlice(s.slice, smoothing(1160), 250);
  EXPECT_EQ(out.camThreshold, 250);
  EXPECT_EQ(cv::countNonZero(out.labels == ActiveMaterial), 0);
}

TEST(Labels, SmallIslandsMergeIntoTheirSurroundings) {
  cv::Mat labels(8, 8, CV_8U, cv::Scalar(SolidElectrolyte));
  labels(cv::Rect(0, 0, 4, 8)).setTo(ActiveMaterial);  // 32 px CAM block
  labels.at<uchar>(2, 6) = Pore;                         // 1-px pore speck in SE
  labels(cv::Rect(1, 5, 2, 2)).setTo(Pore);              // 4-px pore inside CAM
  labels.at<uchar>(7, 7) = ActiveMaterial;               // 1-px CAM speck in the SE corner
  cv::Mat expected(8, 8, CV_8U, cv::Scalar(SolidElectrolyte));
  expected(cv::Rect(0, 0, 4, 8)).setTo(ActiveMaterial);

  // Pores under 5 px and CAM under 2 px go; the 4-px pore joins CAM, the speck SE.
  const cv::Mat cleaned = removeSmallIslands(labels, {5, 0, 2});
  EXPECT_EQ(cv::countNonZero(cleaned != expected), 0);
  // Thresholds of 0 keep everything; a pore limit of 2 keeps the 4-px pore.
  EXPECT_EQ(cv::countNonZero(removeSmallIslands(labels, {0, 0, 0}) != labels), 0);
  const cv::Mat partly = removeSmallIslands(labels, {2, 0, 0});
  EXPECT_EQ(partly.at<uchar>(2, 6), SolidElectrolyte);
  EXPECT_EQ(cv::countNonZero(partly == Pore), 4);
}

TEST(Labels, CleanupInSegmentSliceRemovesNoiseSpecks) {
  Scene s = scene(8);
  s.slice.at<uchar>(55, 85) = 0;  // one dead pixel in SE: a pore after a sharp filter
  SegmentParams p = smoothing(1160);
  p.gabor = {1, 1, 0, 1000, 1, 0};  // 1x1 kernel = identity
  p.poreThreshold = 180;
  EXPECT_EQ(segmentSlice(s.slice, p).labels.at<uchar>(55, 85), Pore);
  p.minIslandPx = {3, 0, 0};
  EXPECT_EQ(segmentSlice(s.slice, p).labels.at<uchar>(55, 85), SolidElectrolyte);
}

TEST(Labels, ColourLabelImageAndFractions) {
  cv::Mat labels(2, 5, CV_8U, cv::Scalar(SolidElectrolyte));
  labels.at<uchar>(0, 0) = Pore;
  labels(cv::Rect(2, 0, 3, 2)).setTo(ActiveMaterial);

  const cv::Mat colour = colourLabels(labels);
  ASSERT_EQ(colour.type(), CV_8UC3);
  // The original notebook's colours (BGR here): pore light grey, SE orange, CAM blue.
  EXPECT_EQ(colour.at<cv::Vec3b>(0, 0), cv::Vec3b(247, 247, 247));
  EXPECT_EQ(colour.at<cv::Vec3b>(0, 4), cv::Vec3b(239, 138, 98));
  EXPECT_EQ(colour.at<cv::Vec3b>(1, 0), cv::Vec3b(98, 138, 239));
  // Any number of phases in the colours given.
  const cv::Mat four = (cv::Mat_<uchar>(1, 4) << 0, 1, 2, 3);
  const cv::Mat fourColours = colourLabels(four, {{{1, 2, 3}}, {{4, 5, 6}}, {{7, 8, 9}}, {{10, 11, 12}}});
  EXPECT_EQ(fourColours.at<cv::Vec3b>(0, 3), cv::Vec3b(12, 11, 10));
  EXPECT_EQ(labelImage(four, {10, 20, 30, 40}).at<uchar>(0, 3), 40);
  EXPECT_EQ(phaseFractions(four, 4).fraction[3], 0.25);
  EXPECT_THROW(phaseFractions(four, 3), Error);

  const cv::Mat levels = labelImage(labels, {0, 128, 255});
  EXPECT_EQ(levels.at<uchar>(0, 0), 0);
  EXPECT_EQ(levels.at<uchar>(1, 0), 128);
  EXPECT_EQ(levels.at<uchar>(1, 4), 255);
  EXPECT_THROW(labelImage(labels, {0, 0, 2}), Error);

  const PhaseFractions f = phaseFractions(labels);
  EXPECT_EQ(f.pixels[Pore], 1);
  EXPECT_EQ(f.pixels[SolidElectrolyte], 3);
  EXPECT_EQ(f.pixels[ActiveMaterial], 6);
  EXPECT_DOUBLE_EQ(f.fraction[ActiveMaterial], 0.6);

  cv::Mat allSe(2, 5, CV_8U, cv::Scalar(SolidElectrolyte));
  const PhaseFractions total = combineFractions({f, phaseFractions(allSe)});
  EXPECT_DOUBLE_EQ(total.fraction[SolidElectrolyte], 13.0 / 20);
  EXPECT_DOUBLE_EQ(total.fraction[Pore], 1.0 / 20);

  labels.at<uchar>(1, 1) = 7;
  EXPECT_THROW(phaseFractions(labels), Error);
}

}  // namespace
}  // namespace fibseg::segment
