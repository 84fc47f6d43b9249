// Registration: known shifts recovered on hand-made images, and the drift of a phantom stack
// recovered against its ground truth.
#include <gtest/gtest.h>

#include <complex>
#include <cstdio>
#include <opencv2/imgproc.hpp>

#include "fibseg/align/align.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/measure/score.hpp"
#include "fibseg/phantom/phantom.hpp"
#include "registry_defaults.hpp"

namespace fibseg::align {
namespace {

// Smooth random texture, float, mean ~100.
cv::Mat texture(cv::Size size, int seed) {
  cv::Mat image(size, CV_32F);
  cv::RNG rng(seed);
  rng.fill(image, cv::RNG::NORMAL, 0, 1);
  cv::GaussianBlur(image, image, cv::Size(0, 0), 2.0);
  cv::normalize(image, image, 40, 200, cv::NORM_MINMAX);
  return image;
}

// `image` with its content displaced by `shift` exactly (Fourier shift theorem; periodic), so
// sub-pixel truth does not depend on an interpolation kernel.
cv::Mat fourierShift(const cv::Mat& image, cv::Point2d shift) {
  cv::Mat spectrum;
  cv::dft(image, spectrum, cv::DFT_COMPLEX_OUTPUT);
  for (int y = 0; y < spectrum.rows; ++y)
    for (int x = 0; x < spectrum.cols; ++x) {
      const double fx = double(x < (spectrum.cols + 1) / 2 ? x : x - spectrum.cols) / spectrum.cols;
      const double fy = double(y < (spectrum.rows + 1) / 2 ? y : y - spectrum.rows) / spectrum.rows;
      auto& v = spectrum.at<cv::Vec2f>(y, x);
      const auto c = std::complex<double>(v[0], v[1]) * std::polar(1.0, -2 * M_PI * (fx * shift.x + fy * shift.y));
      v = {float(c.real()), float(c.imag())};
    }
  cv::Mat out;
  cv::idft(spectrum, out, cv::DFT_REAL_OUTPUT | cv::DFT_SCALE);
  return out;
}

// The middle of a periodic image (so the wrap-around of fourierShift is cut away).
cv::Mat middle(const cv::Mat& image, int margin = 24) {
  return image(cv::Rect(margin, margin, image.cols - 2 * margin, image.rows - 2 * margin)).clone();
}

TEST(PairShift, KnownIntegerShiftRecovered) {
  const cv::Mat base = texture({256, 224}, 1);
  for (cv::Point2d truth : {cv::Point2d(5, -3), cv::Point2d(-11, 7), cv::Point2d(0, 0), cv::Point2d(37, -24)}) {
    const PairShift m = measurePairShift(middle(base), middle(fourierShift(base, truth)), registryDefaults());
    EXPECT_NEAR(m.shift.x, truth.x, 0.02) << truth;
    EXPECT_NEAR(m.shift.y, truth.y, 0.02) << truth;
    EXPECT_GT(m.peak, 0.5);
  }
}

TEST(PairShift, KnownSubPixelShiftRecovered) {
  const cv::Mat base = texture({256, 224}, 2);
  for (cv::Point2d truth : {cv::Point2d(0.37, -0.62), cv::Point2d(2.5, 1.25), cv::Point2d(-4.81, 0.1)}) {
    const PairShift m = measurePairShift(middle(base), middle(fourierShift(base, truth)), registryDefaults());
    EXPECT_NEAR(m.shift.x, truth.x, 0.02) << truth;
    EXPECT_NEAR(m.shift.y, truth.y, 0.02) << truth;
  }
}

TEST(PairShift, BrightnessChangeAndCurtainsDoNotPullTheEstimate) {
  const cv::Mat base = texture({256, 224}, 3);
  const cv::Point2d truth(1.3, -2.7);
  cv::Mat fixed = middle(base), moving = middle(fourierShift(base, truth));
  // Curtains: vertical stripes at the same columns in both slices, fading downwards.
  cv::RNG rng(4);
  for (int x = 0; x < fixed.cols; x += 7) {
    const float amplitude = float(rng.uniform(-25.0, 25.0));
    for (int y = 0; y < fixed.rows; ++y) {
      const float a = amplitude * (1.0f - 0.5f * y / fixed.rows);
      fixed.at<float>(y, x) += a;
      moving.at<float>(y, x) += a;
    }
  }
  moving = moving * 1.3 + 25;  // gain and offset change
  cv::Mat noise(moving.size(), CV_32F);
  rng.fill(noise, cv::RNG::NORMAL, 0, 4);
  moving += noise;
  const PairShift m = measurePairShift(fixed, moving, registryDefaults());
  EXPECT_NEAR(m.shift.x, truth.x, 0.05);
  EXPECT_NEAR(m.shift.y, truth.y, 0.05);

  // Without the curtain notch the stripes fixed in the frame pull towards zero shift.
  RegistrationParams plain = registryDefaults();
  plain.suppressCurtaining = false;
  const PairShift pulled = measurePairShift(fixed, moving, plain);
  EXPECT_GT(cv::norm(pulled.shift - truth), cv::norm(m.shift - truth));
}

TEST(Registrar, OneSliceGivesNoRegistrationAndNoError) {
  Registrar registrar(registryDefaults());
  EXPECT_TRUE(registrar.finalise().empty());
  const ShiftEstimate first = registrar.add(texture({64, 48}, 5));
  EXPECT_EQ(first.step, cv::Point2d(0, 0));
  const auto transforms = registrar.finalise();
  ASSERT_EQ(transforms.size(), 1u);
  EXPECT_EQ(transforms[0].shift, cv::Point2d(0, 0));
  EXPECT_EQ(transforms[0].peak, 1.0);
  EXPECT_FALSE(transforms[0].flagged);
}

TEST(Registrar, SliceOfAnotherSizeIsAnError) {
  Registrar registrar(registryDefaults());
  registrar.add(texture({64, 48}, 5));
  EXPECT_THROW(registrar.add(texture({64, 40}, 6)), Error);
}

// One slice's drift: `mean` plus Gaussian steps of `sigma` px, y drawn first in its own
// statement (C++ leaves the order of a call's arguments open; y first was GCC's order).
cv::Point2d driftStep(cv::RNG& rng, cv::Point2d mean, double sigma) {
  const double dy = rng.gaussian(sigma), dx = rng.gaussian(sigma);
  return mean + cv::Point2d(dx, dy);
}

// Slices cut from one large texture at known sub-pixel offsets (a pure drift, no change of
// content): every shift recovered to a few hundredths of a pixel.
TEST(Registrar, PureDriftRecovered) {
  const cv::Mat world = texture({224, 192}, 8);
  std::vector<cv::Point2d> truth;
  std::vector<cv::Mat> slices;
  cv::Point2d s(0, 0);
  cv::RNG rng(9);
  for (int z = 0; z < 12; ++z) {
    if (z > 0) s += driftStep(rng, {0.4, -0.3}, 0.5);
    truth.push_back(s);
    slices.push_back(middle(fourierShift(world, s), 32));
  }
  const auto transforms = registerSlices(slices, registryDefaults());
  const auto score = measure::scoreShifts(truth, shiftsOf(transforms));
  EXPECT_LT(score.rmsError, 0.03);
  EXPECT_LT(score.maxError, 0.06);
  for (const auto& t : transforms) EXPECT_FALSE(t.flagged);
}

TEST(Registrar, AutomaticScaleKeepsTheSmallerSideAt512OrMore) {
  EXPECT_EQ(registrationScale({2048, 1536}, 0), 2);
  EXPECT_EQ(registrationScale({4096, 3072}, 0), 4);
  EXPECT_EQ(registrationScale({1024, 1023}, 0), 1);
  EXPECT_EQ(registrationScale({512, 384}, 0), 1);
  EXPECT_EQ(registrationScale({512, 384}, 3), 3);
  EXPECT_THROW(registrationScale({512, 384}, -1), Error);
  EXPECT_THROW(registrationScale({64, 48}, 8), Error);  // 6 px left
}

// Registration on slices shrunk 2x still gives shifts in full-size pixels, sub-pixel.
TEST(Registrar, ShrunkSlicesGiveFullSizeShifts) {
  const cv::Mat world = texture({448, 384}, 15);
  std::vector<cv::Point2d> truth;
  std::vector<cv::Mat> slices;
  cv::Point2d s(0, 0);
  cv::RNG rng(16);
  for (int z = 0; z < 10; ++z) {
    if (z > 0) s += driftStep(rng, {0.4, -0.3}, 0.8);
    truth.push_back(s);
    slices.push_back(middle(fourierShift(world, s), 32));
  }
  RegistrationParams p = registryDefaults();
  p.scale = 2;
  const auto score = measure::scoreShifts(truth, shiftsOf(registerSlices(slices, p)));
  EXPECT_LT(score.rmsError, 0.05);
  EXPECT_LT(score.maxError, 0.1);
}

// What the pipeline does: prepare() slices on several threads, add() them in order. Same result
// as add() one by one.
TEST(Registrar, PreparedInParallelGivesTheSameShifts) {
  const cv::Mat world = texture({288, 256}, 17);
  std::vector<cv::Mat> slices;
  for (int z = 0; z < 6; ++z) slices.push_back(middle(fourierShift(world, {0.7 * z, -0.45 * z}), 32));
  Registrar registrar(registryDefaults(), slices[0].size());
  std::vector<std::shared_ptr<const Registrar::Prepared>> prepared(slices.size());
  cv::parallel_for_(cv::Range(0, int(slices.size())), [&](const cv::Range& r) {
    for (int z = r.start; z < r.end; ++z) prepared[z] = registrar.prepare(slices[z]);
  });
  for (const auto& one : prepared) registrar.add(*one);
  const auto parallel = shiftsOf(registrar.finalise());
  const auto serial = shiftsOf(registerSlices(slices, registryDefaults()));
  for (std::size_t z = 0; z < slices.size(); ++z) EXPECT_EQ(parallel[z], serial[z]) << z;
}

// The pair with the previous slice made beforehand (in parallel, as the pipeline does) is the
// pair add() would make: the same shifts, bit for bit.
TEST(Registrar, PairsMadeBeforehandGiveTheSameShifts) {
  const cv::Mat world = texture({288, 256}, 21);
  std::vector<cv::Mat> slices;
  for (int z = 0; z < 12; ++z) slices.push_back(middle(fourierShift(world, {0.6 * z, -0.35 * z + 0.2 * (z % 3)}), 32));
  Registrar registrar(registryDefaults(), slices[0].size());
  std::vector<std::shared_ptr<const Registrar::Prepared>> prepared;
  for (const auto& slice : slices) prepared.push_back(registrar.prepare(slice));
  for (std::size_t z = 0; z < slices.size(); ++z) {
    if (z == 0) {
      registrar.add(*prepared[z]);
      continue;
    }
    const PairShift pair = registrar.pairWithPrevious(*prepared[z - 1], *prepared[z]);
    registrar.add(*prepared[z], &pair);
  }
  const auto beforehand = registrar.finalise();
  const auto inAdd = registerSlices(slices, registryDefaults());
  ASSERT_EQ(beforehand.size(), inAdd.size());
  for (std::size_t z = 0; z < slices.size(); ++z) {
    EXPECT_EQ(beforehand[z].shift, inAdd[z].shift) << z;
    EXPECT_EQ(beforehand[z].quality, inAdd[z].quality) << z;
  }
}

TEST(Registrar, ChainsAreCutByTheStackAlone) {
  const auto whole = chainsOf(60, 0, 8);
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0].first, 0); EXPECT_EQ(whole[0].end, 60); EXPECT_EQ(whole[0].warmUp, 0);
  // ceil(60 / 32) = 2 chains, each reading 34 slices: 0-33, and 26-59 (8 warm-up, deciding 34-59)
  const auto two = chainsOf(60, 32, 8);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].first, 0); EXPECT_EQ(two[0].end, 34); EXPECT_EQ(two[0].warmUp, 0);
  EXPECT_EQ(two[1].first, 34); EXPECT_EQ(two[1].end, 60); EXPECT_EQ(two[1].warmUp, 8); EXPECT_EQ(two[1].start(), 26);
  // Every chain reads about as many slices (warm-up included), the chains cover the stack in order.
  for (const auto& [slices, length] : std::vector<std::pair<int, int>>{{1000, 32}, {61, 16}, {33, 32}, {200, 50}}) {
    const auto chains = chainsOf(slices, length, 8);
    ASSERT_EQ(int(chains.size()), (slices + length - 1) / length) << slices << " in chains of " << length;
    int lo = slices, hi = 0, first = 0;
    for (const auto& c : chains) {
      EXPECT_EQ(c.first, first);
      EXPECT_EQ(c.warmUp, std::min(c.first, 8));
      lo = std::min(lo, c.end - c.start()), hi = std::max(hi, c.end - c.start());
      first = c.end;
    }
    EXPECT_EQ(first, slices);
    EXPECT_LE(hi - lo, 1) << slices << " in chains of " << length;
  }
  // Chains shorter than their warm-up: each still decides a slice and starts no earlier than slice 0.
  const auto short_ = chainsOf(6, 2, 8);
  ASSERT_EQ(short_.size(), 3u);
  EXPECT_EQ(short_[0].end, 4);
  EXPECT_EQ(short_[1].first, 4); EXPECT_EQ(short_[1].size(), 1); EXPECT_EQ(short_[1].warmUp, 4);
  EXPECT_EQ(short_[2].first, 5); EXPECT_EQ(short_[2].size(), 1); EXPECT_EQ(short_[2].warmUp, 5);
  EXPECT_EQ(chainsOf(0, 32, 8).size(), 0u);
}

