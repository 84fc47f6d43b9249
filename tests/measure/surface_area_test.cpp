// Areas against geometry: voxelised spheres (4 pi r^2), planes at 0, 30 and 45 degrees cutting a
// box (whose own faces are not surface), interfaces between phases, and the plane over-read.
#include "fibseg/measure/surface_area.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

namespace fibseg::measure {
namespace {

LabelVolume sphere(double r, std::array<double, 3> centreOffset = {0, 0, 0}) {
  const int n = int(2 * r) + 12;
  auto v = makeVolume(n, n, n, {"pore", "solid"});
  const double c = n / 2.0;
  for (int z = 0; z < n; ++z)
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x) {
        const double dx = x + 0.5 - c - centreOffset[0], dy = y + 0.5 - c - centreOffset[1], dz = z + 0.5 - c - centreOffset[2];
        v.phase[v.index(x, y, z)] = dx * dx + dy * dy + dz * dz <= r * r ? 1 : 0;
      }
  return v;
}

TEST(SurfaceArea, VoxelisedSpheresWithinTwoPercent) {
  for (double r : {10.0, 15.0}) {
    for (auto offset : {std::array<double, 3>{0, 0, 0}, std::array<double, 3>{0.5, 0.25, 0.1}}) {
      const auto a = surfaceAreas(sphere(r, offset), 1.0, Y, 1);
      const double truth = 4 * M_PI * r * r;
      EXPECT_NEAR(a.phaseTotalUm2[1], truth, 0.02 * truth) << "r = " << r;
      EXPECT_NEAR(a.phaseTotalUm2[0], truth, 0.02 * truth) << "r = " << r;
      EXPECT_NEAR(a.interfaceTotalUm2[0], truth, 0.02 * truth) << "r = " << r;
    }
  }
}

TEST(SurfaceArea, PlaneOverReadOfMarchingCubes) {
  // Planes where marching cubes' midpoint vertices lie on the plane are read exactly (factor 1);
  // a 30-degree plane's staircase is read high, which is what the correction divides out.
  const std::array<double, 3> h{1, 1, 1};
  EXPECT_NEAR(marchingCubesPlaneOverRead({0, 0, 1}, h), 1.0, 1e-12);       // axis plane: exact
  const double s = 1 / std::sqrt(2.0), t = 1 / std::sqrt(3.0);
  EXPECT_NEAR(marchingCubesPlaneOverRead({s, s, 0}, h), 1.0, 1e-12);       // 45 degrees: midpoints on the plane
  EXPECT_NEAR(marchingCubesPlaneOverRead({t, t, t}, h), 1.0, 1e-12);       // body diagonal: likewise
  const double c30 = std::cos(M_PI / 6), s30 = std::sin(M_PI / 6);
  EXPECT_GT(marchingCubesPlaneOverRead({c30, s30, 0}, h), 1.05);            // 30 degrees: staircase
  // Anisotropic cells: a plane normal to z is still exact; the factor is a property of the plane,
  // so stretching the grid along an axis the plane contains changes nothing.
  EXPECT_NEAR(marchingCubesPlaneOverRead({0, 0, 1}, {0.5, 1, 3}), 1.0, 1e-12);
}

// A plane with normal (cos t, sin t, 0) through the centre of a box twice as wide as high: it
// crosses the two y faces, so the area inside the box is (ny / cos t) * nz. The box faces it
// meets, and the box faces the phases touch, are not surface.
TEST(SurfaceArea, PlanesCuttingABoxWithinTwoPercent) {
  for (double deg : {0.0, 30.0, 45.0}) {
    const int n = 48;
    auto v = makeVolume(2 * n, n, 12, {"pore", "solid"});
    const double t = deg * M_PI / 180;
    for (int z = 0; z < v.nz; ++z)
      for (int y = 0; y < n; ++y)
        for (int x = 0; x < 2 * n; ++x)
          v.phase[v.index(x, y, z)] = (x + 0.5 - n) * std::cos(t) + (y + 0.5 - n / 2.0) * std::sin(t) < 0.137;
    const double truth = n / std::cos(t) * v.nz;
    const auto a = surfaceAreas(v, 1.0, Y, 1);
    EXPECT_NEAR(a.phaseTotalUm2[0], truth, 0.02 * truth) << deg << " degrees";
    EXPECT_NEAR(a.phaseTotalUm2[1], truth, 0.02 * truth) << deg << " degrees";
    EXPECT_NEAR(a.interfaceTotalUm2[0], truth, 0.02 * truth) << deg << " degrees";
  }
}

TEST(SurfaceArea, TiltedPlaneInAnisotropicVoxels) {
  // The same 30-degree plane (in µm) sampled with voxels 0.5 x 1 x 2 µm.
  const double t = M_PI / 6;
  auto v = makeVolume(96, 24, 6, {"pore", "solid"}, {0.5, 1, 2});  // 48 x 24 x 12 µm
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x)
        v.phase[v.index(x, y, z)] = ((x + 0.5) * 0.5 - 24) * std::cos(t) + ((y + 0.5) - 12) * std::sin(t) < 0;
  const double truth = 24 / std::cos(t) * 12;
  const auto a = surfaceAreas(v, 1.0, Y, 1);
  EXPECT_NEAR(a.phaseTotalUm2[1], truth, 0.02 * truth);
}

