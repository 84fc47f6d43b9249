// The four-way grey-level counts against the plain loop they replace.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>

#include "fibseg/core/error.hpp"
#include "fibseg/core/histogram.hpp"

namespace fibseg {
namespace {

std::array<std::uint64_t, 256> plainCounts(const cv::Mat& image) {
  std::array<std::uint64_t, 256> counts{};
  for (int y = 0; y < image.rows; ++y)
    for (int x = 0; x < image.cols; ++x) ++counts[image.at<std::uint8_t>(y, x)];
  return counts;
}

TEST(GreyCounts, EqualThePlainLoopOnNoiseFlatAreasAndOddWidths) {
  for (const cv::Size size : {cv::Size(1, 1), cv::Size(3, 5), cv::Size(517, 301), cv::Size(1024, 64)}) {
    cv::Mat image(size, CV_8U);
    cv::randu(image, 0, 256);
    image(cv::Rect(0, 0, size.width, size.height / 2)).setTo(7);  // long runs of one level
    std::array<std::uint64_t, 256> counts{};
    counts[7] = 100;  // added to, not overwritten
    addCounts8u(image, counts);
    std::array<std::uint64_t, 256> expected = plainCounts(image);
    expected[7] += 100;
    EXPECT_EQ(counts, expected) << size;
  }
}

TEST(GreyCounts, CountAViewWithItsOwnRowsOnly) {
  cv::Mat image(20, 30, CV_8U, cv::Scalar(1));
  image(cv::Rect(5, 5, 10, 4)).setTo(200);
  std::array<std::uint64_t, 256> counts{};
  addCounts8u(image(cv::Rect(3, 4, 13, 6)), counts);  // not continuous: 13 x 6 with 40 px of 200
  EXPECT_EQ(counts[200], 40u);
  EXPECT_EQ(counts[1], 13u * 6 - 40);
}

TEST(GreyCounts, RefuseOtherTypes) {
  std::array<std::uint64_t, 256> counts{};
  EXPECT_THROW(addCounts8u(cv::Mat(4, 4, CV_16U, cv::Scalar(1)), counts), Error);
  EXPECT_THROW(addCounts8u(cv::Mat(4, 4, CV_8UC3, cv::Scalar(1)), counts), Error);
}

}  // namespace
}  // namespace fibseg
