// Gabor tuning: reading painted annotations, choosing the parameter set and threshold that
// reproduce painted pores vs SE, the contact sheet and the TOML it writes.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include <random>

#include "fibseg/core/error.hpp"
#include "fibseg/core/image.hpp"
#include "fibseg/segment/tune.hpp"

namespace fibseg::segment {
namespace {

TEST(Annotation, GreyLabelValues) {
  cv::Mat painted(4, 4, CV_8U, cv::Scalar(0));
  painted.at<uchar>(0, 0) = 1;
  painted.at<uchar>(1, 1) = 2;
  painted.at<uchar>(2, 2) = 3;
  const cv::Mat labels = annotationLabels(painted, "a.png");
  EXPECT_EQ(labels.at<uchar>(0, 0), Pore);
  EXPECT_EQ(labels.at<uchar>(1, 1), SolidElectrolyte);
  EXPECT_EQ(labels.at<uchar>(2, 2), ActiveMaterial);
  EXPECT_EQ(labels.at<uchar>(3, 3), kUnknown);
  EXPECT_EQ(cv::countNonZero(labels == kUnknown), 13);

  painted.at<uchar>(3, 3) = 9;
  EXPECT_THROW(annotationLabels(painted, "a.png"), Error);
  EXPECT_THROW(annotationLabels(cv::Mat(4, 4, CV_8U, cv::Scalar(0)), "a.png"), Error);  // nothing painted
}

TEST(Annotation, PhaseColoursOnAGreySlice) {
  cv::Mat painted(4, 4, CV_8UC3, cv::Scalar(90, 90, 90));  // unpainted slice pixels stay unknown
  painted.at<cv::Vec3b>(0, 0) = cv::Vec3b(255, 255, 255);   // white (near pore's 247): pore
  painted.at<cv::Vec3b>(1, 1) = cv::Vec3b(98, 138, 239);    // orange (BGR): SE
  painted.at<cv::Vec3b>(2, 2) = cv::Vec3b(230, 145, 90);    // blue, soft brush edge: CAM
  painted.at<cv::Vec3b>(3, 3) = cv::Vec3b(0, 0, 255);       // red: not a phase colour
  const cv::Mat labels = annotationLabels(painted, "a.png");
  EXPECT_EQ(labels.at<uchar>(0, 0), Pore);
  EXPECT_EQ(labels.at<uchar>(1, 1), SolidElectrolyte);
  EXPECT_EQ(labels.at<uchar>(2, 2), ActiveMaterial);
  EXPECT_EQ(labels.at<uchar>(3, 3), kUnknown);
  EXPECT_EQ(cv::countNonZero(labels == kUnknown), 13);
}

// SE with strong pixel noise around two pores; CAM in one corner. A single pixel cannot tell a
// pore from noisy SE; smoothing over a few pixels can. So the tuner must prefer a wide envelope.
struct NoisyScene {
  cv::Mat slice, truth, cam;
};
NoisyScene noisyScene() {
  NoisyScene s;
  s.truth = cv::Mat(96, 128, CV_8U, cv::Scalar(SolidElectrolyte));
  cv::circle(s.truth, {90, 60}, 20, cv::Scalar(ActiveMaterial), cv::FILLED);
  cv::circle(s.truth, {30, 30}, 10, cv::Scalar(Pore), cv::FILLED);
  cv::circle(s.truth, {40, 75}, 8, cv::Scalar(Pore), cv::FILLED);
  cv::Mat grey(s.truth.size(), CV_32F, cv::Scalar(110));
  grey.setTo(200, s.truth == ActiveMaterial);
  grey.setTo(80, s.truth == Pore);
  cv::Mat noise(grey.size(), CV_32F);
  cv::RNG(4).fill(noise, cv::RNG::NORMAL, 0, 25);
  grey += noise;
  grey.convertTo(s.slice, CV_8U);
  s.cam = s.truth == ActiveMaterial;
  return s;
}

cv::Mat sparse(const cv::Mat& truth, double fraction) {
  cv::Mat a(truth.size(), CV_8U, cv::Scalar(kUnknown));
  std::mt19937 rng(9);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int y = 0; y < truth.rows; ++y)
    for (int x = 0; x < truth.cols; ++x)
      if (unit(rng) < fraction) a.at<uchar>(y, x) = truth.at<uchar>(y, x);
  return a;
}

GaborSweep smallSweep() {
  GaborSweep sweep;
  sweep.kernelSizes = {1, 13};
  sweep.sigmas = {0.5, 3};
  sweep.thetasDeg = {0};
  sweep.lambdas = {1000};  // cosine flat over the window: Gaussian smoothing of width sigma
  sweep.gammas = {1};
  sweep.psisDeg = {0};
  return sweep;
}

TEST(Tune, PrefersSmoothingOnNoisySeAndFindsTheThreshold) {
  const NoisyScene s = noisyScene();
  const TuneResult result = tuneGabor(s.slice, s.cam, sparse(s.truth, 0.05), smallSweep());
  ASSERT_EQ(result.candidates.size(), 4u);
  EXPECT_EQ(result.best.gabor.kernelSize, 13);
  EXPECT_EQ(result.best.gabor.sigma, 3);
  EXPECT_GT(result.best.poreIou, 0.8);
  EXPECT_GT(result.best.score, result.candidates.back().score + 0.1);
  EXPECT_DOUBLE_EQ(result.camAgreement, 1.0);
  EXPECT_GT(result.paintedPore, 0);

  // On the whole slice (not only the painted pixels) the chosen set and threshold find the pores.
  SegmentParams params{OtsuScope::PerSlice, result.best.gabor, result.best.threshold, Convolution::Auto,
                       {0, 0, 0}};
  const cv::Mat response = gaborResponse(poreCandidateImage(s.slice, s.cam), params.gabor);
  const cv::Mat found = (response > params.poreThreshold) & (s.cam == 0);
  const cv::Mat truePore = s.truth == Pore;
  const double iou = double(cv::countNonZero(found & truePore)) / cv::countNonZero(found | truePore);
  EXPECT_GT(iou, 0.75);
}

TEST(Tune, NeedsPaintedPoresAndSe) {
  const NoisyScene s = noisyScene();
  cv::Mat onlySe(s.truth.size(), CV_8U, cv::Scalar(kUnknown));
  onlySe.at<uchar>(5, 5) = SolidElectrolyte;
  EXPECT_THROW(tuneGabor(s.slice, s.cam, onlySe, smallSweep()), Error);
  EXPECT_THROW(tuneGabor(s.slice, s.cam, cv::Mat(3, 3, CV_8U, cv::Scalar(0)), smallSweep()), Error);
}

TEST(Tune, UntunedThresholdsAndContactSheet) {
  const NoisyScene s = noisyScene();
  const auto candidates = untunedCandidates(s.slice, s.cam, smallSweep());
  ASSERT_EQ(candidates.size(), 4u);
  // For the smoothing set, Otsu on the response separates pores (inverted ~175) from SE (~145).
  const TuneCandidate& smooth = candidates[3];
  ASSERT_EQ(smooth.gabor.sigma, 3);
  const cv::Mat response = gaborResponse(poreCandidateImage(s.slice, s.cam), smooth.gabor);
  const double seMean = cv::mean(response, s.truth == SolidElectrolyte)[0];
  const double poreMean = cv::mean(response, s.truth == Pore)[0];
  EXPECT_GT(smooth.threshold, seMean);
  EXPECT_LT(smooth.threshold, poreMean);

  const cv::Mat sheet = contactSheet(s.slice, s.cam, candidates, 64, 48);
  ASSERT_EQ(sheet.type(), CV_8UC3);
  // 4 tiles: 2 x 2 of 64 x 48 px plus a 30-px caption each.
  EXPECT_EQ(sheet.cols, 128);
  EXPECT_EQ(sheet.rows, 2 * (48 + 30));
  // The smoothing tile (bottom right) shows the pores light grey and the CAM disc blue.
  const cv::Mat tile = sheet(cv::Rect(64, 78, 64, 48));
  const cv::Vec3b poreCentre = tile.at<cv::Vec3b>(15, 15);  // (30, 30) / 2
  EXPECT_GT(poreCentre[0], 150);
  EXPECT_GT(poreCentre[2], 150);
  const cv::Vec3b camCentre = tile.at<cv::Vec3b>(30, 45);  // (90, 60) / 2
  EXPECT_GT(camCentre[0], camCentre[2] + 60);  // blue: more blue than red
}

TEST(Tune, TomlUsesTheRegistryNames) {
  TuneCandidate best;
  best.gabor = {21, 4.5, 45, 12, 0.5, 0};
  best.threshold = 812.25;
  const std::string toml = tuneResultToml(best);
  EXPECT_EQ(toml.rfind("[segment]\n", 0), 0u);
  for (const char* line : {"gabor_kernel_size = 21\n", "gabor_sigma = 4.5", "gabor_theta = 45", "gabor_lambda = 12",
                           "gabor_gamma = 0.5", "gabor_psi = 0\n", "pore_threshold = 812.25\n"})
    EXPECT_NE(toml.find(line), std::string::npos) << line;
}

}  // namespace
}  // namespace fibseg::segment