// One chain is the Registrar; chains of 4 slices (each started with up to 8 slices of the one
// before) recover a pure drift as well, and every comparison is in the one solve: no chain's
// slices are left to float (a chain on its own would start again at (0, 0)).
TEST(Registrar, ChainsRecoverThePureDrift) {
  const cv::Mat world = texture({224, 192}, 8);
  std::vector<cv::Point2d> truth;
  std::vector<cv::Mat> slices;
  cv::Point2d s(0, 0);
  cv::RNG rng(9);
  for (int z = 0; z < 14; ++z) {
    if (z > 0) s += driftStep(rng, {0.4, -0.3}, 0.5);
    truth.push_back(s);
    slices.push_back(middle(fourierShift(world, s), 32));
  }
  const auto single = registerSlices(slices, registryDefaults());
  const auto oneChain = registerSlices(slices, registryDefaults(), 0);
  for (std::size_t z = 0; z < slices.size(); ++z) EXPECT_EQ(single[z].shift, oneChain[z].shift) << z;
  for (int chainSlices : {4, 5}) {
    const auto chained = registerSlices(slices, registryDefaults(), chainSlices);
    const auto score = measure::scoreShifts(truth, shiftsOf(chained));
    EXPECT_LT(score.rmsError, 0.03) << chainSlices << ": " << measure::formatShiftScore(score);
    EXPECT_LT(score.maxError, 0.06) << chainSlices;
    for (const auto& t : chained) EXPECT_FALSE(t.flagged);
  }
}

