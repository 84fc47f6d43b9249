// fibseg's PNG encoder (io/png.cpp) against an independent decoder (libpng, through OpenCV):
// hand-built images of every kind it writes decode to exactly their pixels, with each row
// filter; the indexed form decodes to the palette's colours; bad input is refused by name.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "fibseg/core/error.hpp"
#include "fibseg/io/png.hpp"
#include "temp_folder.hpp"
#include "test_helpers.hpp"

namespace io = fibseg::io;
using testing::HasSubstr;

namespace {

// Pixels that exercise the filters: a ramp, noise-like values from a hash, wrap-around steps.
cv::Mat pattern(int type) {
  cv::Mat m(37, 53, type);
  const int channels = m.channels();
  for (int y = 0; y < m.rows; ++y)
    for (int x = 0; x < m.cols; ++x)
      for (int c = 0; c < channels; ++c) {
        const unsigned v = (x * 7 + y * 13 + c * 101) ^ ((x * 2654435761u + y * 40503u) >> 7);
        if (m.depth() == CV_16U) m.ptr<std::uint16_t>(y)[x * channels + c] = std::uint16_t(v * 331);
        else m.ptr<std::uint8_t>(y)[x * channels + c] = std::uint8_t(v);
      }
  return m;
}

cv::Mat decoded(const std::vector<std::uint8_t>& png) { return cv::imdecode(png, cv::IMREAD_UNCHANGED); }

using fibseg::test::samePixels;

}  // namespace

TEST(PngEncoder, EveryKindDecodesToItsPixelsWithEveryFilter) {
  for (const int type : {CV_8UC1, CV_16UC1, CV_8UC3, CV_8UC4})
    for (const auto filter : {io::PngFilter::None, io::PngFilter::Sub, io::PngFilter::Up})
      for (const int level : {1, 2, 6}) {
        const cv::Mat image = pattern(type);
        EXPECT_TRUE(samePixels(decoded(io::encodePng(image, level, filter)), image))
            << "type " << type << " filter " << int(filter) << " level " << level;
      }
}

TEST(PngEncoder, IndexedDecodesToThePaletteColours) {
  cv::Mat indices(20, 30, CV_8U);
  for (int y = 0; y < indices.rows; ++y)
    for (int x = 0; x < indices.cols; ++x) indices.at<std::uint8_t>(y, x) = std::uint8_t((x / 7 + y / 5) % 4);
  const std::vector<std::array<std::uint8_t, 3>> palette{{255, 0, 0}, {0, 128, 255}, {10, 20, 30}};
  for (const auto filter : {io::PngFilter::None, io::PngFilter::Sub, io::PngFilter::Up}) {
    const cv::Mat colour = decoded(io::encodeIndexedPng(indices, palette, 2, filter));
    ASSERT_EQ(colour.type(), CV_8UC3);
    ASSERT_EQ(colour.size(), indices.size());
    for (int y = 0; y < indices.rows; ++y)
      for (int x = 0; x < indices.cols; ++x) {
        const int i = indices.at<std::uint8_t>(y, x);
        // Index 3 lies past the three colours: black, as segment::colourLabels shows it.
        const std::array<std::uint8_t, 3> rgb = i < 3 ? palette[i] : std::array<std::uint8_t, 3>{0, 0, 0};
        const cv::Vec3b bgr = colour.at<cv::Vec3b>(y, x);
        ASSERT_EQ(bgr, cv::Vec3b(rgb[2], rgb[1], rgb[0])) << "at " << x << ", " << y;
      }
  }
}

TEST(PngEncoder, WhatItCannotWriteIsRefused) {
  try {
    io::encodePng(cv::Mat(4, 4, CV_32F, cv::Scalar(0)));
    FAIL() << "a float image was encoded";
  } catch (const fibseg::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("expected 8- or 16-bit grey"));
  }
  const std::vector<std::array<std::uint8_t, 3>> tooMany(257, {0, 0, 0});
  EXPECT_THROW(io::encodeIndexedPng(cv::Mat(4, 4, CV_8U, cv::Scalar(0)), tooMany), fibseg::Error);
  EXPECT_THROW(io::encodePng(cv::Mat(4, 4, CV_8U, cv::Scalar(0)), 13), fibseg::Error);
}

TEST(PngEncoder, GreyAndIndexedPairDecodesToTheGreyValuesAndTheirColours) {
  // A label image with the grey values 0, 128, 255 (as phases.values writes them).
  cv::Mat grey(25, 40, CV_8U);
  const std::uint8_t levels[3] = {0, 128, 255};
  for (int y = 0; y < grey.rows; ++y)
    for (int x = 0; x < grey.cols; ++x) grey.at<std::uint8_t>(y, x) = levels[(x / 6 + y / 4) % 3];
  std::vector<std::array<std::uint8_t, 3>> byValue(129, {0, 0, 0});  // 255 lies past the end: black
  byValue[0] = {30, 60, 220};
  byValue[128] = {240, 150, 20};
  const fibseg::test::TempFolder folder("png_pair");
  io::writeGreyAndIndexedPng(folder.path / "labels.png", folder.path / "colour.png", grey, byValue);
  EXPECT_TRUE(samePixels(cv::imread((folder.path / "labels.png").string(), cv::IMREAD_UNCHANGED), grey));
  const cv::Mat colour = cv::imread((folder.path / "colour.png").string(), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(colour.type(), CV_8UC3);
  for (int y = 0; y < grey.rows; ++y)
    for (int x = 0; x < grey.cols; ++x) {
      const int v = grey.at<std::uint8_t>(y, x);
      const std::array<std::uint8_t, 3> rgb = v < 129 ? byValue[v] : std::array<std::uint8_t, 3>{0, 0, 0};
      ASSERT_EQ(colour.at<cv::Vec3b>(y, x), cv::Vec3b(rgb[2], rgb[1], rgb[0])) << "at " << x << ", " << y;
    }
}
