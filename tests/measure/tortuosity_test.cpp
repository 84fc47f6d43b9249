// Tortuosity against analytic truth: straight channels (tau = 1 exactly), laminates (series =
// harmonic mean, parallel = arithmetic mean of the layers' diffusivities), a dead-end pore (null),
// and TauFactor's published figures on its electrode volume.
#include "fibseg/measure/tortuosity.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "fibseg/measure/connectivity.hpp"
#include "fibseg/measure/label_file.hpp"
#include "real_data.hpp"

namespace fibseg::measure {
namespace {

TEST(Tortuosity, StraightChannelsGiveOneExactlyWithAnisotropicVoxels) {
  auto v = makeVolume(12, 10, 9, {"pore", "solid"}, {0.5, 1.0, 3.0});
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) v.phase[v.index(x, y, z)] = ((y % 3 == 0) && (z % 2 == 0)) ? 0 : 1;
  const auto r = tortuosity(v, 0, X, {});
  ASSERT_TRUE(r.tau) << r.reason;
  EXPECT_NEAR(*r.tau, 1.0, 1e-4);
  EXPECT_NEAR(*r.relativeDiffusivity, r.volumeFraction, 1e-5);
  EXPECT_FALSE(tortuosity(v, 0, Y, {}).tau);  // channels run along x only
}

TEST(Tortuosity, DeadEndPoreIsNullWithReason) {
  auto v = makeVolume(10, 6, 6, {"pore", "solid"});
  for (auto& p : v.phase) p = 1;
  for (int x = 0; x < 7; ++x) v.phase[v.index(x, 3, 3)] = 0;  // touches x = 0 only
  const auto r = tortuosity(v, 0, X, {});
  EXPECT_FALSE(r.tau);
  EXPECT_NE(r.reason.find("both faces"), std::string::npos) << r.reason;
}

TEST(Tortuosity, APathWhoseDetoursCrossNoPlaneIsSolvedNotTakenFromTheFirstGuess) {
  // Along x, a one-voxel path with two legs along z: the linear first guess already passes the
  // same flux through every plane normal to x (the z legs cross none), but it is wrong along the
  // legs. The chain is L = 22 voxels (4 + 5 + 5 + 5 + 3) of unit conductance, half a voxel to each
  // fixed end: flux 1 / L through area ny nz = 24 over length nx = 12, so D_eff / D = 12 / (22 * 24);
  // eps counts all 25 pore voxels of 288 (a dead-end piece too), eps_percolating the 22.
  auto v = makeVolume(12, 3, 8, {"pore", "solid"});
  for (auto& p : v.phase) p = 1;
  const auto open = [&](int x, int z) { v.phase[v.index(x, 1, z)] = 0; };
  for (int x = 0; x <= 3; ++x) open(x, 1);
  for (int z = 1; z <= 6; ++z) open(3, z), open(8, z);
  for (int x = 3; x <= 8; ++x) open(x, 6);
  for (int x = 8; x < v.nx; ++x) open(x, 1);
  for (int x = 0; x <= 2; ++x) v.phase[v.index(x, 0, 4)] = 0;
  const auto t = tortuosity(v, 0, X, {});
  ASSERT_TRUE(t.tau) << t.reason;
  const double relative = 12.0 / (22.0 * 24.0);
  EXPECT_NEAR(*t.tau, 25.0 / 288.0 / relative, 1e-3 * 25.0 / 288.0 / relative);
  EXPECT_NEAR(*t.tauPercolating, 22.0 / 288.0 / relative, 1e-3 * 22.0 / 288.0 / relative);
}

TEST(Tortuosity, SeriesAndParallelPoreLaminates) {
  // Pore layers of 1 voxel alternate with closed solid: along the layers the pore is a set of
  // straight sheets (tau = 1); across them it does not percolate.
  auto v = makeVolume(16, 16, 16, {"pore", "solid"});
  for (int z = 0; z < 16; ++z)
    for (int y = 0; y < 16; ++y)
      for (int x = 0; x < 16; ++x) v.phase[v.index(x, y, z)] = (z % 4 == 0) ? 0 : 1;
  const auto along = tortuosity(v, 0, X, {});
  ASSERT_TRUE(along.tau);
  EXPECT_NEAR(*along.tau, 1.0, 1e-4);
  EXPECT_NEAR(*along.relativeDiffusivity, 0.25, 1e-5);  // arithmetic mean of 1, 0, 0, 0
  EXPECT_FALSE(tortuosity(v, 0, Z, {}).tau);              // harmonic mean with a zero layer = 0
}

TEST(Tortuosity, SeriesLaminateOfNarrowAndWideChannelsIsHarmonicMean) {
  // Along x: a section of length a where the pore is the whole cross-section, then a section of
  // length b where it is one voxel row of the 4-row cross-section (local D_eff = 1/4). In series
  // D_eff/D = L / (a/1 + b/(1/4)) (the harmonic mean) once the sections are long against the
  // width: the junction's spreading resistance (~1 width of extra length) is then below 1 %.
  const int a = 200, b = 200;
  auto v = makeVolume(a + b, 4, 1, {"pore", "solid"});
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < a + b; ++x) v.phase[v.index(x, y, 0)] = (x < a || y == 0) ? 0 : 1;
  const auto r = tortuosity(v, 0, X, {});
  ASSERT_TRUE(r.relativeDiffusivity) << r.reason;
  const double harmonic = double(a + b) / (a / 1.0 + b / 0.25);
  EXPECT_NEAR(*r.relativeDiffusivity, harmonic, 0.01 * harmonic);
}