// A chain's measurements are in the stack's slice numbers: a later chain's comparisons reach back
// into the slices it started with; chains that leave a gap or overlap are refused.
TEST(Registrar, ChainMeasurementsAreInStackSliceNumbers) {
  const cv::Mat world = texture({224, 192}, 12);
  std::vector<cv::Mat> slices;
  for (int z = 0; z < 6; ++z) slices.push_back(middle(fourierShift(world, {0.5 * z, 0.3 * z}), 32));
  Registrar later(registryDefaults());
  for (int z = 1; z < 6; ++z) later.add(slices[z]);  // stack slices 1..5, deciding 3..5
  const ChainMeasurements m = later.measurements(1, 2);
  EXPECT_EQ(m.first, 3);
  EXPECT_EQ(m.peaks.size(), 3u);
  int reachingBack = 0;
  for (const auto& c : m.comparisons) {
    EXPECT_GE(c.to, 3);
    for (const auto& [j, w] : c.terms) {
      EXPECT_GE(j, 1);
      reachingBack += j < 3;
    }
  }
  EXPECT_GT(reachingBack, 0);
  Registrar first(registryDefaults());
  for (int z = 0; z < 3; ++z) first.add(slices[z]);
  EXPECT_EQ(solveRegistration(registryDefaults(), 6, {first.measurements(0, 0), m}).size(), 6u);
  EXPECT_THROW(solveRegistration(registryDefaults(), 6, {m, first.measurements(0, 0)}), Error);  // out of order
  EXPECT_THROW(solveRegistration(registryDefaults(), 5, {first.measurements(0, 0), m}), Error);  // beyond the stack
}

