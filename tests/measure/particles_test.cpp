// Particle sizes by particle: touching spheres of known radii are split and sized, a sphere's
// sphericity is about 1, and TauFactor's boundary-removal case (its tests/test_metrics.py,
// test_particle_size_distribution_removes_boundary_labels) gives its counts and fractions.
#include "fibseg/measure/particles.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace fibseg::measure {
namespace {

void addSphere(LabelVolume& v, double cx, double cy, double cz, double r, std::uint8_t phase) {
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x)
        if ((x - cx) * (x - cx) + (y - cy) * (y - cy) + (z - cz) * (z - cz) <= r * r) v.phase[v.index(x, y, z)] = phase;
}

// The equivalent radius of the voxelised sphere itself (its voxel count), the best a split can give.
double voxelisedRadius(double r) {
  auto v = makeVolume(40, 40, 40, {"pore", "am"});
  addSphere(v, 20, 20, 20, r, 1);
  const auto n = std::count(v.phase.begin(), v.phase.end(), 1);
  return std::cbrt(3.0 * double(n) / (4.0 * std::numbers::pi));
}

TEST(Particles, TouchingSpheresOfKnownRadiiAreSplitAndSizedWithinOneVoxel) {
  // Radii 6 and 9, centres 14 apart (overlapping by one voxel), then a third of radius 7 touching
  // the second: three particles, none on the volume's faces.
  auto v = makeVolume(56, 30, 30, {"pore", "am"});
  addSphere(v, 8, 15, 15, 6, 1);
  addSphere(v, 22, 15, 15, 9, 1);
  addSphere(v, 38, 15, 15, 7, 1);
  const auto s = particleSizes(v, 1, true);
  ASSERT_EQ(s.initialCount, 3);
  ASSERT_EQ(s.keptCount, 3);
  std::vector<double> radii;
  for (const auto& p : s.particles) radii.push_back(p.equivalentDiameterUm / 2);
  std::sort(radii.begin(), radii.end());
  EXPECT_NEAR(radii[0], 6, 1.0);
  EXPECT_NEAR(radii[1], 7, 1.0);
  EXPECT_NEAR(radii[2], 9, 1.0);
  std::printf("split radii %.2f %.2f %.2f (voxelised spheres alone: %.2f %.2f %.2f)\n", radii[0], radii[1], radii[2],
              voxelisedRadius(6), voxelisedRadius(7), voxelisedRadius(9));
}

TEST(Particles, SphereHasSphericityNearOneAndItsVolume) {
  auto v = makeVolume(30, 30, 30, {"pore", "am"}, {0.5, 0.5, 0.5});
  addSphere(v, 15, 15, 15, 10, 1);
  const auto s = particleSizes(v, 1, true);
  ASSERT_EQ(s.keptCount, 1);
  const auto& p = s.particles[0];
  EXPECT_NEAR(p.equivalentDiameterUm, 10.0, 0.25);  // r = 10 voxels of 0.5 µm
  EXPECT_NEAR(p.sphericity, 1.0, 0.05);
  EXPECT_NEAR(p.centroidUm[0], 7.5, 1e-9);
}

TEST(Particles, BoundaryParticlesAreRemovedAsTauFactorCounts) {
  // img = zeros(8, 8, 8); img[0, 1:3, 1:3] = 5; img[2:5, 2:5, 2:5] = 9; img[3, 3, 3] = 0;
  // img[5:7, 5:7, 5:7] = 12 -> 3 particles, 2 kept (26 and 8 voxels), 1/3 of them and 4/38 of
  // their volume removed.
  auto v = makeVolume(8, 8, 8, {"other", "particle"});
  std::vector<std::uint32_t> labels(v.voxels(), 0);
  for (int j = 1; j < 3; ++j)
    for (int k = 1; k < 3; ++k) labels[v.index(0, j, k)] = 5;
  for (int i = 2; i < 5; ++i)
    for (int j = 2; j < 5; ++j)
      for (int k = 2; k < 5; ++k) labels[v.index(i, j, k)] = 9;
  labels[v.index(3, 3, 3)] = 0;
  for (int i = 5; i < 7; ++i)
    for (int j = 5; j < 7; ++j)
      for (int k = 5; k < 7; ++k) labels[v.index(i, j, k)] = 12;
  const auto s = measureParticles(v, labels, true);
  EXPECT_EQ(s.initialCount, 3);
  EXPECT_EQ(s.keptCount, 2);
  ASSERT_EQ(s.particles.size(), 2u);
  EXPECT_DOUBLE_EQ(s.particles[0].volumeUm3, 26.0);
  EXPECT_DOUBLE_EQ(s.particles[1].volumeUm3, 8.0);
  EXPECT_NEAR(s.particles[0].equivalentDiameterUm, std::cbrt(6.0 * 26.0 / std::numbers::pi), 1e-12);
  EXPECT_DOUBLE_EQ(s.removedCountFraction, 1.0 / 3.0);
  EXPECT_NEAR(s.removedVolumeFraction, 4.0 / 38.0, 1e-12);
  const auto all = measureParticles(v, labels, false);
  EXPECT_EQ(all.keptCount, 3);
  EXPECT_DOUBLE_EQ(all.removedCountFraction, 0.0);
}

}  // namespace
}  // namespace fibseg::measure
