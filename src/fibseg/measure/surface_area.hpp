#pragma once
// Surface and interface areas by the gradient (coarea) method: each phase's indicator is smoothed
// by a Gaussian of `smoothingUm` (reflecting the volume's faces, so they are not surfaces) and the
// area is the integral of |grad f| over the volume. For a level set the coarea formula makes this
// exact; smoothing removes the voxel staircase, which face counting sums as if it were real
// (about 50 % too high on spheres). The bias left is about +sigma^2/r^2 on a sphere of radius r.
// The interface a|b is (A_a + A_b - A_(a u b)) / 2, with A_(a u b) from f_a + f_b.
#include <vector>

#include "fibseg/measure/volume.hpp"

namespace fibseg::measure {

struct AreaSums {
  std::vector<std::pair<int, int>> pairs;             // interfaces (a < b)
  std::vector<double> phaseTotalUm2;                  // [phase]
  std::vector<double> interfaceTotalUm2;              // [pair]
  // [slab][z][phase] and [slab][z][pair], µm^2 inside each (slab, slice) cell
  std::vector<std::vector<std::vector<double>>> phasePerSlabSlice;
  std::vector<std::vector<std::vector<double>>> interfacePerSlabSlice;
};

/// Bytes the area estimate needs on top of the volume (one float volume per phase + one).
std::size_t surfaceAreaMemoryBytes(const LabelVolume& volume);

AreaSums surfaceAreas(const LabelVolume& volume, double smoothingUm, int slabAxis, int slabs);

}  // namespace fibseg::measure
