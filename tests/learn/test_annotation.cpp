// Annotation images as users paint them: label PNGs and colour strokes in the report's colours.
#include <gtest/gtest.h>

#include "fibseg/core/error.hpp"
#include "fibseg/learn/learn.hpp"

using namespace fibseg;

TEST(Annotation, LabelImageIsTakenAsIs) {
  cv::Mat grey = (cv::Mat_<std::uint8_t>(2, 3) << 0, 1, 2, 3, 0, 1);
  const cv::Mat codes = learn::annotationFromImage(grey, "a.png");
  EXPECT_EQ(cv::countNonZero(codes != grey), 0);
  grey.at<std::uint8_t>(1, 2) = 7;
  try {
    learn::annotationFromImage(grey, "a.png");
    FAIL();
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("a.png"), std::string::npos);
    EXPECT_NE(m.find("grey value 7 at (x 2, y 1)"), std::string::npos) << m;
  }
}

TEST(Annotation, ReportColoursMapToPhases) {
  // BGR as OpenCV reads it: black, white (pore), blue (SE), orange (CAM), slightly off orange.
  cv::Mat colour(1, 5, CV_8UC3);
  colour.at<cv::Vec3b>(0, 0) = {0, 0, 0};
  colour.at<cv::Vec3b>(0, 1) = {255, 255, 255};
  colour.at<cv::Vec3b>(0, 2) = {255, 0, 0};
  colour.at<cv::Vec3b>(0, 3) = {0, 165, 255};
  colour.at<cv::Vec3b>(0, 4) = {10, 150, 240};
  const cv::Mat codes = learn::annotationFromImage(colour, "c.png");
  const std::vector<int> expected = {0, 1, 2, 3, 3};
  for (int x = 0; x < 5; ++x) EXPECT_EQ(codes.at<std::uint8_t>(0, x), expected[x]) << x;

  cv::Mat rgba(1, 2, CV_8UC4);
  rgba.at<cv::Vec4b>(0, 0) = {255, 0, 0, 255};
  rgba.at<cv::Vec4b>(0, 1) = {17, 99, 3, 0};  // transparent: not painted, whatever its colour
  const cv::Mat codesA = learn::annotationFromImage(rgba, "c.png");
  EXPECT_EQ(codesA.at<std::uint8_t>(0, 0), 2);
  EXPECT_EQ(codesA.at<std::uint8_t>(0, 1), 0);
}

TEST(Annotation, OtherColoursAreRefusedNotGuessed) {
  cv::Mat colour(2, 2, CV_8UC3, cv::Scalar(0, 0, 0));
  colour.at<cv::Vec3b>(1, 0) = {0, 200, 0};  // green: no phase has it
  try {
    learn::annotationFromImage(colour, "strokes.png");
    FAIL();
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("strokes.png: 1 pixels"), std::string::npos) << m;
    EXPECT_NE(m.find("(x 0, y 1): RGB (0,200,0)"), std::string::npos) << m;
  }
  EXPECT_THROW(learn::annotationFromImage(cv::Mat(2, 2, CV_16U, cv::Scalar(1)), "x.png"), Error);
}