// A thin registration region (40 rows, like a band of protective cap): the tapers are a large
// part of it and pulled sub-pixel estimates ~20% towards zero before the windows were placed on
// the shared content.
TEST(PairShift, ThinRegionShiftUnbiased) {
  const cv::Mat base = texture({432, 88}, 18);
  for (cv::Point2d truth : {cv::Point2d(0.33, -0.44), cv::Point2d(0.0, 0.5), cv::Point2d(-1.6, 2.3)}) {
    const PairShift m = measurePairShift(middle(base), middle(fourierShift(base, truth)), registryDefaults());
    EXPECT_NEAR(m.shift.x, truth.x, 0.03) << truth;
    EXPECT_NEAR(m.shift.y, truth.y, 0.03) << truth;
  }
}

// A drift registered on a thin band with the running reference: errors stay small along the stack.
TEST(Registrar, ThinRegionDriftRecovered) {
  const cv::Mat world = texture({480, 120}, 19);
  std::vector<cv::Point2d> truth;
  std::vector<cv::Mat> slices;
  cv::Point2d s(0, 0);
  cv::RNG rng(20);
  for (int z = 0; z < 16; ++z) {
    if (z > 0) s += driftStep(rng, {0.35, -0.25}, 0.5);
    truth.push_back(s);
    slices.push_back(middle(fourierShift(world, s), 32));  // 416 x 56
  }
  const auto score = measure::scoreShifts(truth, shiftsOf(registerSlices(slices, registryDefaults())));
  EXPECT_LT(score.rmsError, 0.05) << measure::formatShiftScore(score);
  EXPECT_LT(score.maxError, 0.1) << measure::formatShiftScore(score);
}

