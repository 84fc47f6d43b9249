#pragma once
// Face connectivity of each phase: voxels are joined across shared faces (6-connectivity, as
// TauFactor and the diffusion solver see them). Along each axis, a cluster touching both faces
// normal to it is percolating, one face only is a dead end, no face is isolated.
#include <array>
#include <vector>

#include "fibseg/measure/volume.hpp"

namespace fibseg::measure {

struct PhaseConnectivity {
  long long voxels = 0;
  // Fractions of the phase's voxels, per axis x, y, z (0 when the phase is absent).
  std::array<double, 3> percolating{}, deadEnd{}, isolated{};
  double connectedToAllFaces = 0;    // clusters touching all six faces ("through the volume")
};

std::vector<PhaseConnectivity> connectivity(const LabelVolume& volume);

/// Voxels of `phase` in clusters touching both faces normal to `axis` (the solver's domain).
std::vector<std::uint8_t> percolatingMask(const LabelVolume& volume, int phase, int axis);

}  // namespace fibseg::measure
