// The feature bank on hand-built images whose answers are known: flat regions have no edges,
// edges have gradient, stripes excite the Gabor filter of their orientation; band-wise
// evaluation equals whole-slice evaluation; the tiny committed ONNX model gives known maps.
#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <filesystem>

#include "fibseg/core/error.hpp"
#include "fibseg/learn/feature_bank.hpp"
#include "fibseg/learn/learn.hpp"

using namespace fibseg;

namespace {

learn::FeatureSpec spec(std::vector<double> scales, std::vector<double> gabor = {}, std::string norm = "fixed") {
  learn::FeatureSpec s;
  s.scales = std::move(scales);
  s.gaborWavelengths = std::move(gabor);
  s.gaborOrientations = 4;
  s.normalisation = std::move(norm);
  s.cnnChannels = 0;
  return s;
}

int indexOf(const std::vector<std::string>& names, const std::string& name) {
  const auto it = std::find(names.begin(), names.end(), name);
  EXPECT_NE(it, names.end()) << name;
  return static_cast<int>(it - names.begin());
}

double maxAbs(const cv::Mat& m) {
  double lo, hi;
  cv::minMaxLoc(m, &lo, &hi);
  return std::max(std::fabs(lo), std::fabs(hi));
}

const std::string kTinyCnn = std::string(FIBSEG_TEST_DATA) + "/tiny_cnn.onnx";

}  // namespace

TEST(FeatureBank, FlatImageHasSmoothedGreyAndNoStructure) {
  const auto s = spec({1, 2}, {4});
  const cv::Mat flat(40, 50, CV_8U, cv::Scalar(102));  // 0.4 of full scale
  const auto planes = learn::computeFeatures(flat, s);
  const auto names = learn::featureNames(s);
  ASSERT_EQ(planes.size(), names.size());
  ASSERT_EQ(names.size(), 1u + 2 * 10 + 4);
  for (std::size_t f = 0; f < planes.size(); ++f) {
    ASSERT_EQ(planes[f].type(), CV_32F);
    ASSERT_EQ(planes[f].size(), flat.size());
    const std::string& n = names[f];
    const bool isGrey = n == "grey" || n.rfind("gaussian", 0) == 0 || n.rfind("local mean", 0) == 0;
    const double expected = isGrey ? 0.4 : 0.0;
    // Gabor filters leak ~0.2% of the mean grey (their envelope is not perfectly band-pass).
    const double tolerance = n.rfind("gabor", 0) == 0 ? 0.004 : 1e-5;
    EXPECT_NEAR(cv::mean(planes[f])[0], expected, tolerance) << n;
    EXPECT_LT(maxAbs(planes[f] - expected), tolerance) << n;
  }
}

TEST(FeatureBank, VerticalEdgeHasGradientAndOneDimensionalStructure) {
  const auto s = spec({1});
  cv::Mat edge(32, 32, CV_8U, cv::Scalar(51));
  edge.colRange(16, 32).setTo(204);  // 0.2 | 0.8
  const auto planes = learn::computeFeatures(edge, s);
  const auto names = learn::featureNames(s);
  const cv::Mat& gradient = planes[indexOf(names, "gradient magnitude s=1")];
  const cv::Mat& tensorLarge = planes[indexOf(names, "structure tensor eigenvalue 1 s=1")];
  const cv::Mat& tensorSmall = planes[indexOf(names, "structure tensor eigenvalue 2 s=1")];
  const cv::Mat& laplacian = planes[indexOf(names, "laplacian of gaussian s=1")];
  // Gradient peaks between columns 15 and 16, is ~0 far away.
  const float atEdge = std::max(gradient.at<float>(16, 15), gradient.at<float>(16, 16));
  EXPECT_GT(atEdge, 0.15f);
  EXPECT_LT(gradient.at<float>(16, 4), 1e-3f);
  EXPECT_LT(gradient.at<float>(16, 28), 1e-3f);
  // A straight edge is one-dimensional: one large structure-tensor eigenvalue, the other ~0.
  EXPECT_GT(tensorLarge.at<float>(16, 16), 0.005f);
  EXPECT_LT(std::fabs(tensorSmall.at<float>(16, 16)), 1e-5f);
  // The Laplacian is positive on the dark side of the edge and negative on the bright side.
  EXPECT_GT(laplacian.at<float>(16, 14), 0.01f);
  EXPECT_LT(laplacian.at<float>(16, 17), -0.01f);
  // Gaussian at the edge is halfway.
  EXPECT_NEAR(0.5 * (planes[indexOf(names, "gaussian s=1")].at<float>(16, 15) +
                     planes[indexOf(names, "gaussian s=1")].at<float>(16, 16)), 0.5, 0.01);
}

