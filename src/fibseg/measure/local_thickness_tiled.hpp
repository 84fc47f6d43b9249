#pragma once
// Local thickness of one phase of a volume larger than memory, in tiles along x, y and z, equal
// voxel for voxel to localThickness on the whole volume (sizes.hpp). A voxel's value is the
// largest ball covering it, and a ball reaching a voxel is centred within R of it, R the largest
// inscribed radius; a centre's ball (its distance, and the ridge test against its 26 neighbours)
// is exact when every voxel within R of it is seen. So a tile needs balls centred within
// ceil(R / h_a) voxels of it along each axis a, and those centres' distances, i.e. a halo of
// 2 ceil(R / h_a) + 1 voxels. Two passes over tiles:
// 1. R: each tile's largest distance to the outside, with a halo of H µm grown (doubled) until
//    that distance is at most H: the nearest outside voxel of every voxel of the tile then lies
//    within H along each axis, in the tile with its halo, so the distance the tile sees is the
//    true one. R is the largest over the tiles.
// 2. Each tile with its halo of 2 ceil(R / h_a) + 1: its own voxels' thickness, into a histogram.
// Tiles are cut from a bit mask of the phase (a bit per voxel of the slices a z-range of tiles
// needs, read from the source a few slices at a time), so the labels are read once per phase.
// Memory: the mask, plus one tile's work (22 bytes per voxel of tile and halo), within a budget.
#include <array>
#include <cstddef>
#include <functional>
#include <vector>

#include "fibseg/measure/label_source.hpp"
#include "fibseg/measure/sizes.hpp"

namespace fibseg::measure {

/// A tile's work per voxel of tile and halo, an upper bound: the mask (1), distances then thickness (4), the ridge
/// flags (1) and the centres by column (8 at most; 16 before, the bound was kept).
constexpr std::size_t kThicknessBytesPerVoxel = 22;

struct TiledThicknessOptions {
  std::size_t memoryBytes = std::size_t(1) << 30;  // the mask and one tile's work
  std::array<int, 3> tile{0, 0, 0};  // own tile size (x, y, z voxels) forced (tests); 0: the largest that fits
  /// Called with each tile of the second pass (tests): its own voxels (`own`, in the tile's
  /// coordinates; `origin` the tile's first voxel in the volume) and their thickness.
  std::function<void(const std::array<int, 3>& origin, const LabelVolume& tile, const VoxelBox& own,
                     const std::vector<float>& thickness)>
      onTile;
};

struct TiledThickness {
  std::vector<long long> histogram;  // bin b: diameter (b + 1) step, as addThicknessHistogram
  double largestRadiusUm = 0;        // R
  std::array<int, 3> haloVoxels{};   // of the second pass: 2 ceil(R / h_a) + 1 (0 along an axis the tile spans)
  std::array<int, 3> tileVoxels{};   // the own tile size of the second pass
  int tiles = 0;                     // of the second pass
  int radiusTiles = 0;               // tiles of the first pass, as finally cut (halved where a halo outgrew the memory)
};

/// `startHaloUm`: the first pass's first halo (any value gives the same result; close to R saves
/// doublings); `step`: the histogram's bin width.
TiledThickness localThicknessTiled(const LabelSource& source, int phase, double startHaloUm, double step,
                                   const TiledThicknessOptions& options);

}  // namespace fibseg::measure
