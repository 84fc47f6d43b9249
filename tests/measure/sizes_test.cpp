// Sizes against geometry: a sphere's and a cylinder's local thickness is their diameter, a slab's
// its thickness (in µm, anisotropic voxels too), and the chords of a laminate; the painting
// against the definition, voxel by voxel.
#include "fibseg/measure/sizes.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

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

// The definition, voxel by voxel: the largest 2 r over the ridge balls whose centre is strictly
// closer than r, in the painting's arithmetic (r^2 - ez^2 - ey^2 against ex^2): what the painting
// skips as inside a larger ball must change no voxel.
std::vector<float> thicknessByDefinition(const LabelVolume& v, int phase) {
  std::vector<std::uint8_t> inside(v.voxels());
  for (std::size_t i = 0; i < inside.size(); ++i) inside[i] = v.phase[i] == phase;
  const auto dt2 = squaredDistanceToOutside(v, inside);
  const auto& h = v.voxelUm;
  struct Ball { int x, y, z; double radius; };
  std::vector<Ball> balls;
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) {
        const std::size_t i = v.index(x, y, z);
        if (!inside[i]) continue;
        const double radius = std::sqrt(double(dt2[i]));
        bool ridge = true;  // no neighbour's ball contains this one
        for (int dz = -1; dz <= 1; ++dz)
          for (int dy = -1; dy <= 1; ++dy)
            for (int dx = -1; dx <= 1; ++dx) {
              const int nx = x + dx, ny = y + dy, nz = z + dz;
              if ((!dx && !dy && !dz) || nx < 0 || ny < 0 || nz < 0 || nx >= v.nx || ny >= v.ny || nz >= v.nz ||
                  !inside[v.index(nx, ny, nz)])
                continue;
              const double reach = radius + std::sqrt(dx * dx * h[0] * h[0] + dy * dy * h[1] * h[1] + dz * dz * h[2] * h[2]) - 1e-6;
              ridge = ridge && double(dt2[v.index(nx, ny, nz)]) < reach * reach;
            }
        if (ridge) balls.push_back({x, y, z, radius});
      }
  std::vector<float> t(v.voxels(), 0.0f);
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) {
        const std::size_t i = v.index(x, y, z);
        if (!inside[i]) continue;
        for (const Ball& b : balls) {
          const double ez = (z - b.z) * h[2], ey = (y - b.y) * h[1], ex = (x - b.x) * h[0];
          const double rest = (b.radius * b.radius - ez * ez) - ey * ey;
          if (rest > 0 && ex * ex < rest) t[i] = std::max(t[i], float(2 * b.radius));
        }
      }
  return t;
}

TEST(Sizes, LocalThicknessIsTheLargestCoveringRidgeBallVoxelByVoxel) {
  // Overlapping balls of radius 3 to 7 in a box of few slices (many balls per column, cut by the
  // faces), isotropic and with z voxels 1.5 x the pixel; both phases.
  for (const std::array<double, 3> voxel : {std::array<double, 3>{1, 1, 1}, std::array<double, 3>{0.2, 0.2, 0.3}}) {
    auto v = makeVolume(30, 26, 8, {"pore", "solid"}, voxel);
    std::mt19937 random(7);
    std::uniform_real_distribution<double> u(0, 1);
    for (int k = 0; k < 14; ++k) {
      const double c[3] = {u(random) * 30, u(random) * 26, u(random) * 8}, r = 3 + 4 * u(random);
      for (int z = 0; z < v.nz; ++z)
        for (int y = 0; y < v.ny; ++y)
          for (int x = 0; x < v.nx; ++x) {
            const double dx = x + 0.5 - c[0], dy = y + 0.5 - c[1], dz = (z + 0.5 - c[2]) * voxel[2] / voxel[0];
            if (dx * dx + dy * dy + dz * dz <= r * r) v.phase[v.index(x, y, z)] = 1;
          }
    }
    for (int phase : {0, 1}) {
      const auto expected = thicknessByDefinition(v, phase), painted = localThickness(v, phase);
      long long differ = 0;
      for (std::size_t i = 0; i < expected.size(); ++i) differ += expected[i] != painted[i];
      EXPECT_EQ(differ, 0) << "phase " << phase << ", voxel " << voxel[0] << " x " << voxel[1] << " x " << voxel[2];
    }
  }
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