TEST(FeatureBank, GaborAnswersStripesOfItsOrientation) {
  const auto s = spec({}, {6});
  cv::Mat stripes(64, 64, CV_8U);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x) stripes.at<std::uint8_t>(y, x) = cv::saturate_cast<uchar>(128 + 100 * std::cos(2 * CV_PI * x / 6));
  const auto planes = learn::computeFeatures(stripes, s);
  const auto names = learn::featureNames(s);
  const double across = planes[indexOf(names, "gabor l=6 o=0")].at<float>(32, 32);    // wave along x
  const double along = planes[indexOf(names, "gabor l=6 o=90")].at<float>(32, 32);    // wave along y
  const double diagonal = planes[indexOf(names, "gabor l=6 o=45")].at<float>(32, 32);
  // Amplitude of the stripes is 100/255 ~ 0.39; the matched filter recovers about half of it
  // (the complex filter's energy = amplitude / 2 for a real cosine).
  EXPECT_NEAR(across, 0.5 * 100 / 255, 0.03);
  EXPECT_LT(along, 0.01 * across);
  EXPECT_LT(diagonal, 0.5 * across);
}

// A step 0.2 | 0.8 at column 20: in the (2r+1)^2 window (r = 2s) the maximum is bright from r
// columns before the edge, the minimum from r columns after it, the median (a majority of the
// window's columns) from the edge on. s = 1: 5x5 (OpenCV's float median); s = 3.5: 15x15 (the
// median on 8 bits, exact here since 0.2 and 0.8 are multiples of 1/255).
TEST(FeatureBank, RankFeaturesSeeTheBrightSideWithinTheirWindow) {
  auto s = spec({1, 3.5});
  s.rankFeatures = true;
  cv::Mat edge(48, 48, CV_8U, cv::Scalar(51));
  edge.colRange(20, 48).setTo(204);
  const auto planes = learn::computeFeatures(edge, s);
  const auto names = learn::featureNames(s);
  ASSERT_EQ(planes.size(), names.size());
  ASSERT_EQ(names.size(), 1u + 2 * 10 + 2 * 3);
  for (const auto& [scale, r] : {std::pair<std::string, int>{"1", 2}, {"3.5", 7}}) {
    const cv::Mat& maximum = planes[indexOf(names, "maximum s=" + scale)];
    const cv::Mat& minimum = planes[indexOf(names, "minimum s=" + scale)];
    const cv::Mat& median = planes[indexOf(names, "median s=" + scale)];
    for (int y : {0, 24, 47})
      for (int x = 0; x < 48; ++x) {
        EXPECT_NEAR(maximum.at<float>(y, x), x >= 20 - r ? 0.8 : 0.2, 1e-6) << scale << " " << x;
        EXPECT_NEAR(minimum.at<float>(y, x), x >= 20 + r ? 0.8 : 0.2, 1e-6) << scale << " " << x;
        EXPECT_NEAR(median.at<float>(y, x), x >= 20 ? 0.8 : 0.2, 1e-6) << scale << " " << x;
      }
  }
}

TEST(FeatureBank, BandsGiveTheSameFeaturesAsTheWholeSlice) {
  auto s = spec({0.7, 3.5}, {4});
  s.rankFeatures = true;
  cv::Mat slice(150, 40, CV_16U);
  cv::randu(slice, 0, 65535);
  cv::GaussianBlur(slice, slice, {5, 5}, 1.5);
  const cv::Mat normalised = learn::detail::normaliseSlice(slice, s);
  const auto whole = learn::detail::bankFeatures(normalised, s, nullptr);
  int bands = 0;
  // ~ 20 rows per band: many bands, each needing its halo.
  learn::detail::forEachBand(normalised, {}, s, nullptr, 20 * 40, [&](cv::Range rows, const std::vector<cv::Mat>& planes) {
    ++bands;
    ASSERT_EQ(planes.size(), whole.size());
    for (std::size_t f = 0; f < planes.size(); ++f) {
      ASSERT_EQ(planes[f].size(), cv::Size(40, rows.size()));
      for (int y = rows.start; y < rows.end; ++y)
        for (int x = 0; x < 40; ++x)
          ASSERT_NEAR(planes[f].at<float>(y - rows.start, x), whole[f].at<float>(y, x), 2e-5)
              << "feature " << f << " at " << x << "," << y;
    }
  });
  EXPECT_GT(bands, 1);
}

