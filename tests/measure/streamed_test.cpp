// Streamed metrics (blocks of slices) against the whole-volume ones: identical counts,
// connectivity, chords and local thickness, areas within 1e-9 relative, on random spheres of
// three phases with anisotropic voxels and on TauFactor's electrode, with blocks of 8 and 13, and
// the local thickness in forced small tiles along x, y and z.
#include "fibseg/measure/streamed.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "fibseg/core/error.hpp"
#include "fibseg/measure/connectivity.hpp"
#include "fibseg/measure/fractions.hpp"
#include "fibseg/measure/label_file.hpp"
#include "fibseg/measure/metrics.hpp"
#include "fibseg/measure/triple_phase_boundary.hpp"
#include "real_data.hpp"

namespace fibseg::measure {
namespace {

// Overlapping balls of phases 1 and 2 (radii 1.5-6 voxels, the later drawn over the earlier) in
// phase 0, voxels 0.5 x 0.5 x 0.8 µm.
LabelVolume randomSpheres(int nx, int ny, int nz, unsigned seed) {
  auto v = makeVolume(nx, ny, nz, {"pore", "se", "cam"}, {0.5, 0.5, 0.8});
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> ux(0, nx), uy(0, ny), uz(0, nz), ur(1.5, 6.0);
  for (int k = 0; k < 140; ++k) {
    const double cx = ux(rng), cy = uy(rng), cz = uz(rng), r = ur(rng);
    const std::uint8_t p = std::uint8_t(1 + k % 2);
    for (int z = std::max(0, int(cz - r)); z <= std::min(nz - 1, int(cz + r)); ++z)
      for (int y = std::max(0, int(cy - r)); y <= std::min(ny - 1, int(cy + r)); ++y)
        for (int x = std::max(0, int(cx - r)); x <= std::min(nx - 1, int(cx + r)); ++x)
          if ((x - cx) * (x - cx) + (y - cy) * (y - cy) + (z - cz) * (z - cz) <= r * r) v.phase[v.index(x, y, z)] = p;
  }
  return v;
}

void expectSameAsWhole(const LabelVolume& v, int blockSlices, bool sizes, int slabAxis,
                       const TiledThicknessOptions& tiles = {}) {
  SCOPED_TRACE("block of " + std::to_string(blockSlices) + " slices, slab axis " + axisName(slabAxis));
  const int slabs = 5;
  MetricsOptions o;
  const double smoothing = areaSmoothingUm(v, o);
  const auto parts =
      measureStreamed(VolumeLabelSource(v), slabAxis, slabs, smoothing, sizes, blockSlices, 0, tiles, true);
  EXPECT_EQ(parts.blocks, (v.nz + blockSlices - 1) / blockSlices);
  // Triple-phase boundary edges: the same integers, so the same lengths.
  const auto tpb = triplePhaseBoundaries(v, -1);
  ASSERT_TRUE(parts.triplePhaseBoundaries);
  EXPECT_EQ(parts.triplePhaseBoundaries->interiorEdges, tpb.interiorEdges);
  ASSERT_EQ(parts.triplePhaseBoundaries->triples.size(), tpb.triples.size());
  for (std::size_t k = 0; k < tpb.triples.size(); ++k) {
    EXPECT_EQ(parts.triplePhaseBoundaries->triples[k].phases, tpb.triples[k].phases);
    EXPECT_EQ(parts.triplePhaseBoundaries->triples[k].edges, tpb.triples[k].edges);
    EXPECT_EQ(parts.triplePhaseBoundaries->triples[k].lengthUm, tpb.triples[k].lengthUm);
  }
  if (v.phases() >= 3) {
    EXPECT_GT(tpb.triples[0].edges, 0);
  }
  const auto counts = countPhases(v, slabAxis, slabs);
  EXPECT_EQ(parts.counts.total, counts.total);
  EXPECT_EQ(parts.counts.perSlice, counts.perSlice);
  EXPECT_EQ(parts.counts.perSlabSlice, counts.perSlabSlice);
  const auto areas = surfaceAreas(v, smoothing, slabAxis, slabs);
  ASSERT_EQ(parts.areas.phaseTotalUm2.size(), areas.phaseTotalUm2.size());
  for (std::size_t p = 0; p < areas.phaseTotalUm2.size(); ++p)
    EXPECT_NEAR(parts.areas.phaseTotalUm2[p], areas.phaseTotalUm2[p], 1e-9 * areas.phaseTotalUm2[p]);
  for (std::size_t k = 0; k < areas.interfaceTotalUm2.size(); ++k)
    EXPECT_NEAR(parts.areas.interfaceTotalUm2[k], areas.interfaceTotalUm2[k], 1e-9 * std::abs(areas.interfaceTotalUm2[k]));
  for (int s = 0; s < slabs; ++s)
    for (int z = 0; z < v.nz; ++z)
      for (std::size_t p = 0; p < areas.phaseTotalUm2.size(); ++p)
        EXPECT_NEAR(parts.areas.phasePerSlabSlice[s][z][p], areas.phasePerSlabSlice[s][z][p],
                    1e-9 * areas.phaseTotalUm2[p]);
  const auto conn = connectivity(v);
  for (int p = 0; p < v.phases(); ++p) {
    SCOPED_TRACE("phase " + v.phaseNames[p]);
    EXPECT_EQ(parts.connectivity[p].voxels, conn[p].voxels);
    EXPECT_EQ(parts.connectivity[p].percolating, conn[p].percolating);
    EXPECT_EQ(parts.connectivity[p].deadEnd, conn[p].deadEnd);
    EXPECT_EQ(parts.connectivity[p].isolated, conn[p].isolated);
    EXPECT_EQ(parts.connectivity[p].connectedToAllFaces, conn[p].connectedToAllFaces);
    const auto whole = sizeDistribution(v, p, sizes);
    EXPECT_EQ(parts.sizes[p].meanChordUm, whole.meanChordUm);
    if (!sizes) continue;
    EXPECT_EQ(parts.sizes[p].diameterUm, whole.diameterUm);
    EXPECT_EQ(parts.sizes[p].voxels, whole.voxels);
    EXPECT_EQ(parts.sizes[p].d50, whole.d50);
  }
}

TEST(Streamed, RandomSpheresThreePhasesAnisotropicEqualWhole) {
  const auto v = randomSpheres(40, 36, 50, 7);
  for (int block : {8, 13}) expectSameAsWhole(v, block, true, Y);
  expectSameAsWhole(v, 13, false, Z);
  expectSameAsWhole(v, 1, false, X);  // blocks of one slice: every face a block face
}

TEST(Streamed, RandomSpheresInSmallXYTilesEqualWhole) {
  const auto v = randomSpheres(40, 36, 50, 7);
  TiledThicknessOptions tiles;
  tiles.tile = {9, 7, 0};  // x-y tiles narrower than the largest balls, every slice at once
  expectSameAsWhole(v, 13, true, Z, tiles);
}

// The whole volume's local thickness, assembled from the tiles' own voxels, against localThickness.
void expectTilesEqualWhole(const LabelVolume& v, int phase, TiledThicknessOptions tiles, int expectedTiles,
                           int* radiusTiles = nullptr) {
  SCOPED_TRACE("phase " + v.phaseNames[phase] + ", tiles " + std::to_string(tiles.tile[X]) + " x " +
               std::to_string(tiles.tile[Y]) + " x " + std::to_string(tiles.tile[Z]) + ", budget " +
               std::to_string(tiles.memoryBytes) + " bytes");
  const auto whole = localThickness(v, phase);
  std::vector<float> tiled(v.voxels(), -1.0f);
  tiles.onTile = [&](const std::array<int, 3>& origin, const LabelVolume& tile, const VoxelBox& own,
                     const std::vector<float>& t) {
    for (int z = own.from[Z]; z < own.to[Z]; ++z)
      for (int y = own.from[Y]; y < own.to[Y]; ++y)
        for (int x = own.from[X]; x < own.to[X]; ++x) {
          float& out = tiled[v.index(origin[X] + x, origin[Y] + y, origin[Z] + z)];
          ASSERT_EQ(out, -1.0f) << "a voxel in two tiles";
          out = t[tile.index(x, y, z)];
        }
  };
  const double step = *std::min_element(v.voxelUm.begin(), v.voxelUm.end());
  const auto r = localThicknessTiled(VolumeLabelSource(v), phase, 1.0, step, tiles);
  if (expectedTiles > 0) {
    EXPECT_EQ(r.tiles, expectedTiles);
  }
  EXPECT_GT(r.tiles, 1);
  // R is the whole volume's largest distance to the other phases.
  std::vector<std::uint8_t> inside(v.voxels());
  for (std::size_t i = 0; i < inside.size(); ++i) inside[i] = v.phase[i] == phase;
  const auto dt2 = squaredDistanceToOutside(v, inside);
  EXPECT_EQ(r.largestRadiusUm, std::sqrt(double(*std::max_element(dt2.begin(), dt2.end()))));
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) {
        const float t = tiled[v.index(x, y, z)];
        const float expected = v.phase[v.index(x, y, z)] == phase ? whole[v.index(x, y, z)] : 0.0f;
        ASSERT_EQ(t, expected) << x << " " << y << " " << z;
      }
  std::vector<long long> hist;
  addThicknessHistogram(whole, v, phase, 0, v.nz, step, hist);
  EXPECT_EQ(r.histogram, hist);
  if (radiusTiles) *radiusTiles = r.radiusTiles;
}

TEST(Streamed, LocalThicknessVoxelForVoxelInXYZTiles) {
  // Random spheres (radii up to 6 voxels, 0.5 x 0.5 x 0.8 µm voxels): tiles smaller than the
  // balls along every axis, x-y tiles over every slice, and tiles the memory budget chooses.
  const auto v = randomSpheres(40, 36, 30, 5);
  for (int phase = 0; phase < 3; ++phase) {
    TiledThicknessOptions xy;
    xy.tile = {13, 11, 0};
    expectTilesEqualWhole(v, phase, xy, 4 * 4);
  }
  TiledThicknessOptions small;
  small.tile = {10, 9, 8};
  expectTilesEqualWhole(v, 2, small, 4 * 4 * 4);
  TiledThicknessOptions budget;
  budget.memoryBytes = 600 * 1024;  // the whole volume's tile would take 40 x 36 x 30 x 22 = 950 KB
  expectTilesEqualWhole(v, 1, budget, 0);
  // The first pass's tiles halved where a doubled halo no longer fits (a forced second pass).
  TiledThicknessOptions split;
  split.tile = {20, 36, 30};
  split.memoryBytes = 100 * 1024;  // a 20-voxel tile with its first halo takes 24 x 36 x 30 x 5 = 130 KB
  int radiusTiles = 0;
  expectTilesEqualWhole(v, 2, split, 2, &radiusTiles);
  EXPECT_GT(radiusTiles, 2);
}

TEST(Streamed, LocalThicknessTileTooLargeForTheLimitIsRefused) {
  const auto v = randomSpheres(24, 24, 20, 3);
  TiledThicknessOptions o;
  o.memoryBytes = 4096;  // a single voxel with its halo of radius ~6 voxels needs more
  try {
    localThicknessTiled(VolumeLabelSource(v), 1, 1.0, 0.5, o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), testing::HasSubstr("local thickness of se"));
    EXPECT_THAT(e.what(), testing::HasSubstr("raise the limit"));
  }
}

