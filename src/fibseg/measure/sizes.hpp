#pragma once
// Size distributions of one phase. Local thickness (Hildebrand & Rüegsegger 1997): a voxel's
// value is the diameter of the largest sphere inside the phase that covers it; computed exactly
// for balls centred on voxels, each of radius its centre's distance to the other phases (PoreSpy's
// and BoneJ's convention), painting the balls on the distance ridge. Mean chord length: the mean
// length of the runs of the phase along each axis lines.
#include <array>
#include <vector>

#include "fibseg/measure/volume.hpp"

namespace fibseg::measure {

struct SizeDistribution {
  std::vector<double> diameterUm;   // histogram bin: local thickness value (2 r)
  std::vector<long long> voxels;    // voxels with that local thickness
  double d10 = 0, d50 = 0, d90 = 0; // µm, by volume
  std::array<double, 3> meanChordUm{};  // along x, y, z (0 when the phase is absent)
};

/// Histogram bins: one smallest voxel side wide.
SizeDistribution sizeDistribution(const LabelVolume& volume, int phase, bool withLocalThickness);

/// Each voxel's local thickness (µm, the diameter 2 r of the largest ball covering it); 0 outside the phase.
std::vector<float> localThickness(const LabelVolume& volume, int phase);

// Block by block (the streamed metrics): a block of slices with a halo of H slices on each side
// gives the exact local thickness on its own slices when H >= 2 ceil(R / h_z) + 1, R the largest
// inscribed radius of the phase in the whole volume, and balls are centred only within
// ceil(R / h_z) slices of the own ones: every ball reaching an own slice is centred there, and
// that centre's distance (at most R) and ridge test see only voxels within R + 1 slice of it. R is found first, block by block: a block's own largest distance
// is exact once it is no more than its halo (h_z H), as the nearest outside voxel then lies
// within the block; the halo is doubled until it is.
double longestSideUm(const LabelVolume& volume);
/// Local thickness of `phase` in `block`, from balls centred on slices centreFrom .. centreTo - 1
/// (those within R of the block's own slices: further centres' distances are not exact there);
/// `longestUm`: the whole volume's longestSideUm.
std::vector<float> localThicknessInBlock(const LabelVolume& block, int phase, double longestUm, int centreFrom,
                                        int centreTo);
/// The largest distance to the outside (µm) of the phase's voxels in slices zFrom .. zTo - 1 of the block, as the block sees it.
double largestDistanceInBlock(const LabelVolume& block, int phase, int zFrom, int zTo);

// Tiles in x, y and z (local_thickness_tiled.hpp): the same with a halo on every axis.
/// Voxels from[a] <= c[a] < to[a] along each axis.
struct VoxelBox {
  std::array<int, 3> from{}, to{};
};
/// Local thickness of the voxels whose `mask.phase` is 1 (the others 0), from balls centred in `centres`.
std::vector<float> localThicknessInTile(const LabelVolume& mask, double longestUm, const VoxelBox& centres);
/// The largest distance to the outside (µm) of the `inside` voxels in `own`, as a tile of `shape` sees it.
double largestDistanceInTile(const std::vector<std::uint8_t>& inside, const LabelVolume& shape, const VoxelBox& own);
/// Adds the thickness histogram of the `inside` voxels in `own`.
void addThicknessHistogram(const std::vector<float>& thickness, const std::vector<std::uint8_t>& inside,
                           const LabelVolume& shape, const VoxelBox& own, double step, std::vector<long long>& hist);
/// Adds the thickness histogram of the phase's voxels in slices zFrom .. zTo - 1 of the block (bin b: diameter (b + 1) step).
void addThicknessHistogram(const std::vector<float>& thickness, const LabelVolume& block, int phase, int zFrom, int zTo,
                           double step, std::vector<long long>& hist);
/// Histogram, d10/d50/d90 from the bins; `count` the phase's voxels.
void finishThickness(SizeDistribution& s, const std::vector<long long>& hist, long long count, double step);

/// Squared Euclidean distance (µm^2) from each voxel of the mask to the nearest voxel not in it.
std::vector<float> squaredDistanceToOutside(const LabelVolume& volume, const std::vector<std::uint8_t>& inside);

}  // namespace fibseg::measure
