#pragma once
// Size distributions of one phase. Local thickness (Hildebrand & Rüegsegger 1997): a voxel's
// value is the diameter of the largest sphere inside the phase that covers it; computed as in
// PoreSpy, for each radius r the voxels within r of a centre whose distance to the other phases is
// at least r. Mean chord length: the mean length of the runs of the phase along each axis lines.
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

/// Radii step: the smallest voxel side.
SizeDistribution sizeDistribution(const LabelVolume& volume, int phase, bool localThickness);

/// Squared Euclidean distance (µm^2) from each voxel of the mask to the nearest voxel not in it.
std::vector<float> squaredDistanceToOutside(const LabelVolume& volume, const std::vector<std::uint8_t>& inside);

}  // namespace fibseg::measure