namespace fibseg::segment {
namespace {

TEST(Tune, MergeKeepsTheRestOfTheParameterFile) {
  TuneCandidate best;
  best.gabor = {21, 4.5, 45, 12, 0.5, 0};
  best.threshold = 812.25;
  const std::string existing =
      "# my run\n[input]\npath = \"slices\"\n\n[segment]\nmethod = \"otsu\"\ngabor_sigma = 3 # old\n"
      "min_island_pore = 20\n\n[output]\nfolder = \"out\"\n";
  const std::string merged = mergeTuneResultIntoToml(existing, best);
  const std::string expected =
      "# my run\n[input]\npath = \"slices\"\n\n[segment]\nmethod = \"otsu\"\ngabor_sigma = 4.5\n"
      "min_island_pore = 20\ngabor_kernel_size = 21\ngabor_theta = 45\ngabor_lambda = 12\n"
      "gabor_gamma = 0.5\ngabor_psi = 0\npore_threshold = 812.25\n\n[output]\nfolder = \"out\"\n";
  EXPECT_EQ(merged, expected);

  // No [segment] section yet: one is appended; merging twice changes nothing more.
  const std::string added = mergeTuneResultIntoToml("[output]\nfolder = \"out\"\n", best);
  EXPECT_EQ(added, "[output]\nfolder = \"out\"\n\n" + tuneResultToml(best));
  EXPECT_EQ(mergeTuneResultIntoToml(added, best), added);
}

}  // namespace
}  // namespace fibseg::segment