// Planes from a PlanePool (reused from band to band and from slice to slice) hold the very values
// of newly allocated ones: bands of three heights (the first, the middle ones with halo on both
// sides, a short last one), a slice of another size in between, the bank, z context and the
// auto-context features (whose grid planes the pool serves too), twice over with the same pool.
TEST(FeatureBank, PooledPlanesGiveTheSameFeaturesBitForBit) {
  for (const char* z : {"none", "above_below", "changes"}) {
    SCOPED_TRACE(z);
    auto s = spec({0.7, 3.5}, {4});
    s.autoContextScales = {1, 4};
    s.autoContextStep = 2;
    s.zContext = z;
    auto bandsOf = [&](const cv::Mat& slice, learn::detail::PlanePool* pool) {
      const cv::Mat normalised = learn::detail::normaliseSlice(slice, s);
      const auto contexts =
          learn::detail::contextImages({cv::Mat(slice * 0.5), cv::Mat(slice * 2)}, s, slice.size(), "test");
      const cv::Size grid = learn::detail::firstStageGrid(slice.size(), s);
      cv::Mat p0(grid, CV_32F), p1(grid, CV_32F);
      cv::randu(p0, 0, 1);
      p1 = 1 - p0;
      std::vector<std::vector<cv::Mat>> out;
      learn::detail::forEachBand(normalised, contexts, s, nullptr, 20 * 40,
                                 [&](cv::Range rows, const std::vector<cv::Mat>& planes) {
        std::vector<cv::Mat> all = planes;
        learn::detail::appendAutoContextFeatures(all, {p0, p1}, rows, s, slice.cols, pool);
        std::vector<cv::Mat> copies;
        for (const auto& p : all) copies.push_back(p.clone());
        out.push_back(std::move(copies));
      }, pool);
      return out;
    };
    cv::Mat slice(150, 40, CV_16U), other(70, 52, CV_16U);
    cv::randu(slice, 0, 65535);
    cv::randu(other, 0, 65535);
    cv::GaussianBlur(slice, slice, {5, 5}, 1.5);
    cv::theRNG().state = 5;
    const auto fresh = bandsOf(slice, nullptr);
    ASSERT_GT(fresh.size(), 3u);
    learn::detail::PlanePool pool;
    for (int round = 0; round < 2; ++round) {
      cv::theRNG().state = 5;
      const auto pooled = bandsOf(slice, &pool);
      bandsOf(other, &pool);
      ASSERT_EQ(pooled.size(), fresh.size());
      for (std::size_t b = 0; b < fresh.size(); ++b) {
        ASSERT_EQ(pooled[b].size(), fresh[b].size());
        for (std::size_t f = 0; f < fresh[b].size(); ++f) {
          ASSERT_EQ(pooled[b][f].size(), fresh[b][f].size());
          EXPECT_EQ(cv::norm(pooled[b][f], fresh[b][f], cv::NORM_INF), 0.0)
              << "round " << round << ", band " << b << ", feature " << f;
        }
      }
    }
  }
}

