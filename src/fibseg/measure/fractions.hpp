#pragma once
// Volume fractions: of the whole volume, of each slice (page, z) and of each (slab, slice) cell,
// where slabs cut the volume into equal, non-overlapping bands along one axis (the thickness).
#include <vector>

#include "fibseg/measure/volume.hpp"

namespace fibseg::measure {

/// Slab of coordinate `c` on an axis of `n` voxels cut into `slabs` bands (floor(c*slabs/n)).
inline int slabOf(int c, int n, int slabs) { return int((long long)c * slabs / n); }

struct PhaseCounts {
  std::vector<long long> total;                   // [phase]
  std::vector<std::vector<long long>> perSlice;   // [z][phase]
  // [slab][z][phase]: voxels of each phase in slab s of slice z
  std::vector<std::vector<std::vector<long long>>> perSlabSlice;
};

PhaseCounts countPhases(const LabelVolume& volume, int slabAxis, int slabs);

/// total[p] / voxels.
std::vector<double> volumeFractions(const PhaseCounts& counts, std::size_t voxels);

}  // namespace fibseg::measure
