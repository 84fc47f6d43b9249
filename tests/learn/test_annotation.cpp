// Annotation images as users paint them: label PNGs and colour strokes in the report's colours.
#include <gtest/gtest.h>

#include "fibseg/core/error.hpp"
#include "fibseg/learn/learn.hpp"

using namespace fibseg;

namespace {
// The registry default: pore light grey, SE orange, CAM blue (RGB).
const PhaseSet kThree{{"pore", "SE", "CAM"}, {0, 1, 2}, {{{247, 247, 247}}, {{239, 138, 98}}, {{98, 138, 239}}}};
}  // namespace

TEST(Annotation, LabelImageIsTakenAsIs) {
  cv::Mat grey = (cv::Mat_<std::uint8_t>(2, 3) << 0, 1, 2, 3, 0, 1);
  const cv::Mat codes = learn::annotationFromImage(grey, "a.png", kThree);
  EXPECT_EQ(cv::countNonZero(codes != grey), 0);
  grey.at<std::uint8_t>(1, 2) = 7;
  try {
    learn::annotationFromImage(grey, "a.png", kThree);
    FAIL();
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("a.png"), std::string::npos);
    EXPECT_NE(m.find("grey value 7 at (x 2, y 1)"), std::string::npos) << m;
  }
}

TEST(Annotation, PhaseColoursMapToPhases) {
  // BGR as OpenCV reads it: black, light grey (pore), orange (SE), blue (CAM), slightly off blue.
  cv::Mat colour(1, 5, CV_8UC3);
  colour.at<cv::Vec3b>(0, 0) = {0, 0, 0};
  colour.at<cv::Vec3b>(0, 1) = {255, 255, 255};
  colour.at<cv::Vec3b>(0, 2) = {98, 138, 239};
  colour.at<cv::Vec3b>(0, 3) = {239, 138, 98};
  colour.at<cv::Vec3b>(0, 4) = {230, 150, 90};
  const cv::Mat codes = learn::annotationFromImage(colour, "c.png", kThree);
  const std::vector<int> expected = {0, 1, 2, 3, 3};
  for (int x = 0; x < 5; ++x) EXPECT_EQ(codes.at<std::uint8_t>(0, x), expected[x]) << x;

  cv::Mat rgba(1, 2, CV_8UC4);
  rgba.at<cv::Vec4b>(0, 0) = {98, 138, 239, 255};
  rgba.at<cv::Vec4b>(0, 1) = {17, 99, 3, 0};  // transparent: not painted, whatever its colour
  const cv::Mat codesA = learn::annotationFromImage(rgba, "c.png", kThree);
  EXPECT_EQ(codesA.at<std::uint8_t>(0, 0), 2);
  EXPECT_EQ(codesA.at<std::uint8_t>(0, 1), 0);
}

TEST(Annotation, OtherColoursAreRefusedNotGuessed) {
  cv::Mat colour(2, 2, CV_8UC3, cv::Scalar(0, 0, 0));
  colour.at<cv::Vec3b>(1, 0) = {0, 200, 0};  // green: no phase has it
  try {
    learn::annotationFromImage(colour, "strokes.png", kThree);
    FAIL();
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("strokes.png: 1 pixels"), std::string::npos) << m;
    EXPECT_NE(m.find("(x 0, y 1): RGB (0,200,0)"), std::string::npos) << m;
  }
  EXPECT_THROW(learn::annotationFromImage(cv::Mat(2, 2, CV_16U, cv::Scalar(1)), "x.png", kThree), Error);
}

TEST(Annotation, FourPhasesInGreyAndInTheirColours) {
  const PhaseSet four{{"pore", "CAM", "SE", "carbon"}, {0, 1, 2, 3},
                      {{{247, 247, 247}}, {{98, 138, 239}}, {{239, 138, 98}}, {{40, 160, 40}}}};
  cv::Mat grey = (cv::Mat_<std::uint8_t>(1, 5) << 0, 1, 2, 3, 4);
  EXPECT_EQ(cv::countNonZero(learn::annotationFromImage(grey, "g.png", four) != grey), 0);
  grey.at<std::uint8_t>(0, 4) = 5;  // phase 5 of 4
  try {
    learn::annotationFromImage(grey, "g.png", four);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("4 carbon"), std::string::npos) << e.what();
  }
  cv::Mat colour(1, 2, CV_8UC3);
  colour.at<cv::Vec3b>(0, 0) = {40, 160, 40};   // carbon (BGR of 40,160,40)
  colour.at<cv::Vec3b>(0, 1) = {239, 138, 98};  // CAM blue
  const cv::Mat codes = learn::annotationFromImage(colour, "c.png", four);
  EXPECT_EQ(codes.at<std::uint8_t>(0, 0), 4);
  EXPECT_EQ(codes.at<std::uint8_t>(0, 1), 2);
}