TEST(SurfaceArea, OneVoxelPlateKeepsBothFaces) {
  // A plate one voxel thick has two faces of the box's cross-section: a smoothing estimator
  // would lose it; marching cubes keeps it exactly.
  auto v = makeVolume(20, 20, 21, {"pore", "solid"});
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 20; ++x) v.phase[v.index(x, y, 10)] = 1;
  const auto a = surfaceAreas(v, 1.0, Z, 1);
  EXPECT_NEAR(a.phaseTotalUm2[1], 2 * 400.0, 1e-6);
}

TEST(SurfaceArea, TwoPhaseSphereInterfaceIsItsSurface) {
  // Three phases: a solid sphere r = 12 in a binder shell to r = 16, in pore. solid|binder is the
  // inner sphere, binder|pore the outer one, solid|pore none.
  const int n = 44;
  auto v = makeVolume(n, n, n, {"pore", "solid", "binder"});
  for (int z = 0; z < n; ++z)
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x) {
        const double dx = x + 0.5 - n / 2.0, dy = y + 0.5 - n / 2.0, dz = z + 0.5 - n / 2.0, d2 = dx * dx + dy * dy + dz * dz;
        v.phase[v.index(x, y, z)] = d2 <= 144 ? 1 : d2 <= 256 ? 2 : 0;
      }
  const auto a = surfaceAreas(v, 1.0, X, 4);
  const double inner = 4 * M_PI * 144, outer = 4 * M_PI * 256;
  ASSERT_EQ(a.pairs[0], std::make_pair(0, 1));
  EXPECT_NEAR(a.interfaceTotalUm2[0], 0.0, 0.005 * inner);     // pore|solid
  EXPECT_NEAR(a.interfaceTotalUm2[1], outer, 0.02 * outer);    // pore|binder
  EXPECT_NEAR(a.interfaceTotalUm2[2], inner, 0.02 * inner);    // solid|binder
  EXPECT_NEAR(a.phaseTotalUm2[2], inner + outer, 0.02 * (inner + outer));
  // The (slab, slice) cells add up to the totals.
  for (int k = 0; k < 3; ++k) {
    double sum = 0;
    for (const auto& slab : a.interfacePerSlabSlice)
      for (const auto& slice : slab) sum += slice[k];
    EXPECT_NEAR(sum, a.interfaceTotalUm2[k], 1e-9 * outer);
  }
}

TEST(SurfaceArea, ThreePhaseLaminateInterfacesAndSlabs) {
  // Three slabs along x: 0 | 1 | 2. Interfaces 0|1 and 1|2 are planes, 0|2 does not exist.
  auto v = makeVolume(30, 20, 20, {"a", "b", "c"}, {0.5, 0.5, 0.5});
  for (int z = 0; z < 20; ++z)
    for (int y = 0; y < 20; ++y)
      for (int x = 0; x < 30; ++x) v.phase[v.index(x, y, z)] = std::uint8_t(x / 10);
  const auto a = surfaceAreas(v, 0.5, X, 3);
  const double plane = 10.0 * 10.0;  // µm^2
  EXPECT_NEAR(a.interfaceTotalUm2[0], plane, 1e-9);  // a|b
  EXPECT_NEAR(a.interfaceTotalUm2[1], 0.0, 1e-9);    // a|c
  EXPECT_NEAR(a.interfaceTotalUm2[2], plane, 1e-9);  // b|c
  EXPECT_NEAR(a.phaseTotalUm2[1], 2 * plane, 1e-9);
  // The a|b plane lies between voxels 9 and 10: half in slab 0, half in slab 1; none in slab 2.
  double bySlab[3] = {0, 0, 0};
  for (int s = 0; s < 3; ++s)
    for (int z = 0; z < 20; ++z) bySlab[s] += a.interfacePerSlabSlice[s][z][0];
  EXPECT_NEAR(bySlab[0], plane / 2, 1e-9);
  EXPECT_NEAR(bySlab[1], plane / 2, 1e-9);
  EXPECT_NEAR(bySlab[2], 0.0, 1e-9);
}

}  // namespace
}  // namespace fibseg::measure