// A thin, wide volume of random overlapping solid spheres (8 slices, 256 x 170 voxels, the shape of
// a FIB-SEM phantom crop where the solver failed): along the 256-voxel axis the float products
// A p of conjugate gradients lose ~1 % to cancellation, and without restarts from the true
// residual the fluxes stalled several % apart before CG broke down (p'Ap = NaN). Truth without a
// closed form: the pore percolates, so tau must come out converged, the percolating tau at least
// 1 (Wiener bound D_eff <= eps_percolating D), and the same when the volume is mirrored along
// the axis (the problem is symmetric under the mirror; the solver's iterates are not).
LabelVolume randomSpheresThinWide(bool mirrorX) {
  auto v = makeVolume(256, 170, 8, {"pore", "solid"}, {0.01, 0.01, 0.01});
  std::mt19937 random(7);  // raw mt19937 output is the same on every platform
  for (int k = 0; k < 1400; ++k) {
    const int cx = int(random() % 256), cy = int(random() % 170), cz = int(random() % 8);
    const int r = 3 + int(random() % 4);
    for (int z = std::max(0, cz - r); z <= std::min(7, cz + r); ++z)
      for (int y = std::max(0, cy - r); y <= std::min(169, cy + r); ++y)
        for (int x = std::max(0, cx - r); x <= std::min(255, cx + r); ++x)
          if ((x - cx) * (x - cx) + (y - cy) * (y - cy) + (z - cz) * (z - cz) <= r * r)
            v.phase[v.index(mirrorX ? 255 - x : x, y, z)] = 1;
  }
  return v;
}

TEST(Tortuosity, ThinWideRandomSpheresConvergeAlongTheLongAxes) {
  const auto v = randomSpheresThinWide(false), mirrored = randomSpheresThinWide(true);
  for (int axis : {X, Y}) {
    const auto r = tortuosity(v, 0, axis, {});
    SCOPED_TRACE(axisName(axis));
    ASSERT_GT(r.percolatingFraction, 0.0);
    ASSERT_TRUE(r.tau) << r.reason;
    EXPECT_LE(r.fluxSpread, 1e-3);
    EXPECT_GE(*r.tauPercolating, 1.0);
    const auto m = tortuosity(mirrored, 0, axis, {});
    ASSERT_TRUE(m.tau) << m.reason;
    EXPECT_NEAR(*m.tau, *r.tau, 2e-3 * *r.tau);
  }
}

TEST(Tortuosity, TauFactorElectrodePoreMatchesPublishedWithinHalfPercent) {
  FIBSEG_REQUIRE_REAL_DATA(folder, "taufactor-electrode");
  const auto v = readLabelVolume(folder / "electrode.tiff", {{"pore", 0}, {"nmc", 85}, {"cbd", 170}}, std::nullopt);
  const auto z = tortuosity(v, 0, Z, {});
  ASSERT_TRUE(z.tau) << z.reason;
  EXPECT_NEAR(*z.tau, 2.0776, 0.005 * 2.0776);
  const auto y = tortuosity(v, 0, Y, {});
  ASSERT_TRUE(y.tau) << y.reason;
  EXPECT_NEAR(*y.tau, 2.0766, 0.005 * 2.0766);
  std::printf("TauFactor volume pore: tau_z = %.4f (%d iterations), tau_y = %.4f (%d iterations)\n", *z.tau,
              z.iterations, *y.tau, y.iterations);
}

}  // namespace
}  // namespace fibseg::measure
