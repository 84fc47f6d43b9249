// The area-averaging shrink against OpenCV's cv::resize(INTER_AREA), which it must equal bit for
// bit (the run's grey previews are made with it).
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "fibseg/core/area_resize.hpp"

namespace fibseg {
namespace {

cv::Mat opencvArea(const cv::Mat& image, cv::Size size) {
  cv::Mat out;
  cv::resize(image, out, size, 0, 0, cv::INTER_AREA);
  return out;
}

TEST(ResizeArea, EqualsOpenCvAtNonIntegerAndIntegerFactors) {
  cv::Mat image(1411, 2035, CV_8U);
  cv::randu(image, 0, 256);
  image(cv::Rect(100, 100, 700, 300)).setTo(255);  // saturated and flat areas
  image(cv::Rect(900, 500, 300, 300)).setTo(0);
  // Preview sizes of cropped slices (512 wide), odd factors in x and y, factors near 1 and
  // integer factors (OpenCV's own fast path), and one row or column.
  for (const cv::Size size : {cv::Size(512, 355), cv::Size(512, 353), cv::Size(1999, 1400), cv::Size(700, 1000),
                              cv::Size(37, 29), cv::Size(1, 1), cv::Size(2035, 1), cv::Size(1, 1411)})
    EXPECT_EQ(cv::norm(resizeArea(image, size), opencvArea(image, size), cv::NORM_INF), 0) << size;
  EXPECT_EQ(cv::norm(resizeArea(image(cv::Rect(3, 5, 2000, 1400)), {512, 358}),
                     opencvArea(image(cv::Rect(3, 5, 2000, 1400)), {512, 358}), cv::NORM_INF), 0);
}

TEST(ResizeArea, SizesAndTypesItDoesNotHandleGoToOpenCv) {
  cv::Mat image(100, 80, CV_16U);
  cv::randu(image, 0, 65536);
  EXPECT_EQ(cv::norm(resizeArea(image, {30, 37}), opencvArea(image, {30, 37}), cv::NORM_INF), 0);
  cv::Mat small(10, 12, CV_8U);
  cv::randu(small, 0, 256);
  EXPECT_EQ(cv::norm(resizeArea(small, {30, 25}), opencvArea(small, {30, 25}), cv::NORM_INF), 0);  // enlarging
}

}  // namespace
}  // namespace fibseg
