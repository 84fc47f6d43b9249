#pragma once
// Tortuosity factor of one phase along one axis, from steady-state diffusion through the phase:
// concentration 1 and 0 fixed half a voxel outside the two faces normal to the axis (so a straight
// channel gives tau = 1 exactly), no flux through the other faces or into other phases. Finite
// volumes on the voxel grid (conductance D*area/length per face, anisotropic voxels allowed).
// tau = eps * D / D_eff with eps the phase's whole volume fraction (TauFactor's convention).
#include <optional>
#include <string>

#include "fibseg/measure/volume.hpp"

namespace fibseg::measure {

struct TortuosityParams {
  double fluxTolerance = 1e-3;  // (max - min) / mean of the flux through every plane normal to the axis
  int maxIterations = 5000;     // conjugate-gradient iterations before giving up
};

struct TortuosityResult {
  std::optional<double> tau;               // null when the phase does not percolate (see reason)
  std::optional<double> tauPercolating;    // eps counted over the percolating clusters only
  std::optional<double> relativeDiffusivity;  // D_eff / D
  std::optional<double> macmullin;         // tau / eps = D / D_eff
  std::string reason;                      // why tau is null
  double volumeFraction = 0, percolatingFraction = 0;  // of the whole volume
  int iterations = 0;
  double fluxSpread = 0;                   // reached (max - min) / mean over the planes
};

/// Bytes the solver needs at its peak for this volume: about 26 per voxel (five float vectors of
/// conjugate gradients, one flag byte, the coarse grids), whatever the phase fraction.
std::size_t tortuosityMemoryBytes(const LabelVolume& volume);

TortuosityResult tortuosity(const LabelVolume& volume, int phase, int axis, const TortuosityParams& params);

}  // namespace fibseg::measure