// z context "changes" is above_below without the neighbours' banks: the slice's own bank, then
// per neighbour its change from the slice (grey, smoothed grey at each scale), named and valued
// exactly as those columns of above_below. A neighbour 40 grey levels brighter everywhere
// changes by 40 at every scale (hand-computed, "fixed" normalisation of 8 bits).
TEST(FeatureBank, ZChangesAreAboveBelowsChangeColumns) {
  auto withBanks = spec({0.7, 1.6}, {4}), changes = withBanks;
  withBanks.zContext = "above_below";
  changes.zContext = "changes";
  const auto all = learn::featureNames(withBanks), few = learn::featureNames(changes);
  const std::size_t own = learn::featureNames(spec({0.7, 1.6}, {4})).size();
  ASSERT_EQ(few.size(), own + 2 * 3);
  ASSERT_EQ(all.size(), 3 * own + 2 * 3);
  cv::Mat slice(60, 50, CV_8U);
  cv::randu(slice, 40, 200);
  const cv::Mat brighter = slice + 40;
  cv::Mat below(60, 50, CV_8U);
  cv::randu(below, 0, 255);
  auto planesOf = [&](const learn::FeatureSpec& s) {
    std::vector<cv::Mat> out;
    const auto contexts = learn::detail::contextImages({brighter, below}, s, slice.size(), "test");
    learn::detail::forEachBand(learn::detail::normaliseSlice(slice, s), contexts, s, nullptr, 60 * 50,
                               [&](cv::Range, const std::vector<cv::Mat>& planes) {
                                 for (const auto& p : planes) out.push_back(p.clone());
                               });
    return out;
  };
  const auto allPlanes = planesOf(withBanks), fewPlanes = planesOf(changes);
  ASSERT_EQ(fewPlanes.size(), few.size());
  for (std::size_t f = 0; f < few.size(); ++f) {
    const int a = indexOf(all, few[f]);
    EXPECT_EQ(cv::norm(fewPlanes[f], allPlanes[a], cv::NORM_INF), 0.0) << few[f];
  }
  // Away from the image border (its reflection is the same for both), the change of z-1 is 40/255.
  const cv::Rect inner(8, 8, 34, 44);
  for (const char* name : {"z-1 change grey", "z-1 change gaussian s=0.7", "z-1 change gaussian s=1.6"}) {
    const cv::Mat change = fewPlanes[indexOf(few, name)](inner);
    EXPECT_NEAR(cv::norm(change - 40.0 / 255, cv::NORM_INF), 0.0, 1e-5) << name;
  }
}

TEST(FeatureBank, PercentileNormalisationRemovesGainAndOffset) {
  const auto s = spec({1, 2}, {}, "percentile");
  cv::Mat base(64, 64, CV_8U);
  cv::randu(base, 40, 160);
  cv::Mat brighter;
  base.convertTo(brighter, CV_8U, 1.5, 10);  // gain 1.5, offset 10: still within 8 bits
  const auto a = learn::computeFeatures(base, s);
  const auto b = learn::computeFeatures(brighter, s);
  for (std::size_t f = 0; f < a.size(); ++f) EXPECT_LT(maxAbs(a[f] - b[f]), 0.02) << f;
}

TEST(FeatureSpec, JsonRoundTripAndDifferences) {
  auto s = spec({0.7, 1.6}, {4, 8});
  s.gaborOrientations = 6;
  const auto back = learn::featureSpecFromJson(learn::featureSpecToJson(s), "test");
  EXPECT_EQ(back.scales, s.scales);
  EXPECT_EQ(back.gaborWavelengths, s.gaborWavelengths);
  EXPECT_EQ(back.gaborOrientations, 6);
  EXPECT_EQ(back.normalisation, "fixed");
  EXPECT_EQ(learn::describeFeatureDifferences(s, back), "");
  auto other = s;
  other.scales = {1};
  other.normalisation = "percentile";
  const std::string diff = learn::describeFeatureDifferences(s, other);
  EXPECT_NE(diff.find("learn.scales: model [0.7, 1.6], configuration [1]"), std::string::npos) << diff;
  EXPECT_NE(diff.find("learn.normalisation"), std::string::npos) << diff;
  EXPECT_THROW(learn::featureSpecFromJson(R"({"scales": [1]})", "x.json"), Error);
  // Rank features and auto-context scales round-trip, differ by name, and default to off in
  // specifications written before they existed.
  auto ranked = s;
  ranked.rankFeatures = true;
  ranked.autoContextScales = {2, 4};
  const auto rankedBack = learn::featureSpecFromJson(learn::featureSpecToJson(ranked), "test");
  EXPECT_TRUE(rankedBack.rankFeatures);
  EXPECT_EQ(rankedBack.autoContextScales, (std::vector<double>{2, 4}));
  const std::string rankedDiff = learn::describeFeatureDifferences(s, ranked);
  EXPECT_NE(rankedDiff.find("learn.rank_features: model false, configuration true"), std::string::npos) << rankedDiff;
  EXPECT_NE(rankedDiff.find("learn.auto_context_scales: model [], configuration [2, 4]"), std::string::npos)
      << rankedDiff;
  const auto old = learn::featureSpecFromJson(
      R"({"scales": [1], "gabor_wavelengths": [], "gabor_orientations": 4, "normalisation": "fixed",
          "cnn_model": "", "cnn_model_digest": "", "cnn_channels": 0})", "old.json");
  EXPECT_FALSE(old.rankFeatures);
  EXPECT_TRUE(old.autoContextScales.empty());
  EXPECT_EQ(old.autoContextStep, 1);  // auto-context models from before the step: every pixel
}

