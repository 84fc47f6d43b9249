// Curtaining removal: stripes go, particle edges stay. Judged against the same phantom rendered
// without curtains (identical otherwise), so what was removed can be compared with the truth.
#include <gtest/gtest.h>

#include <iostream>
#include <opencv2/imgproc.hpp>

#include "fibseg/core/error.hpp"
#include "fibseg/core/image.hpp"
#include "fibseg/intensity/intensity.hpp"
#include "stack_measures.hpp"

namespace fibseg::intensity {
namespace {

const CurtainingParams kOn{true, 8, 128};

TEST(RemoveCurtaining, HandBuiltStripeGoesStepEdgeStays) {
  // Left half 50, right half 150; a 2 px stripe of +20 down the whole image at x = 16..17.
  cv::Mat image(64, 64, CV_8U, cv::Scalar(50));
  image(cv::Rect(32, 0, 32, 64)).setTo(150);
  cv::Mat striped = image.clone();
  striped(cv::Rect(16, 0, 2, 64)) += 20;
  const cv::Mat out = removeCurtaining(striped, kOn);
  EXPECT_EQ(cv::norm(out, image, cv::NORM_INF), 0);  // exactly the image without the stripe
  // An image without stripes is left alone.
  EXPECT_EQ(cv::norm(removeCurtaining(image, kOn), image, cv::NORM_INF), 0);
}

TEST(RemoveCurtaining, StripeFadingDownTheSliceIsFollowed) {
  // A stripe of +40 at the top fading to +0 at the bottom, 16-bit.
  cv::Mat image(256, 64, CV_16U, cv::Scalar(30000)), striped;
  image.copyTo(striped);
  for (int y = 0; y < 256; ++y) striped(cv::Rect(40, y, 3, 1)) += cv::Scalar(40.0 * 257 * (255 - y) / 255);
  const CurtainingParams params{true, 8, 32};
  const cv::Mat out = removeCurtaining(striped, params);
  cv::Mat diff;
  cv::absdiff(out, image, diff);
  double worst;
  cv::minMaxLoc(diff, nullptr, &worst);
  EXPECT_LE(worst, 0.1 * 40 * 257);  // within 10% of the stripe's peak everywhere
  EXPECT_EQ(out.type(), CV_16U);
}

TEST(RemoveCurtaining, BadParametersThrowDisabledCopies) {
  cv::Mat image(16, 16, CV_8U, cv::Scalar(3));
  EXPECT_THROW(removeCurtaining(image, {true, 0.5, 128}), Error);
  EXPECT_THROW(removeCurtaining(image, {true, 8, 2}), Error);
  EXPECT_EQ(cv::norm(removeCurtaining(image, {false, 0, 0}), image, cv::NORM_INF), 0);
}

// Mean |horizontal gradient| on the truth's phase boundaries: how sharp the vertical-ish edges are.
double edgeStrength(const cv::Mat& image, const cv::Mat& truth) {
  cv::Mat gx;
  cv::Sobel(image, gx, CV_32F, 1, 0);
  double sum = 0;
  long long n = 0;
  for (int y = 1; y + 1 < truth.rows; ++y)
    for (int x = 1; x + 1 < truth.cols; ++x)
      if (truth.at<uchar>(y, x) != truth.at<uchar>(y, x + 1)) {
        sum += std::fabs(gx.at<float>(y, x)) + std::fabs(gx.at<float>(y, x + 1));
        n += 2;
      }
  return sum / n;
}

double rmsDifference(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat fa, fb;
  a.convertTo(fa, CV_32F);
  b.convertTo(fb, CV_32F);
  return cv::norm(fa, fb, cv::NORM_L2) / std::sqrt(double(a.total()));
}

cv::Mat difference(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat fa, fb;
  a.convertTo(fa, CV_32F);
  b.convertTo(fb, CV_32F);
  return fa - fb;
}

void checkPhantom(int bitDepth) {
  auto params = testing::stillPhantom(bitDepth);
  params.slices = 4;
  params.height = 560;  // 520 rows of content: a stripe is estimated from many rows
  const phantom::Phantom striped(params);
  params.curtaining = 0;
  const phantom::Phantom clean(params);
  const double scale = bitDepth == 16 ? 257 : 1;
  for (int z : {0, 3}) {
    const cv::Mat a = testing::contentOf(striped, z), b = testing::contentOf(clean, z), truth = striped.truthLabels(z);
    const cv::Mat fixedA = removeCurtaining(a, kOn), fixedB = removeCurtaining(b, kOn);
    // The measure, the column-mean stripe amplitude, taken of the stripes themselves (the
    // slice minus its stripe-free twin): on a slice a few hundred rows tall the particles' own
    // column-mean wiggle is as large as the stripes, and no destriper may remove that.
    const double before = stripeAmplitude(difference(a, b), kOn.stripeWidth);
    const double after = stripeAmplitude(difference(fixedA, b), kOn.stripeWidth);
    std::cout << "  slice " << z << ": stripe amplitude of the stripes " << before / scale << " -> " << after / scale
              << "; of the whole slice " << stripeAmplitude(a, kOn.stripeWidth) / scale << " -> "
              << stripeAmplitude(fixedA, kOn.stripeWidth) / scale << " (stripe-free slice: "
              << stripeAmplitude(b, kOn.stripeWidth) / scale << "); edge strength clean " << edgeStrength(b, truth) / scale
              << ", clean destriped " << edgeStrength(fixedB, truth) / scale << ", striped destriped "
              << edgeStrength(fixedA, truth) / scale << "; RMS difference to stripe-free " << rmsDifference(a, b) / scale
              << " -> " << rmsDifference(fixedA, b) / scale << " (grey levels, 8-bit scale)\n";
    EXPECT_GE(before, 3 * after);
    // Edges: destriping keeps the horizontal gradient across phase boundaries (no blur), both on
    // a stripe-free slice and compared with the stripe-free truth.
    EXPECT_GE(edgeStrength(fixedB, truth), 0.98 * edgeStrength(b, truth));
    EXPECT_GE(edgeStrength(fixedA, truth), 0.98 * edgeStrength(b, truth));
    // What was removed is mostly stripes: the result is closer to the stripe-free slice (what is
    // left are stripes wider than stripe_width, which are not removed by design).
    EXPECT_LE(rmsDifference(fixedA, b), 0.7 * rmsDifference(a, b));
    // A stripe-free slice is barely changed.
    EXPECT_LE(rmsDifference(fixedB, b), 0.3 * rmsDifference(a, b));
  }
}

TEST(RemoveCurtainingOnPhantom, StripesDropEdgesKept8Bit) { checkPhantom(8); }
TEST(RemoveCurtainingOnPhantom, StripesDropEdgesKept16Bit) { checkPhantom(16); }

}  // namespace
}  // namespace fibseg::intensity
