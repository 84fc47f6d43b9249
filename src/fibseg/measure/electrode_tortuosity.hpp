#pragma once
// Electrode tortuosity factor tau_e (Nguyen et al., npj Comput. Mater. 6, 123 (2020); TauFactor's
// ElectrodeSolver): the tortuosity an electrode's electrolyte shows when ions are taken up by the
// active material along the way, not only passed through. The electrolyte clusters connected to
// the separator face (coordinate 0 along the axis) conduct; each face they share with the active
// material is a reacting surface, a conductance k0 * area to potential 0; the far face is closed.
// k0 makes the homogeneous electrode's penetration depth its thickness (k0 = eps / (a L^2)).
// The steady field is averaged slice by slice into a transmission line (a resistance per slice
// face from the local tortuosity, a capacitance per slice from the reacting area), whose input
// impedance at frequency eps / (8 a L^2) is compared with that of the homogeneous line of the same
// mean porosity and area: tau_e = Re Z / Re Z_homogeneous (TauFactor's definition, so that its
// cases give its numbers).
#include <optional>
#include <string>

#include "fibseg/measure/volume.hpp"

namespace fibseg::measure {

// The default relative residual of the solve: tau_e moves by less than 1e-5 below it on the 128^3 crop of
// TauFactor's electrode (2.18468 at 1e-6 and at 1e-9; bench/README.md, Electrode tortuosity).
inline constexpr double kElectrodeTortuosityTolerance = 1e-6;

struct ElectrodeTortuosity {
  std::optional<double> tauE;       // null when no electrolyte reaches from the separator face or nothing reacts
  std::string reason;               // why tauE is null
  double volumeFraction = 0;        // of the electrolyte, whole volume
  double connectedFraction = 0;     // of the volume, electrolyte connected to the separator face
  double reactiveAreaPerVolumeUm = 0;  // reacting surface of the connected electrolyte per volume (µm^-1)
  int iterations = 0;
  double relativeResidual = 0;      // of the linear solve
  bool converged = false;
};

/// Along `axis`, the separator at coordinate 0; the linear solve stops at relative residual
/// `tolerance`. Throws fibseg::Error when electrolyte == activeMaterial or either is not a phase
/// of the volume.
ElectrodeTortuosity electrodeTortuosity(const LabelVolume& volume, int electrolyte, int activeMaterial, int axis,
                                        double tolerance = kElectrodeTortuosityTolerance);

}  // namespace fibseg::measure