// The auto-context features of a band equal those of the whole slice (the blur's halo), and are
// the probability then its Gaussian smoothing per scale: a flat probability stays flat.
TEST(AutoContext, FeaturesOfABandEqualThoseOfTheWholeSlice) {
  auto s = spec({1});
  s.autoContextScales = {1, 4};
  cv::Mat p0(90, 30, CV_32F), p1(90, 30, CV_32F, cv::Scalar(0.25));
  cv::randu(p0, 0, 1);
  std::vector<cv::Mat> whole;
  learn::detail::appendAutoContextFeatures(whole, {p0, p1}, cv::Range(0, 90), s, 30);
  ASSERT_EQ(whole.size(), 6u);
  EXPECT_EQ(whole.size(), learn::autoContextFeatureNames(s, {"rest", "particle"}).size());
  EXPECT_EQ(learn::autoContextFeatureNames(s, {"rest", "particle"})[4], "stage 1 p(particle) s=1");
  EXPECT_LT(maxAbs(whole[0] - p0), 1e-7);
  for (int f = 3; f < 6; ++f) EXPECT_LT(maxAbs(whole[f] - 0.25), 1e-6) << f;
  // Smoothing random values at sigma 4 leaves much less spread than at sigma 1.
  cv::Scalar mean, sd1, sd4;
  cv::meanStdDev(whole[1], mean, sd1);
  cv::meanStdDev(whole[2], mean, sd4);
  EXPECT_LT(sd4[0], 0.5 * sd1[0]);
  for (int start = 0; start < 90; start += 20) {
    const cv::Range rows(start, std::min(90, start + 20));
    std::vector<cv::Mat> band;
    learn::detail::appendAutoContextFeatures(band, {p0, p1}, rows, s, 30);
    ASSERT_EQ(band.size(), whole.size());
    for (std::size_t f = 0; f < band.size(); ++f) {
      ASSERT_EQ(band[f].rows, rows.size());
      EXPECT_LT(maxAbs(band[f] - whole[f].rowRange(rows)), 1e-6) << f << " rows " << start;
    }
  }
  EXPECT_TRUE(learn::autoContextFeatureNames(spec({1}), {"a", "b"}).empty());
}