// A slice that matches nothing (e.g. a beam blank) is flagged, and with bridging the slices
// after it stay aligned.
TEST(Registrar, WeakPairFlaggedAndBridged) {
  const cv::Mat world = texture({224, 192}, 10);
  std::vector<cv::Point2d> truth;
  std::vector<cv::Mat> slices;
  for (int z = 0; z < 10; ++z) {
    truth.push_back({0.7 * z, -0.4 * z});
    slices.push_back(middle(fourierShift(world, truth.back()), 32));
  }
  cv::RNG rng(11);
  rng.fill(slices[5], cv::RNG::NORMAL, 100, 30);  // pure noise
  const auto transforms = registerSlices(slices, registryDefaults());
  EXPECT_TRUE(transforms[5].flagged);
  for (int z : {1, 2, 3, 4, 7, 8, 9}) {
    EXPECT_FALSE(transforms[z].flagged) << z;
    EXPECT_LT(cv::norm(transforms[z].shift - truth[z]), 0.1) << z;
  }
  // Bridged from the neighbouring steps: close to the steady drift.
  EXPECT_LT(cv::norm(transforms[5].shift - truth[5]), 0.5);
}

// A jump larger than align.max_shift: the pair search misses it (its peak is outside the area
// searched, so the best peak inside is chance: significance under the threshold); the coarse
// retry, searching a quarter of the frame, finds it, so nothing is bridged.
TEST(Registrar, JumpBeyondMaxShiftFoundByTheCoarseRetry) {
  const cv::Mat world = texture({448, 384}, 21);
  const std::vector<cv::Point2d> truth{{0, 0}, {1.5, -1}, {3, -2}, {21, 14}, {22.5, 13}};
  std::vector<cv::Mat> slices;
  for (const auto& t : truth) slices.push_back(middle(fourierShift(world, t), 40));
  RegistrationParams p = registryDefaults();
  p.maxShiftPx = 4;
  const auto transforms = registerSlices(slices, p);
  EXPECT_EQ(bridgedCount(transforms), 0);
  for (size_t z = 0; z < truth.size(); ++z) EXPECT_LT(cv::norm(transforms[z].shift - truth[z]), 0.3) << z;
}

