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

/// Squared Euclidean distance (µm^2) from each voxel of the mask to the nearest voxel not in it.
std::vector<float> squaredDistanceToOutside(const LabelVolume& volume, const std::vector<std::uint8_t>& inside);

}  // namespace fibseg::measure