// With learn.auto_context_step = 2 the first stage's probabilities lie on the grid of every
// second row and column; the features interpolate them bilinearly to every pixel: a ramp on the
// grid, p = 0.01 i + 0.02 j, is the ramp 0.005 x + 0.01 y on the slice (the last pixel of an even
// width holds the last grid value), a flat probability stays flat through every blur, and a band's
// features equal the whole slice's.
TEST(AutoContext, FirstStageOnAGridIsInterpolatedToEveryPixel) {
  auto s = spec({1});
  s.autoContextScales = {1, 4};
  s.autoContextStep = 2;
  const cv::Size slice(30, 91);
  const cv::Size grid = learn::detail::firstStageGrid(slice, s);
  ASSERT_EQ(grid, cv::Size(15, 46));
  cv::Mat ramp(grid, CV_32F), flat(grid, CV_32F, cv::Scalar(0.25)), noise(grid, CV_32F);
  for (int j = 0; j < grid.height; ++j)
    for (int i = 0; i < grid.width; ++i) ramp.at<float>(j, i) = 0.01f * i + 0.02f * j;
  cv::randu(noise, 0, 1);
  std::vector<cv::Mat> whole;
  learn::detail::appendAutoContextFeatures(whole, {ramp, flat, noise}, cv::Range(0, slice.height), s, slice.width);
  ASSERT_EQ(whole.size(), 9u);
  for (const auto& plane : whole) ASSERT_EQ(plane.size(), slice);
  for (int y = 0; y < slice.height; ++y)
    for (int x = 0; x < slice.width; ++x) {
      const double expected = 0.005 * std::min(x, 2 * (grid.width - 1)) + 0.01 * y;
      ASSERT_NEAR(whole[0].at<float>(y, x), expected, 1e-6) << x << ", " << y;
    }
  for (int f = 3; f < 6; ++f) EXPECT_LT(maxAbs(whole[f] - 0.25), 1e-6) << f;
  for (int start = 0; start < slice.height; start += 17) {
    const cv::Range rows(start, std::min(slice.height, start + 17));
    std::vector<cv::Mat> band;
    learn::detail::appendAutoContextFeatures(band, {ramp, flat, noise}, rows, s, slice.width);
    ASSERT_EQ(band.size(), whole.size());
    for (std::size_t f = 0; f < band.size(); ++f)
      EXPECT_LT(maxAbs(band[f] - whole[f].rowRange(rows)), 1e-6) << f << " rows " << start;
  }
  // The step is kept in the model's specification.
  const auto back = learn::featureSpecFromJson(learn::featureSpecToJson(s), "spec.json");
  EXPECT_EQ(back.autoContextStep, 2);
}

TEST(FeatureBank, RefusesAnEmptyOrInvalidSpecification) {
  const cv::Mat slice(16, 16, CV_8U, cv::Scalar(3));
  EXPECT_THROW(learn::computeFeatures(slice, spec({})), Error);
  EXPECT_THROW(learn::computeFeatures(slice, spec({-1})), Error);
  EXPECT_THROW(learn::computeFeatures(slice, spec({1}, {}, "z-score")), Error);
  EXPECT_THROW(learn::computeFeatures(cv::Mat(16, 16, CV_32F, cv::Scalar(0)), spec({1})), Error);
}

TEST(CnnFeatures, TinyOnnxModelGivesItsKnownMaps) {
  ASSERT_TRUE(std::filesystem::exists(kTinyCnn)) << kTinyCnn << " (made by tests/data/make_tiny_cnn.py)";
  auto s = spec({1});
  s.cnnModel = kTinyCnn;
  EXPECT_THROW(learn::computeFeatures(cv::Mat(8, 8, CV_8U, cv::Scalar(0)), s), Error);  // not resolved
  learn::resolveCnnModel(s);
  EXPECT_EQ(s.cnnChannels, 3);
  EXPECT_EQ(s.cnnModelDigest.size(), 16u);
  const auto names = learn::featureNames(s);
  EXPECT_EQ(names.back(), "cnn 2");

  // Flat grey 0.8: maps (0.8, 0, 0.3) everywhere away from the zero-padded border, at full size
  // although the network pools to half size.
  const cv::Mat flat(30, 42, CV_8U, cv::Scalar(204));
  const auto planes = learn::computeFeatures(flat, s);
  ASSERT_EQ(planes.size(), names.size());
  const int first = static_cast<int>(names.size()) - 3;
  for (int c = 0; c < 3; ++c) ASSERT_EQ(planes[first + c].size(), flat.size());
  const cv::Rect inner(4, 4, 34, 22);
  EXPECT_LT(maxAbs(planes[first](inner) - 0.8), 1e-4);
  EXPECT_LT(maxAbs(planes[first + 1](inner)), 1e-4);
  EXPECT_LT(maxAbs(planes[first + 2](inner) - 0.3), 1e-4);

  // Dark-to-bright vertical edge: the gradient map lights up at the edge only.
  cv::Mat edge(32, 32, CV_8U, cv::Scalar(0));
  edge.colRange(16, 32).setTo(255);
  const auto edgePlanes = learn::computeFeatures(edge, s);
  EXPECT_GT(edgePlanes[first + 1].at<float>(16, 16), 0.2f);
  EXPECT_LT(edgePlanes[first + 1].at<float>(16, 6), 1e-4f);
  EXPECT_LT(edgePlanes[first + 1].at<float>(16, 26), 1e-4f);
}

