// The row-wise bicubic translation against OpenCV's warpAffine, which it must equal bit for bit
// (the aligned stack and every label downstream depend on it).
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include <random>

#include "fibseg/align/shift_cubic.hpp"
#include "fibseg/core/error.hpp"

namespace fibseg::align {
namespace {

cv::Mat warped(const cv::Mat& slice, double sx, double sy, cv::Size size) {
  cv::Mat out;
  cv::warpAffine(slice, out, cv::Matx23d(1, 0, sx, 0, 1, sy), size, cv::INTER_CUBIC | cv::WARP_INVERSE_MAP,
                 cv::BORDER_REPLICATE);
  return out;
}

cv::Mat noise(cv::Size size, unsigned seed) {
  // Full-range noise with saturated spots: the cubic's negative lobes over- and undershoot.
  cv::Mat slice(size, CV_8U);
  cv::randu(slice, 0, 256);
  std::mt19937 rng(seed);
  for (int k = 0; k < size.area() / 20; ++k) {
    // Column first, in its own statement: the order of a call's arguments is the compiler's.
    const int x = int(rng() % size.width), y = int(rng() % size.height);
    slice.at<std::uint8_t>(y, x) = (k % 2) ? 255 : 0;
  }
  return slice;
}

TEST(ShiftCubic, EqualsWarpAffineForEveryFractionOfThe32ndPixelTable) {
  const cv::Mat slice = noise({67, 41}, 1);
  for (int fy = 0; fy < 32; ++fy)
    for (int fx = 0; fx < 32; ++fx) {
      // Fractions on the 1/32 grid and between it (rounded by OpenCV), both signs.
      const double sx = -3 + fx / 32.0 + 0.004, sy = 2 + fy / 32.0 - 0.013;
      for (const cv::Rect area : {cv::Rect(3, 0, 60, 37), cv::Rect(-5, -4, 75, 50)}) {
        const cv::Mat expected = warped(slice, area.x + sx, area.y + sy, area.size());
        const cv::Mat got = shiftCubic8u(slice, area.x + sx, area.y + sy, area.size());
        ASSERT_EQ(cv::norm(expected, got, cv::NORM_INF), 0) << "shift " << sx << ", " << sy;
      }
    }
}

TEST(ShiftCubic, EqualsWarpAffineForRegistrationLikeShiftsOnALargeSlice) {
  const cv::Mat slice = noise({517, 301}, 2);
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> shift(-40, 40);
  for (int k = 0; k < 40; ++k) {
    const double sx = shift(rng), sy = shift(rng);
    // Outputs inside the slice, and ones reaching past every edge (replicated there).
    for (const cv::Rect area : {cv::Rect(41, 41, 430, 210), cv::Rect(-60, -50, 640, 400)}) {
      const cv::Mat expected = warped(slice, area.x + sx, area.y + sy, area.size());
      const cv::Mat got = shiftCubic8u(slice, area.x + sx, area.y + sy, area.size());
      ASSERT_EQ(cv::norm(expected, got, cv::NORM_INF), 0) << "shift " << sx << ", " << sy;
    }
  }
  // Halves of a 1024th, where OpenCV's rounding (to even) decides the fraction.
  for (const double sx : {0.5 / 1024, 1.5 / 1024, -0.5 / 1024, 16.5 / 1024, 3 + 48.5 / 1024}) {
    const cv::Mat expected = warped(slice, sx, -sx, slice.size());
    ASSERT_EQ(cv::norm(expected, shiftCubic8u(slice, sx, -sx, slice.size()), cv::NORM_INF), 0) << sx;
  }
}

TEST(ShiftCubic, RefusesWhatItCannotShift) {
  EXPECT_THROW(shiftCubic8u(cv::Mat(), 0, 0, {4, 4}), Error);
  EXPECT_THROW(shiftCubic8u(cv::Mat(8, 8, CV_16U, cv::Scalar(1)), 0, 0, {4, 4}), Error);
  EXPECT_THROW(shiftCubic8u(cv::Mat(8, 8, CV_8U, cv::Scalar(1)), 0, 0, {0, 4}), Error);
}

}  // namespace
}  // namespace fibseg::align
