#pragma once
// Effective diffusivity (or conductivity) of a volume whose phases each conduct, with their own
// relative diffusivity: a carbon-binder domain with nanopores (cbd = 0.1), a solid electrolyte of
// another conductivity. TauFactor's MultiPhaseSolver. Finite volumes on the voxel grid: the
// conductance of the face between voxels of diffusivities D1 and D2 is the harmonic mean
// 2 D1 D2 / (D1 + D2) times area / length (two half voxels in series), concentrations 1 and 0
// half a voxel outside the two faces normal to the axis, no flux elsewhere. The tortuosity
// factor is TauFactor's: tau = D_mean / D_eff with D_mean = sum over phases of eps_p D_p.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fibseg/measure/volume.hpp"

namespace fibseg::measure {

/// "pore=1, cbd=0.1" -> (name, diffusivity) pairs; throws fibseg::Error naming `what` (the
/// parameter) on a malformed entry, a repeated name, or a negative or non-finite value.
std::vector<std::pair<std::string, double>> parseDiffusivities(const std::string& text, const std::string& what);

struct MultiPhaseDiffusion {
  std::optional<double> relativeDiffusivity;  // D_eff / D (D = 1: the scale of the given values)
  std::optional<double> tau;                  // D_mean / D_eff; null when nothing conducts across
  double meanDiffusivity = 0;                 // sum of eps_p D_p over the whole volume
  std::string reason;                         // why tau is null
  int iterations = 0;
  double fluxSpread = 0;  // (max - min) / mean of the flux through the planes normal to the axis
};

/// diffusivity[p] for every phase p of the volume (0: does not conduct). Throws fibseg::Error
/// when the sizes differ or a value is negative.
MultiPhaseDiffusion multiPhaseDiffusion(const LabelVolume& volume, const std::vector<double>& diffusivity, int axis);

}  // namespace fibseg::measure
