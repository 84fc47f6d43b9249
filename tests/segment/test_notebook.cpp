// The notebook method (segment.method = notebook) must reproduce the original notebook's labels.
// Pixel agreement with a Python re-implementation on the real lco-fibsem slices is measured by
// bench/notebook_reference.py (bench/README.md, Real data); here: known answers.
#include "fibseg/segment/notebook.hpp"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "fibseg/core/image.hpp"

namespace fibseg::segment {
namespace {

TEST(NotebookOtsu, IsScikitImagesThresholdOtsu) {
  // Expected: skimage.filters.threshold_otsu on the same arrays (scikit-image 0.19).
  cv::Mat a(10, 11, CV_64F);
  for (int i = 0; i < 110; ++i) a.at<double>(i / 11, i % 11) = i < 50 ? 0.1 : i < 100 ? 0.9 : 0.5;
  EXPECT_DOUBLE_EQ(otsuThresholdLikeScikitImage(a), 0.1015625);
  const cv::Mat b = (cv::Mat_<double>(2, 4) << 0.2, 0.25, 0.3, 0.7, 0.72, 0.9, 0.1, 0.95);
  EXPECT_DOUBLE_EQ(otsuThresholdLikeScikitImage(b), 0.30087890625);
}

double iou(const cv::Mat& a, const cv::Mat& b) {
  return double(cv::countNonZero(a & b)) / std::max(1, cv::countNonZero(a | b));
}

TEST(NotebookMethod, FindsBrightGrainsAndDarkPoresOnAHandBuiltSlice) {
  // SE at grey 120, CAM discs at 220, pores (discs of 5 px radius) at 20, mild noise.
  cv::Mat truth(240, 240, CV_8U, cv::Scalar(SolidElectrolyte));
  for (int k = 0; k < 4; ++k) cv::circle(truth, {60 + 120 * (k % 2), 60 + 120 * (k / 2)}, 35, ActiveMaterial, cv::FILLED);
  for (int k = 0; k < 5; ++k) cv::circle(truth, {120, 20 + 50 * k}, 5, Pore, cv::FILLED);
  cv::Mat slice(truth.size(), CV_8U);
  slice.setTo(120, truth == SolidElectrolyte);
  slice.setTo(220, truth == ActiveMaterial);
  slice.setTo(20, truth == Pore);
  cv::Mat noise(truth.size(), CV_8U);
  cv::randn(noise, 0, 4);  // into 8 bits: the negative half saturates to 0, so a few grey levels up
  cv::add(slice, noise, slice);

  const NotebookParams params{false, 2.0, 4, false, {10, 1}, 5, 140};
  const auto result = segmentLikeNotebook(slice, params);
  ASSERT_EQ(result.labels.size(), truth.size());
  EXPECT_GT(iou(result.labels == ActiveMaterial, truth == ActiveMaterial), 0.97);
  EXPECT_GT(iou(result.labels == Pore, truth == Pore), 0.6);
  EXPECT_GT(iou(result.labels == SolidElectrolyte, truth == SolidElectrolyte), 0.95);
  // The threshold lies between the SE and CAM grey levels on the 0..1 scale.
  EXPECT_GT(result.camThreshold, 124 / 255.0);
  EXPECT_LT(result.camThreshold, 220 / 255.0);
}

TEST(NotebookMethod, VerticalLineRemovalOpensTheCamMaskWithAFlatRectangle) {
  // A 3 px wide bright vertical line is CAM by Otsu; a 10 x 1 opening removes it, a grain stays.
  cv::Mat slice(120, 120, CV_8U, cv::Scalar(120));
  slice(cv::Rect(20, 0, 3, 120)).setTo(230);
  cv::circle(slice, {80, 60}, 25, 230, cv::FILLED);
  NotebookParams params{false, 2.0, 4, false, {10, 1}, 5, 140};
  const cv::Mat withLine = segmentLikeNotebook(slice, params).labels;
  EXPECT_EQ(withLine.at<uchar>(60, 21), ActiveMaterial);
  params.removeVerticalLines = true;
  const cv::Mat cleaned = segmentLikeNotebook(slice, params).labels;
  EXPECT_NE(cleaned.at<uchar>(60, 21), ActiveMaterial);
  EXPECT_EQ(cleaned.at<uchar>(60, 80), ActiveMaterial);
}

}  // namespace
}  // namespace fibseg::segment
