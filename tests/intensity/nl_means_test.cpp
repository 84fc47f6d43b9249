// Non-local means must be scikit-image's denoise_nl_means (fast mode): the original notebook's
// CAM threshold is taken on its output.
#include "fibseg/intensity/nl_means.hpp"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "fibseg/core/error.hpp"
#include "intensity/nl_means_reference.hpp"

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

// The blocked, vectorised form sums each patch window column-wise instead of by the corners of a
// whole-image integral: the same terms, so distances agree to rounding (~1e-16). Two things then
// move a pixel: Schraudolph's truncation sitting on that rounding (2^-20 of one weight), and, on
// integer grey levels, a distance landing exactly on skimage's cutoff of 5 (sum of squared grey
// steps = 5 h^2 s^2), where rounding decides whether that pair weighs e^-5 or 0. Held against the
// line-for-line port of scikit-image on textured 8- and 16-bit images, with every parameter path
// (odd and even patch, a one-pixel patch, sigma > 0, a search wider than the patch): almost every
// pixel within 1e-9, the rest by at most one cut-off weight's share.
TEST(NlMeans, BlockedFormAgreesWithTheLineForLinePortOfScikitImage) {
  cv::Mat texture(83, 121, CV_8U);
  cv::randu(texture, 0, 256);
  cv::GaussianBlur(texture, texture, cv::Size(), 1.5);
  texture(cv::Rect(30, 20, 40, 25)) += 60;
  cv::Mat texture16;
  texture.convertTo(texture16, CV_16U, 257);
  const NlMeansParams cases[] = {{0.04, 5, 6}, {0.1, 3, 2}, {0.08, 4, 3}, {0.05, 1, 4}, {0.06, 5, 6, 0.02}};
  for (const cv::Mat& img : {texture, texture16})
    for (const auto& params : cases) {
      const cv::Mat fast = nonLocalMeansUnitScale(img, params);
      const cv::Mat reference = testing::nonLocalMeansLineForLine(img, params);
      const std::string what = "patch " + std::to_string(params.patchSize) + " distance " +
                               std::to_string(params.patchDistance) + " h " + std::to_string(params.h);
      const cv::Mat difference = cv::abs(fast - reference);
      EXPECT_LE(cv::countNonZero(difference > 1e-9), int(img.total() / 100)) << what;
      EXPECT_LE(cv::norm(difference, cv::NORM_INF), 0.01) << what;  // e^-5 / (sum of weights >= 1) x grey range
      EXPECT_LE(cv::norm(difference, cv::NORM_L1) / double(img.total()), 1e-6) << what;
    }
}

}  // namespace
}  // namespace fibseg::intensity
