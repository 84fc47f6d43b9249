// Non-local means must be scikit-image's denoise_nl_means (fast mode): the original notebook's
// CAM threshold is taken on its output.
#include "fibseg/intensity/nl_means.hpp"

#include <gtest/gtest.h>

#include "fibseg/core/error.hpp"

namespace fibseg::intensity {
namespace {

// A 12 x 10 pattern with a bright block. Expected values from scikit-image 0.19 (Debian 12),
// matched to 1e-12 (skimage's double-precision fast_exp is reproduced bit for bit):
//   y, x = np.mgrid[0:10, 0:12]; img = ((x*37 + y*91 + (x*y) % 7 * 29) % 256).astype(np.uint8)
//   img[3:7, 4:9] = 200
//   denoise_nl_means(img, h=0.1, fast_mode=True, patch_size=3, patch_distance=2)[row, col]
cv::Mat pattern() {
  cv::Mat img(10, 12, CV_8U);
  for (int y = 0; y < 10; ++y)
    for (int x = 0; x < 12; ++x) img.at<uchar>(y, x) = static_cast<uchar>((x * 37 + y * 91 + (x * y) % 7 * 29) % 256);
  img(cv::Rect(4, 3, 5, 4)).setTo(200);
  return img;
}

TEST(NlMeans, MatchesScikitImageFastMode) {
  const cv::Mat out = nonLocalMeansUnitScale(pattern(), {0.1, 3, 2});
  ASSERT_EQ(out.type(), CV_64F);
  EXPECT_NEAR(out.at<double>(0, 0), 0.047736584960618465, 1e-12);
  EXPECT_NEAR(out.at<double>(4, 5), 0.7767398973745819, 1e-12);
  EXPECT_NEAR(out.at<double>(2, 9), 0.45867001808748015, 1e-12);
  EXPECT_NEAR(out.at<double>(9, 11), 0.8407998015556256, 1e-12);
}

TEST(NlMeans, ConstantImageStaysConstantAtEveryDepth) {
  for (int type : {CV_8U, CV_16U}) {
    const cv::Mat flat(20, 24, type, cv::Scalar(type == CV_8U ? 77 : 30000));
    const cv::Mat out = nonLocalMeans(flat, {0.04, 5, 6});
    ASSERT_EQ(out.type(), type);
    EXPECT_EQ(cv::norm(out, flat, cv::NORM_INF), 0);
  }
}

TEST(NlMeans, TinyStrengthLeavesTheImageAlone) {
  // With h -> 0 every other patch's weight vanishes: only the pixel itself remains.
  const cv::Mat img = pattern();
  EXPECT_EQ(cv::norm(nonLocalMeans(img, {1e-6, 3, 2}), img, cv::NORM_INF), 0);
}

TEST(NlMeans, BadParametersAndTooSmallSlicesAreRefused) {
  EXPECT_THROW(nonLocalMeans(pattern(), {0.0, 3, 2}), Error);
  EXPECT_THROW(nonLocalMeans(pattern(), {0.1, 5, 8}), Error);  // 10 rows <= radius 2 + distance 8 + 1
}

}  // namespace
}  // namespace fibseg::intensity