// Two blank slices in a row with a short reference: the reference of the slice after them
// reaches back past both.
TEST(Registrar, TwoBlankSlicesBridged) {
  const cv::Mat world = texture({224, 192}, 13);
  std::vector<cv::Point2d> truth;
  std::vector<cv::Mat> slices;
  for (int z = 0; z < 11; ++z) {
    truth.push_back({-0.5 * z, 0.8 * z});
    slices.push_back(middle(fourierShift(world, truth.back()), 32));
  }
  cv::RNG rng(14);
  rng.fill(slices[5], cv::RNG::NORMAL, 100, 30);
  rng.fill(slices[6], cv::RNG::NORMAL, 100, 30);
  RegistrationParams p = registryDefaults();
  p.referenceSlices = 3;
  const auto transforms = registerSlices(slices, p);
  EXPECT_TRUE(transforms[5].flagged);
  EXPECT_TRUE(transforms[6].flagged);
  for (int z : {1, 2, 3, 4, 7, 8, 9, 10}) EXPECT_LT(cv::norm(transforms[z].shift - truth[z]), 0.1) << z;
}

// (On slices of a realistic size: on 160 x 128 px ones the taper at the borders alone moves the
// estimates by a few hundredths of a pixel per slice.)
TEST(Registrar, SmoothingKeepsASteadyDrift) {
  const cv::Mat world = texture({448, 384}, 12);
  std::vector<cv::Point2d> truth;
  std::vector<cv::Mat> slices;
  for (int z = 0; z < 10; ++z) {
    truth.push_back({0.6 * z, 0.25 * z});
    slices.push_back(middle(fourierShift(world, truth.back()), 32));
  }
  RegistrationParams p = registryDefaults();
  p.smoothingSlices = 5;
  const auto score = measure::scoreShifts(truth, shiftsOf(registerSlices(slices, p)));
  EXPECT_LT(score.maxError, 0.05);
}

TEST(Registrar, SixteenBitSlicesRegisterLikeEightBit) {
  phantom::PhantomParams p;
  p.width = 256;
  p.height = 200;
  p.slices = 8;
  p.camRadius = 6;
  p.dataBarRows = 0;
  std::vector<cv::Point2d> shifts[2];
  for (int i = 0; i < 2; ++i) {
    p.bitDepth = i ? 16 : 8;
    const phantom::Phantom ph(p);
    Registrar registrar(registryDefaults());
    for (int z = 0; z < p.slices; ++z) registrar.add(ph.rawSlice(z));
    shifts[i] = shiftsOf(registrar.finalise());
  }
  // 16-bit slices are the 8-bit ones without their rounding to whole grey levels.
  EXPECT_LT(measure::scoreShifts(shifts[0], shifts[1]).maxError, 0.05);
}

