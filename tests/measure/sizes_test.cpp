// Sizes against geometry: a sphere's and a cylinder's local thickness is their diameter, a slab's
// its thickness (in µm, anisotropic voxels too), and the chords of a laminate.
#include "fibseg/measure/sizes.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace fibseg::measure {
namespace {

// A ball of radius r voxels centred `offset` voxels from the box centre (a voxel corner).
LabelVolume ball(double r, double offset) {
  const int n = int(2 * r) + 8;
  auto v = makeVolume(n, n, n, {"pore", "solid"});
  for (int z = 0; z < n; ++z)
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x) {
        const double dx = x + 0.5 - n / 2.0 - offset, dy = y + 0.5 - n / 2.0 - offset, dz = z + 0.5 - n / 2.0 - offset;
        v.phase[v.index(x, y, z)] = dx * dx + dy * dy + dz * dz <= r * r;
      }
  return v;
}

TEST(Sizes, SphereLocalThicknessMedianIsItsDiameterWithinOneVoxel) {
  // Centred on a voxel corner (the hardest case for balls centred on voxels: the largest one has
  // dt = sqrt(90) = 9.49) and on a voxel centre (dt = sqrt(101) = 10.05).
  for (double r : {10.0, 15.0})
    for (double offset : {0.0, 0.5}) {
      const auto s = sizeDistribution(ball(r, offset), 1, true);
      EXPECT_NEAR(s.d50, 2 * r, 1.0) << "r = " << r << ", centre offset " << offset;
      EXPECT_LE(s.d90, 2 * r + 1.0);
      EXPECT_LE(s.d10, s.d50);
    }
}

TEST(Sizes, SlabThicknessInAnisotropicVoxels) {
  // Slabs 4 and 6 voxels thick along z, filling x and y, with voxels 0.5 x 0.5 x 2 µm: every
  // voxel's thickness is the slab's, 8 and 12 µm (balls reach the first voxel outside, as in PoreSpy).
  for (int layers : {4, 6}) {
    auto v = makeVolume(10, 10, layers + 4, {"pore", "solid"}, {0.5, 0.5, 2});
    for (int z = 2; z < 2 + layers; ++z)
      for (int y = 0; y < 10; ++y)
        for (int x = 0; x < 10; ++x) v.phase[v.index(x, y, z)] = 1;
    const auto s = sizeDistribution(v, 1, true);
    EXPECT_DOUBLE_EQ(s.d10, 2.0 * layers);
    EXPECT_DOUBLE_EQ(s.d90, 2.0 * layers);
    ASSERT_EQ(s.voxels.size(), 1u);
    EXPECT_EQ(s.voxels[0], 100LL * layers);
  }
}

TEST(Sizes, CylinderLocalThicknessMedianIsItsDiameterWithinOneVoxel) {
  const double r = 8;
  auto v = makeVolume(12, 24, 24, {"pore", "solid"});
  for (int z = 0; z < 24; ++z)
    for (int y = 0; y < 24; ++y)
      for (int x = 0; x < 12; ++x) {
        const double dy = y + 0.5 - 12, dz = z + 0.5 - 12;
        v.phase[v.index(x, y, z)] = dy * dy + dz * dz <= r * r;
      }
  const auto s = sizeDistribution(v, 1, true);
  EXPECT_NEAR(s.d50, 2 * r, 1.0);
}

TEST(Sizes, TwoSpheresByVolume) {
  // Spheres r = 4 and r = 10 apart: the big one has ~15 times the volume, so by volume even d10
  // is the big one's diameter, while by count of particles half would be small.
  auto v = makeVolume(48, 28, 28, {"pore", "solid"});
  for (int z = 0; z < 28; ++z)
    for (int y = 0; y < 28; ++y)
      for (int x = 0; x < 48; ++x) {
        const double dy = y + 0.5 - 14, dz = z + 0.5 - 14, big = (x + 0.5 - 14), small = (x + 0.5 - 38);
        v.phase[v.index(x, y, z)] = big * big + dy * dy + dz * dz <= 100 || small * small + dy * dy + dz * dz <= 16;
      }
  const auto s = sizeDistribution(v, 1, true);
  EXPECT_NEAR(s.d50, 20, 1.0);
  EXPECT_GT(s.d10, 8 + 1.0);
}

TEST(Sizes, MeanChordOfSlabs) {
  auto v = makeVolume(20, 6, 6, {"pore", "solid"}, {0.5, 1, 1});
  for (int z = 0; z < 6; ++z)
    for (int y = 0; y < 6; ++y)
      for (int x = 0; x < 20; ++x) v.phase[v.index(x, y, z)] = (x % 10) < 4;  // runs of 4 voxels
  const auto s = sizeDistribution(v, 1, false);
  EXPECT_DOUBLE_EQ(s.meanChordUm[X], 2.0);  // 4 voxels of 0.5 µm
  EXPECT_DOUBLE_EQ(s.meanChordUm[Y], 6.0);
}

}  // namespace
}  // namespace fibseg::measure
