// Triple-phase boundaries against TauFactor's test cases (its tests/test_metrics.py: test_tpb_2d,
// test_tpb_3d, test_tpb_3d_corners; its figure is the share of interior voxel edges on the TPB)
// and against straight lines of known length.
#include "fibseg/measure/triple_phase_boundary.hpp"

#include <gtest/gtest.h>

namespace fibseg::measure {
namespace {

// TauFactor's img[i, j, k] is voxel (x = i, y = j, z = k) here; the edge count is the same for
// any order of the axes.
double edgeShare(const TriplePhaseBoundaries& t) {
  return double(t.triples.at(0).edges) / double(t.interiorEdges);
}

TEST(TriplePhaseBoundary, TauFactor2dCaseIsOneQuarter) {
  // img = zeros(3, 3); img[0] = 1; img[:, 0] = 2
  auto v = makeVolume(3, 3, 1, {"a", "b", "c"});
  for (int j = 0; j < 3; ++j) v.phase[v.index(0, j, 0)] = 1;
  for (int i = 0; i < 3; ++i) v.phase[v.index(i, 0, 0)] = 2;
  const auto t = triplePhaseBoundaries(v, -1);
  ASSERT_EQ(t.triples.size(), 1u);
  EXPECT_EQ(t.interiorEdges, 4);
  EXPECT_DOUBLE_EQ(edgeShare(t), 0.25);
  EXPECT_DOUBLE_EQ(t.triples[0].lengthUm, 1.0);  // one edge of one voxel side, along z
}

TEST(TriplePhaseBoundary, TauFactor3dCaseIsOne) {
  // img = zeros(2, 2, 2); img[0,0,0] = img[1,1,1] = 1; img[0,1,1] = img[1,0,0] = 2
  auto v = makeVolume(2, 2, 2, {"a", "b", "c"});
  v.phase[v.index(0, 0, 0)] = 1, v.phase[v.index(1, 1, 1)] = 1;
  v.phase[v.index(0, 1, 1)] = 2, v.phase[v.index(1, 0, 0)] = 2;
  const auto t = triplePhaseBoundaries(v, -1);
  EXPECT_EQ(t.interiorEdges, 6);
  EXPECT_DOUBLE_EQ(edgeShare(t), 1.0);
}

TEST(TriplePhaseBoundary, TauFactor3dCornersIsOneThird) {
  // img = zeros(2, 2, 2); img[0] = 1; img[:, 0] = 2
  auto v = makeVolume(2, 2, 2, {"a", "b", "c"});
  for (int j = 0; j < 2; ++j)
    for (int k = 0; k < 2; ++k) v.phase[v.index(0, j, k)] = 1;
  for (int i = 0; i < 2; ++i)
    for (int k = 0; k < 2; ++k) v.phase[v.index(i, 0, k)] = 2;
  const auto t = triplePhaseBoundaries(v, -1);
  EXPECT_DOUBLE_EQ(edgeShare(t), 1.0 / 3.0);
}

// Three phases meeting along a straight line parallel to z: a (x < 5, y < 5), b (x < 5, y >= 5),
// c (x >= 5). Anisotropic voxels: the line's length is nz * dz.
LabelVolume threePhaseLine() {
  auto v = makeVolume(10, 10, 8, {"a", "b", "c"}, {0.5, 1.0, 2.0});
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) v.phase[v.index(x, y, z)] = x >= 5 ? 2 : y >= 5 ? 1 : 0;
  return v;
}

TEST(TriplePhaseBoundary, StraightLineHasItsLength) {
  const auto v = threePhaseLine();
  const auto t = triplePhaseBoundaries(v, Z);
  ASSERT_EQ(t.triples.size(), 1u);
  EXPECT_EQ(t.triples[0].edges, 8);
  EXPECT_DOUBLE_EQ(t.triples[0].lengthUm, 16.0);  // 8 voxels of 2 µm
  EXPECT_DOUBLE_EQ(t.volumeUm3, 10 * 0.5 * 10 * 1.0 * 8 * 2.0);
  // Every phase spans z: the whole line is active along z.
  EXPECT_DOUBLE_EQ(t.triples[0].activeLengthUm, 16.0);
  // Along x, a and b touch x = 0 only: no active line.
  EXPECT_DOUBLE_EQ(triplePhaseBoundaries(v, X).triples[0].activeLengthUm, 0.0);
  EXPECT_DOUBLE_EQ(triplePhaseBoundaries(v, -1).triples[0].activeLengthUm, 0.0);  // not computed
}

TEST(TriplePhaseBoundary, FourPhasesMeetingOnALineCountForEveryTriple) {
  // Four quadrants around the line x = y = 5 along z: each of the four triples has the line.
  auto v = makeVolume(10, 10, 6, {"a", "b", "c", "d"});
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) v.phase[v.index(x, y, z)] = (x >= 5) * 2 + (y >= 5);
  const auto t = triplePhaseBoundaries(v, -1);
  ASSERT_EQ(t.triples.size(), 4u);
  for (const auto& triple : t.triples) EXPECT_DOUBLE_EQ(triple.lengthUm, 6.0);
}

TEST(TriplePhaseBoundary, TwoPhasesHaveNone) {
  auto v = makeVolume(6, 6, 6, {"a", "b", "c"});
  for (int z = 0; z < 3; ++z)
    for (int y = 0; y < 6; ++y)
      for (int x = 0; x < 6; ++x) v.phase[v.index(x, y, z)] = 1;
  EXPECT_EQ(triplePhaseBoundaries(v, Z).triples.at(0).edges, 0);
}

}  // namespace
}  // namespace fibseg::measure
