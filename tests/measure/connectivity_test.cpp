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
