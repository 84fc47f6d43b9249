// Boundary refinement (learn.refine_band, refine_method) on hand-built cases whose true edge is known.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "fibseg/core/error.hpp"
#include "fibseg/learn/learn.hpp"

using namespace fibseg;
using testing::HasSubstr;

namespace {

// A vertical step edge: grey 60 left of column `edge`, 180 from it on.
cv::Mat stepImage(int edge) {
  cv::Mat grey(40, 80, CV_8U, cv::Scalar(60));
  grey.colRange(edge, grey.cols).setTo(180);
  return grey;
}

cv::Mat labelsSplitAt(int column, cv::Size size) {
  cv::Mat labels(size, CV_8U, cv::Scalar(0));
  labels.colRange(column, size.width).setTo(1);
  return labels;
}

}  // namespace

// A classifier boundary 3 px inside the bright phase moves onto the edge; 0 px leaves the labels.
TEST(RefineBoundaries, MovesABoundaryOntoTheEdgeWithinTheBand) {
  const cv::Mat grey = stepImage(40);
  const cv::Mat off = labelsSplitAt(43, grey.size());
  const cv::Mat refined = learn::refineBoundaries(off, grey, {4, 1.0}, 2);
  EXPECT_EQ(cv::countNonZero(refined != labelsSplitAt(40, grey.size())), 0);
  EXPECT_EQ(cv::countNonZero(learn::refineBoundaries(off, grey, {0, 1.0}, 2) != off), 0);
  // Beyond the band the edge is out of reach: a boundary 6 px off moves by at most 2.
  const cv::Mat far = learn::refineBoundaries(labelsSplitAt(46, grey.size()), grey, {2, 1.0}, 2);
  for (int y = 0; y < far.rows; ++y) {
    const int first = cv::countNonZero(far.row(y) == 0);
    EXPECT_GE(first, 44);
    EXPECT_LE(first, 48);
  }
}

// Three phases: each boundary moves to its own edge; a body narrower than the band (no pixel
// farther than the band from another phase) keeps a seed and survives.
TEST(RefineBoundaries, ThreePhasesAndThinBodiesSurvive) {
  cv::Mat grey(40, 120, CV_8U, cv::Scalar(30));
  grey.colRange(40, 80).setTo(120);
  grey.colRange(80, 120).setTo(220);
  cv::Mat labels(grey.size(), CV_8U, cv::Scalar(0));
  labels.colRange(42, 78).setTo(1);  // each boundary 2 px off, toward the middle phase
  labels.colRange(78, 120).setTo(2);
  cv::Mat truth(grey.size(), CV_8U, cv::Scalar(0));
  truth.colRange(40, 80).setTo(1);
  truth.colRange(80, 120).setTo(2);
  cv::circle(grey, {20, 20}, 2, 220, cv::FILLED);  // a small bright body in the dark phase
  cv::circle(labels, {20, 20}, 2, 2, cv::FILLED);
  cv::circle(truth, {20, 20}, 2, 2, cv::FILLED);
  const cv::Mat refined = learn::refineBoundaries(labels, grey, {4, 1.0}, 3);
  EXPECT_EQ(cv::countNonZero(refined.colRange(30, 120) != truth.colRange(30, 120)), 0);
  cv::Mat body = refined(cv::Rect(15, 15, 11, 11)) == 2;
  EXPECT_GE(cv::countNonZero(body), 9);  // the disk is still there (13 px painted)
}

TEST(RefineBoundaries, RefusesLabelsOfAnotherSize) {
  const cv::Mat grey = stepImage(40);
  EXPECT_THAT([&] { learn::refineBoundaries(cv::Mat(10, 10, CV_8U, cv::Scalar(0)), grey, {3, 1.0}, 2); },
              testing::ThrowsMessage<Error>(HasSubstr("labels must be an 8-bit image of the slice's size")));
}

// Half contrast: a step edge blurred (Gaussian, sigma 2 px) and noisy. The true edge lies where
// the grey is halfway between the two sides; a classifier boundary 2 px into either side returns
// there, column by column, and a boundary beyond the band moves by at most the band.
TEST(RefineBoundaries, HalfContrastPutsABlurredEdgeWhereTheGreyIsHalfway) {
  cv::Mat grey;
  stepImage(40).convertTo(grey, CV_32F);
  cv::GaussianBlur(grey, grey, {0, 0}, 2.0);
  cv::Mat noise(grey.size(), CV_32F);
  cv::theRNG().state = 7;
  cv::randn(noise, 0, 4);
  grey += noise;
  grey.convertTo(grey, CV_8U);
  const learn::BoundaryRefinement half{3, 1.0, learn::RefineMethod::HalfContrast};
  const cv::Mat truth = labelsSplitAt(40, grey.size());
  for (int off : {37, 38, 42, 43}) {
    const cv::Mat refined = learn::refineBoundaries(labelsSplitAt(off, grey.size()), grey, half, 2);
    EXPECT_LE(cv::countNonZero(refined != truth), grey.rows / 10) << "boundary at column " << off;
  }
  const cv::Mat far = learn::refineBoundaries(labelsSplitAt(47, grey.size()), grey, {2, 1.0, learn::RefineMethod::HalfContrast}, 2);
  for (int y = 0; y < far.rows; ++y) EXPECT_GE(cv::countNonZero(far.row(y) == 0), 45);
  EXPECT_EQ(learn::refineMethodFrom(learn::refineMethodName(learn::RefineMethod::HalfContrast), "test"),
            learn::RefineMethod::HalfContrast);
  EXPECT_THAT([] { learn::refineMethodFrom("snap", "learn.refine_method"); },
              testing::ThrowsMessage<Error>(HasSubstr("learn.refine_method: refine method \"snap\"; expected watershed or half_contrast")));
}
