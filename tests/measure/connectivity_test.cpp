// Connectivity on hand-built shapes and on TauFactor's electrode (published fractions).
#include "fibseg/measure/connectivity.hpp"

#include <gtest/gtest.h>

#include "fibseg/measure/label_file.hpp"
#include "real_data.hpp"

namespace fibseg::measure {
namespace {

TEST(Connectivity, ThroughDeadEndAndIsolatedFractions) {
  auto v = makeVolume(10, 5, 5, {"pore", "solid"});
  for (auto& p : v.phase) p = 1;
  for (int x = 0; x < 10; ++x) v.phase[v.index(x, 1, 1)] = 0;  // 10 voxels through x
  for (int x = 0; x < 5; ++x) v.phase[v.index(x, 3, 3)] = 0;   // 5 voxels from x = 0: dead end
  v.phase[v.index(7, 3, 3)] = 0;                               // 1 isolated voxel (inside)
  const auto c = connectivity(v)[0];
  EXPECT_EQ(c.voxels, 16);
  EXPECT_DOUBLE_EQ(c.percolating[X], 10.0 / 16);
  EXPECT_DOUBLE_EQ(c.deadEnd[X], 5.0 / 16);
  EXPECT_DOUBLE_EQ(c.isolated[X], 1.0 / 16);
}

// A U whose arms are joined only at its top (z = 40), on 48 planes: the labelling joins slabs of
// z planes in parallel and then across their boundaries, so each arm is one cluster only once the
// slabs are merged, and the short arm (z = 0 .. 40) percolates along z only through the bridge.
TEST(Connectivity, ArmsJoinedFarAwayAcrossManyPlanesAreOneCluster) {
  auto v = makeVolume(5, 1, 48, {"pore", "solid"});
  for (auto& p : v.phase) p = 1;
  for (int z = 0; z < 48; ++z) v.phase[v.index(0, 0, z)] = 0;   // long arm, both z faces
  for (int z = 0; z <= 40; ++z) v.phase[v.index(2, 0, z)] = 0;  // short arm, z = 0 face only
  v.phase[v.index(1, 0, 40)] = 0;                               // the bridge
  for (int z = 5; z <= 30; ++z) v.phase[v.index(4, 0, z)] = 0;  // touches no z face
  const auto c = connectivity(v)[0];
  EXPECT_EQ(c.voxels, 48 + 41 + 1 + 26);
  EXPECT_DOUBLE_EQ(c.percolating[Z], 90.0 / 116);
  EXPECT_DOUBLE_EQ(c.isolated[Z], 26.0 / 116);
  const auto mask = percolatingMask(v, 0, Z);
  EXPECT_EQ(mask[v.index(2, 0, 0)], 1);
  EXPECT_EQ(mask[v.index(4, 0, 20)], 0);
}

TEST(Connectivity, TauFactorElectrodePublishedFractions) {
  FIBSEG_REQUIRE_REAL_DATA(folder, "taufactor-electrode");
  const auto v = readLabelVolume(folder / "electrode.tiff", {{"pore", 0}, {"nmc", 85}, {"cbd", 170}}, std::nullopt);
  const auto c = connectivity(v);
  for (int p = 0; p < 3; ++p)
    std::printf("%s: through x %.4f y %.4f z %.4f, all faces %.4f\n", v.phaseNames[p].c_str(), c[p].percolating[X],
                c[p].percolating[Y], c[p].percolating[Z], c[p].connectedToAllFaces);
  EXPECT_NEAR(c[0].percolating[Z], 0.9989, 5e-4);
  EXPECT_NEAR(c[1].percolating[Z], 0.9611, 5e-4);
  EXPECT_NEAR(c[2].percolating[Z], 0.9740, 5e-4);
}

}  // namespace
}  // namespace fibseg::measure