// The acceptance test of issue 4: 48 phantom slices with drift (steady + random walk),
// curtaining, shading, brightness changes and noise, three phantoms (seeds); the RMS error is
// over all 144 slices, the maximum error per slice.
//
// Grain radius: the phantom's default (6% of the frame, ~18 px here) puts only ~100 grains and
// pores in a 384 x 300 view, and their cross-sections change by up to a pixel per slice. Each
// slice-to-slice change moves the structure's apparent position by ~0.05-0.1 px, consistently
// over several slices (a grain boundary keeps moving the same way), so every image-based
// estimate (chained pairs or running reference) wanders ~1 px over 48 slices there: the content
// itself has moved. With 6 px grains the view holds many more features, as a real 2048 px frame
// does. Even so the apparent motion dominates: per seed the RMS error is ~0.11, ~0.14 and ~0.32 px
// (pooled 0.21); at the default grain size it is 0.8-1.4 px.
TEST(Registrar, PhantomDriftWithinAQuarterPixel) {
  phantom::PhantomParams p;
  p.width = 384;
  p.height = 320;
  p.slices = 48;
  p.camRadius = 6;
  std::vector<cv::Point2d> allTruth, allEstimated;
  for (unsigned seed : {1u, 2u, 3u}) {
    p.seed = seed;
    const phantom::Phantom ph(p);
    const cv::Mat first = ph.rawSlice(0);
    AlignParams params{};
    params.dataBarMode = DataBarMode::Auto;
    const cv::Rect rect = cropRect(first.size(), dataBarRows(first, params), {0, 0, 0, 0});
    Registrar registrar(registryDefaults());
    std::vector<cv::Point2d> truth;
    for (int z = 0; z < p.slices; ++z) {
      registrar.add(cropSlice(ph.rawSlice(z), rect, std::to_string(z)));
      truth.push_back(ph.shift(z));
    }
    cv::Point2d offset(1, 1);
    const auto transforms = registrar.finalise(&offset);
    const auto estimated = shiftsOf(transforms);
    const auto score = measure::scoreShifts(truth, estimated);
    std::printf("seed %u: %s\n", seed, measure::formatShiftScore(score).c_str());
    // In chains of 16 (align.chain_slices; the pipeline's default is 32) the error stays as small.
    std::vector<cv::Mat> cropped;
    for (int z = 0; z < p.slices; ++z) cropped.push_back(cropSlice(ph.rawSlice(z), rect, std::to_string(z)));
    const auto chainedScore = measure::scoreShifts(truth, shiftsOf(registerSlices(cropped, registryDefaults(), 16)));
    std::printf("seed %u in chains of 16: %s\n", seed, measure::formatShiftScore(chainedScore).c_str());
    EXPECT_LE(chainedScore.rmsError, score.rmsError + 0.05) << "seed " << seed;
    // Dense slices: a chain of pairs and the comparisons reaching further back agree on average,
    // so the solve finds no comparison offset (within 1.7 times its uncertainty; 3.2 needed).
    EXPECT_EQ(offset, cv::Point2d(0, 0)) << "seed " << seed;
    EXPECT_LE(score.maxError, 1.0) << "seed " << seed << ": " << measure::formatShiftScore(score);
    for (const auto& t : transforms) EXPECT_FALSE(t.flagged);
    allTruth.insert(allTruth.end(), truth.begin(), truth.end());
    allEstimated.insert(allEstimated.end(), estimated.begin(), estimated.end());
  }
  const auto pooled = measure::scoreShifts(allTruth, allEstimated);
  EXPECT_LE(pooled.rmsError, 0.25) << measure::formatShiftScore(pooled);
}

}  // namespace
}  // namespace fibseg::align
