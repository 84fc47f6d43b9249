// REV tortuosity: cube edges, reproducible positions, and analytic values (straight channels give
// tau = 1 in every cube; a laminate across the axis gives none).
#include "fibseg/measure/tortuosity_rev.hpp"

#include <gtest/gtest.h>

namespace fibseg::measure {
namespace {

TEST(TortuosityRev, EdgesDoubleUpToHalfTheSmallestSide) {
  auto v = makeVolume(600, 520, 500, {"a"});
  EXPECT_EQ(revEdges(v, 64, 0), (std::vector<int>{64, 128}));
  v.nz = 512;
  EXPECT_EQ(revEdges(v, 64, 0), (std::vector<int>{64, 128, 256}));
  EXPECT_EQ(revEdges(v, 64, 200), (std::vector<int>{64, 128}));
  v.nx = v.ny = v.nz = 40;
  EXPECT_EQ(revEdges(v, 64, 0), (std::vector<int>{20}));
  EXPECT_EQ(revEdges(v, 5, 0), (std::vector<int>{5, 10, 20}));
}

TEST(TortuosityRev, StraightChannelsGiveOneInEveryCubeReproducibly) {
  // Pore columns along z (every third x and y), anisotropic voxels.
  auto v = makeVolume(48, 44, 40, {"pore", "solid"}, {0.5, 0.5, 1.2});
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) v.phase[v.index(x, y, z)] = (x % 3 == 0 && y % 3 == 0) ? 0 : 1;
  const VolumeLabelSource source(v);
  RevOptions o;
  o.smallestEdge = 5;
  o.positions = 4;
  o.seed = 9;
  const auto r = tortuosityRev(source, 0, Z, o);
  ASSERT_EQ(r.edges.size(), 3u);  // 5, 10, 20
  for (const auto& e : r.edges) {
    ASSERT_EQ(e.origins.size(), 4u);
    for (const auto& at : e.origins)
      for (int a = 0; a < 3; ++a) {
        EXPECT_GE(at[a], 0);
        EXPECT_LE(at[a] + e.edge, v.size(a));
      }
    ASSERT_TRUE(e.mean);
    EXPECT_NEAR(*e.mean, 1.0, 1e-4);
    EXPECT_NEAR(*e.std, 0.0, 1e-4);
  }
  ASSERT_TRUE(r.tau);
  EXPECT_NEAR(*r.tau, 1.0, 1e-4);
  // The same seed draws the same cubes; another seed others.
  const auto again = tortuosityRev(source, 0, Z, o);
  for (std::size_t k = 0; k < r.edges.size(); ++k) EXPECT_EQ(again.edges[k].origins, r.edges[k].origins);
  o.seed = 10;
  EXPECT_NE(tortuosityRev(source, 0, Z, o).edges[0].origins, r.edges[0].origins);
  // Across the columns nothing percolates: null with the reason.
  const auto across = tortuosityRev(source, 0, X, o);
  EXPECT_FALSE(across.tau);
  EXPECT_NE(across.reason.find("none of the largest"), std::string::npos);
}

}  // namespace
}  // namespace fibseg::measure
