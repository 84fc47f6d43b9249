// Diffusivity per phase against analytic truth (laminates: series = harmonic mean, parallel =
// arithmetic mean), against the single-phase tortuosity solver on binary volumes, and against
// TauFactor's MultiPhaseSolver test cases (its tests/test_taufactor.py, test_mphsolver_*; its
// img[i, j, k] is voxel (x = i, y = j, z = k) here, solved along x).
#include "fibseg/measure/multiphase_diffusion.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "fibseg/core/error.hpp"
#include "fibseg/measure/tortuosity.hpp"

namespace fibseg::measure {
namespace {

TEST(MultiPhaseDiffusion, ParsesPhaseValuePairsAndRefusesBadOnes) {
  const auto d = parseDiffusivities(" pore=1, cbd = 0.1 ,", "measure.diffusivities");
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].first, "pore");
  EXPECT_DOUBLE_EQ(d[1].second, 0.1);
  EXPECT_THROW(parseDiffusivities("pore=-1", "measure.diffusivities"), Error);
  EXPECT_THROW(parseDiffusivities("pore=1, PORE=2", "measure.diffusivities"), Error);
  try {
    parseDiffusivities("pore:1", "measure.diffusivities");
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), testing::HasSubstr("measure.diffusivities"));
  }
}

TEST(MultiPhaseDiffusion, SeriesLaminateIsHarmonicMeanParallelIsArithmetic) {
  // Layers of 2 voxels normal to x, D = 1 and 0.1 alternating, anisotropic voxels.
  auto v = makeVolume(20, 6, 5, {"a", "b"}, {0.5, 1.0, 2.0});
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) v.phase[v.index(x, y, z)] = (x / 2) % 2;
  const std::vector<double> D{1.0, 0.1};
  const auto series = multiPhaseDiffusion(v, D, X);
  ASSERT_TRUE(series.tau) << series.reason;
  EXPECT_NEAR(*series.relativeDiffusivity, 2.0 / (1.0 / 1.0 + 1.0 / 0.1), 1e-6);
  EXPECT_NEAR(series.meanDiffusivity, 0.55, 1e-12);
  EXPECT_NEAR(*series.tau, 0.55 / (2.0 / 11.0), 1e-5);
  for (int axis : {Y, Z}) {
    const auto parallel = multiPhaseDiffusion(v, D, axis);
    ASSERT_TRUE(parallel.tau) << parallel.reason;
    EXPECT_NEAR(*parallel.relativeDiffusivity, 0.55, 1e-6);
    EXPECT_NEAR(*parallel.tau, 1.0, 1e-5);
  }
}

TEST(MultiPhaseDiffusion, BinaryVolumeEqualsTheSinglePhaseSolver) {
  auto v = makeVolume(24, 20, 16, {"pore", "solid"});
  std::mt19937 rng(7);
  std::bernoulli_distribution solid(0.35);
  for (auto& p : v.phase) p = solid(rng) ? 1 : 0;
  for (int axis : {X, Y, Z}) {
    const auto single = tortuosity(v, 0, axis, {});
    const auto multi = multiPhaseDiffusion(v, {1.0, 0.0}, axis);
    ASSERT_TRUE(single.tau && multi.tau) << multi.reason;
    EXPECT_NEAR(*multi.tau, *single.tau, 2e-3 * *single.tau) << axisName(axis);
    EXPECT_NEAR(*multi.relativeDiffusivity, *single.relativeDiffusivity, 2e-3 * *single.relativeDiffusivity);
  }
}

LabelVolume block(int l, int fill) {
  auto v = makeVolume(l, l, l, {"zero", "one", "two", "three"});
  for (auto& p : v.phase) p = std::uint8_t(fill);
  return v;
}

TEST(MultiPhaseDiffusion, TauFactorCases) {
  const std::vector<double> defaults{0.0, 1.0, 0.0, 0.0};  // TauFactor: label 1 conducts, D = 1
  // test_mphsolver_on_empty_block: tau = inf (null here).
  EXPECT_FALSE(multiPhaseDiffusion(block(20, 0), defaults, X).tau);
  // test_mphsolver_on_ones_block and _on_halves: tau = 1.
  EXPECT_NEAR(*multiPhaseDiffusion(block(20, 1), defaults, X).tau, 1.0, 1e-4);
  const auto halves = multiPhaseDiffusion(block(20, 1), {0.0, 0.5, 0.0, 0.0}, X);
  EXPECT_NEAR(*halves.tau, 1.0, 1e-4);
  EXPECT_NEAR(*halves.relativeDiffusivity, 0.5, 1e-6);
  // test_mphsolver_on_strip_of_ones: img[:, 0:10, 0:10] = 1 in zeros -> 1.
  auto strip = block(20, 0);
  for (int z = 0; z < 10; ++z)
    for (int y = 0; y < 10; ++y)
      for (int x = 0; x < 20; ++x) strip.phase[strip.index(x, y, z)] = 1;
  EXPECT_NEAR(*multiPhaseDiffusion(strip, defaults, X).tau, 1.0, 1e-4);
  // test_mphsolver_on_strip_of_ones_and_twos: img[:, 0:10, 10:20] = 2, {1: 1, 2: 0.5} -> 1.
  for (int z = 10; z < 20; ++z)
    for (int y = 0; y < 10; ++y)
      for (int x = 0; x < 20; ++x) strip.phase[strip.index(x, y, z)] = 2;
  EXPECT_NEAR(*multiPhaseDiffusion(strip, {0.0, 1.0, 0.5, 0.0}, X).tau, 1.0, 1e-4);
  // test_mphsolver_on_strip_of_ones_and_twos_and_threes: ones background, {1: 1, 2: 0.5, 3: 2} -> 1.
  auto three = block(20, 1);
  for (int y = 0; y < 10; ++y)
    for (int z = 0; z < 20; ++z)
      for (int x = 0; x < 20; ++x) three.phase[three.index(x, y, z)] = z < 10 ? 2 : 3;
  EXPECT_NEAR(*multiPhaseDiffusion(three, {0.0, 1.0, 0.5, 2.0}, X).tau, 1.0, 1e-4);
}

TEST(MultiPhaseDiffusion, TauFactorMultiphaseAndSolverAgree) {
  // test_multiphase_and_solver_agree (100^3 there, 50^3 here, same shapes): ones; img[25:] = 2;
  // img[:, :10] = 0; img[:, 25:] = 1; {1: 1, 2: 1e-4} against the solver on img with 2 -> 0.
  const int l = 50;
  auto v = makeVolume(l, l, l, {"zero", "one", "two"});
  for (int z = 0; z < l; ++z)
    for (int y = 0; y < l; ++y)
      for (int x = 0; x < l; ++x) v.phase[v.index(x, y, z)] = y < 10 ? 0 : y >= 25 ? 1 : x >= 25 ? 2 : 1;
  const auto multi = multiPhaseDiffusion(v, {0.0, 1.0, 1e-4}, X);
  ASSERT_TRUE(multi.tau) << multi.reason;
  const auto single = tortuosity(v, 1, X, {});
  ASSERT_TRUE(single.tau);
  EXPECT_LT(std::abs(*multi.tau - *single.tau), 0.02);  // TauFactor's bound
}

}  // namespace
}  // namespace fibseg::measure