TEST(CnnFeatures, UnreadableModelIsAClearError) {
  auto s = spec({1});
  s.cnnModel = std::string(FIBSEG_TEST_DATA) + "/no_such_model.onnx";
  try {
    learn::resolveCnnModel(s);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_model.onnx"), std::string::npos) << e.what();
  }
}

// learn.normalisation = training: one mapping for every slice, from the training slices' grey
// percentiles, whatever each slice predicted holds. A slice made mostly of the bright phase keeps
// its grey levels (percentile would map its bright phase lower, towards the dark phase's place).
TEST(FeatureBank, TrainingNormalisationDoesNotFollowWhatTheSliceHolds) {
  auto s = spec({1}, {}, "training");
  s.greyLow = 50, s.greyHigh = 250;
  cv::Mat mostlyDark(40, 40, CV_8U, cv::Scalar(50)), mostlyBright(40, 40, CV_8U, cv::Scalar(250));
  mostlyDark(cv::Rect(0, 0, 10, 40)).setTo(250);
  mostlyBright(cv::Rect(0, 0, 10, 40)).setTo(50);
  const cv::Mat a = learn::detail::normaliseSlice(mostlyDark, s), b = learn::detail::normaliseSlice(mostlyBright, s);
  EXPECT_NEAR(a.at<float>(20, 5), 1.0f, 1e-6);   // 250 -> 1 in both
  EXPECT_NEAR(b.at<float>(20, 30), 1.0f, 1e-6);
  EXPECT_NEAR(a.at<float>(20, 30), 0.0f, 1e-6);  // 50 -> 0 in both
  EXPECT_NEAR(b.at<float>(20, 5), 0.0f, 1e-6);
  // Not trained yet (no range): the bit depth's range, as "fixed".
  const auto untrained = spec({1}, {}, "training");
  EXPECT_NEAR(learn::detail::normaliseSlice(mostlyDark, untrained).at<float>(20, 5), 250.0f / 255.0f, 1e-6);
  // The pooled percentiles of the training slices: 1st and 99th of all their pixels together.
  const auto [low, high] = learn::detail::greyPercentiles({mostlyDark, mostlyBright});
  EXPECT_EQ(low, 50);
  EXPECT_EQ(high, 250);
  // The range round-trips through the model's JSON; a "training" spec without it is refused.
  const auto back = learn::featureSpecFromJson(learn::featureSpecToJson(s), "test");
  EXPECT_EQ(back.greyLow, 50);
  EXPECT_EQ(back.greyHigh, 250);
  std::string json = learn::featureSpecToJson(s);
  json.replace(json.find("\"grey_range\""), 12, "\"other_key\"");
  EXPECT_THROW(learn::featureSpecFromJson(json, "model.json"), Error);
  EXPECT_EQ(learn::describeFeatureDifferences(back, spec({1}, {}, "training")), "");  // the range is the model's
}

TEST(Uncertainty, EntropyIsZeroWhenSureOneWhenEvenAndFindsTheUnsureWindow) {
  cv::Mat p0(60, 80, CV_32F, cv::Scalar(1.0f)), p1(60, 80, CV_32F, cv::Scalar(0.0f));
  p0(cv::Rect(50, 20, 10, 10)).setTo(0.5f);  // a patch where both phases are equally likely
  p1(cv::Rect(50, 20, 10, 10)).setTo(0.5f);
  const cv::Mat u = learn::uncertaintyOf({p0, p1});
  EXPECT_FLOAT_EQ(u.at<float>(0, 0), 0.0f);
  EXPECT_NEAR(u.at<float>(25, 55), 1.0f, 1e-6);
  // Three phases at 1/3 each: the largest entropy, 1 after dividing by log 3.
  const cv::Mat third(4, 4, CV_32F, cv::Scalar(1.0f / 3));
  EXPECT_NEAR(learn::uncertaintyOf({third, third, third}).at<float>(1, 1), 1.0f, 1e-5);
  const auto regions = learn::leastCertainRegions(u, 3, 10);
  ASSERT_EQ(regions.size(), 1u);  // only one window holds any uncertainty
  EXPECT_EQ(regions[0].box, cv::Rect(50, 20, 10, 10));
  EXPECT_NEAR(regions[0].meanUncertainty, 1.0, 1e-6);
  EXPECT_THROW(learn::uncertaintyOf({p0}), Error);
}