TEST(Streamed, LocalThicknessVoxelForVoxelInBlocks) {
  // A block's own slices, with the halo the streamed run uses, equal the whole volume's values.
  const auto v = randomSpheres(30, 30, 40, 3);
  const auto whole = localThickness(v, 1);
  const auto parts = measureStreamed(VolumeLabelSource(v), Y, 2, 0.5, true, 8);
  ASSERT_GT(parts.thicknessHaloSlices, 1);
  const int halo = parts.thicknessHaloSlices, reach = (halo - 1) / 2;
  for (int z0 = 0; z0 < v.nz; z0 += 8) {
    const int z1 = std::min(v.nz, z0 + 8), from = std::max(0, z0 - halo), to = std::min(v.nz, z1 + halo);
    const auto block = VolumeLabelSource(v).readSlices(from, to);
    const auto t = localThicknessInBlock(block, 1, longestSideUm(v), z0 - reach - from, z1 + reach - from);
    for (int z = z0; z < z1; ++z)
      for (int y = 0; y < v.ny; ++y)
        for (int x = 0; x < v.nx; ++x) ASSERT_EQ(t[block.index(x, y, z - from)], whole[v.index(x, y, z)]) << x << " " << y << " " << z;
  }
}

TEST(Streamed, MetricsJsonEqualsWhole) {
  const auto v = randomSpheres(24, 30, 26, 11);
  MetricsOptions o;
  o.tortuosity = false;
  o.slabs = 3;
  const auto whole = measureMetrics(v, o);
  const auto parts = measureStreamed(VolumeLabelSource(v), o.slabAxis, o.slabs, areaSmoothingUm(v, o), o.sizes, 8,
                                     o.sizesMinChords, {}, o.triplePhaseBoundaries);
  LabelVolume shape = v;  // no voxels: what a streamed measure has (measure_stage.cpp)
  shape.phase.clear();
  const auto streamed = metricsFromParts(shape, parts, o, [](int, int) { return TortuosityResult{}; });
  // The active material's particles need the whole volume: null with the reason in a streamed measure.
  auto phases = whole["phases"];
  phases[o.activeMaterialPhase].erase("particles");
  phases[o.activeMaterialPhase]["particles_null_reason"] = streamed["phases"][o.activeMaterialPhase]["particles_null_reason"];
  EXPECT_EQ(streamed["phases"], phases);
  EXPECT_EQ(streamed["slabs"], whole["slabs"]);
  // Triple-phase boundary lengths identical; the active ones null with their reason.
  ASSERT_TRUE(streamed.contains("triple_phase_boundaries"));
  for (const auto& [name, t] : whole["triple_phase_boundaries"].items()) {
    SCOPED_TRACE(name);
    const auto& s = streamed["triple_phase_boundaries"][name];
    EXPECT_EQ(s["length_per_volume_per_um2"], t["length_per_volume_per_um2"]);
    EXPECT_EQ(s["edge_fraction"], t["edge_fraction"]);
    EXPECT_GT(t["length_per_volume_per_um2"].get<double>(), 0);
    EXPECT_TRUE(s["active_length_per_volume_per_um2"].is_null());
    EXPECT_THAT(s["active_null_reason"].get<std::string>(), testing::HasSubstr("percolate"));
  }
  EXPECT_FALSE(streamed.contains("not_computed"));
  for (const auto& [name, in] : whole["interfaces"].items())
    EXPECT_NEAR(streamed["interfaces"][name]["area_per_volume_per_um"].get<double>(),
                in["area_per_volume_per_um"].get<double>(), 1e-9 * in["area_per_volume_per_um"].get<double>());
}

TEST(Streamed, TauFactorElectrodeEqualsWhole) {
  FIBSEG_REQUIRE_REAL_DATA(folder, "taufactor-electrode");
  const auto v = readLabelVolume(folder / "electrode.tiff", {{"pore", 0}, {"nmc", 85}, {"cbd", 170}}, std::nullopt);
  expectSameAsWhole(v, 13, false, Y);
}

}  // namespace
}  // namespace fibseg::measure