namespace fibseg::segment {
namespace {

TEST(Tune, ResponseAtPixelsEqualsTheFilteredImage) {
  cv::Mat image(40, 57, CV_32F);
  cv::RNG(2).fill(image, cv::RNG::UNIFORM, 0, 255);
  const GaborParams g{15, 3, 30, 8, 0.5, 20};
  const cv::Mat full = gaborResponse(image, g, Convolution::OpenCv);
  cv::Mat padded;
  cv::copyMakeBorder(image, padded, 9, 9, 9, 9, cv::BORDER_REFLECT_101);
  // Corners, edges (reflected border) and the middle.
  const std::vector<int> pixels{0, 56, 39 * 57, 39 * 57 + 56, 3 * 57 + 1, 20 * 57 + 30, 38 * 57 + 55};
  const std::vector<float> at = responseAt(padded, 9, 57, pixels, gaborKernel(g));
  ASSERT_EQ(at.size(), pixels.size());
  for (std::size_t i = 0; i < pixels.size(); ++i)
    EXPECT_NEAR(at[i], full.ptr<float>()[pixels[i]], 1e-3) << "pixel " << pixels[i];
}

TEST(Tune, SparseSamplingChoosesWhatFullFilteringChooses) {
  const NoisyScene s = noisyScene();
  const cv::Mat annotation = sparse(s.truth, 0.01);
  const TuneResult sampled = tuneGabor(s.slice, s.cam, annotation, smallSweep(), Convolution::Auto);
  const TuneResult filtered = tuneGabor(s.slice, s.cam, annotation, smallSweep(), Convolution::OpenCv);
  ASSERT_EQ(sampled.candidates.size(), filtered.candidates.size());
  for (std::size_t i = 0; i < sampled.candidates.size(); ++i) {
    EXPECT_EQ(sampled.candidates[i].gabor.sigma, filtered.candidates[i].gabor.sigma);
    EXPECT_EQ(sampled.candidates[i].gabor.kernelSize, filtered.candidates[i].gabor.kernelSize);
    EXPECT_NEAR(sampled.candidates[i].score, filtered.candidates[i].score, 1e-9);
    EXPECT_NEAR(sampled.candidates[i].threshold, filtered.candidates[i].threshold,
                1e-3 * std::abs(filtered.candidates[i].threshold));
  }
}

}  // namespace
}  // namespace fibseg::segment
