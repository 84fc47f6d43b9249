#pragma once
// Which tortuosity solves a measurement runs, decided before any of them starts:
// - what was asked (`--tortuosity pore:z,se`, measure.tortuosity_phases / _axes; default every
//   phase along every axis);
// - of that, by default, only where the volume is long enough to be representative: it must span
//   at least `minChords` of the phase's mean chord lengths along every axis. Why every axis: tau
//   along x is a property of the 3D network; a volume a few features thin along z has lost the
//   paths around obstacles that go through z, and its "tau_x" is that of a 2D section (far
//   higher: the raw Helios slices, 3 thick, gave 213). Why the mean chord: it is the size of the
//   phase's features along that axis, so L / chord counts features along it. A solve asked for
//   by name (--tortuosity PHASE[:AXES], or the parameters set in a file) is run regardless.
// Each (phase, axis) not solved carries a reason for metrics.json and the PyBaMM file.
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "fibseg/measure/volume.hpp"

namespace fibseg::measure {

/// What was asked: (phase name, axes) pairs; the name "*" stands for every phase. Empty = none.
struct TortuositySelection {
  std::vector<std::pair<std::string, std::array<bool, 3>>> entries{{"*", {true, true, true}}};
  bool named = false;  // given explicitly by the user: solve even where not representative
  std::string origin = "default";  // where it came from, for the reasons ("--tortuosity", "measure.tortuosity_phases")
  bool asks(const std::string& phase, int axis) const;
};

/// "pore:z,se:xy,cam" (axes: any of x, y, z; none = all three), "all", or "none" (nothing).
/// Throws fibseg::Error naming `what` (the option or parameter) on a malformed entry.
TortuositySelection parseTortuositySelection(const std::string& text, const std::string& what);
/// Phases ("all" or names, comma separated) and axes ("x,y,z", "xz", ...) as in the parameter file.
TortuositySelection tortuositySelectionFrom(const std::string& phases, const std::string& axes, const std::string& what);

struct PlannedSolve {
  bool solve = false;
  std::string reason;  // why not, when not
};

/// What one (phase, axis) solve covers, for the time estimate: by default the whole volume; by
/// REV the cubes (and the whole volume too when it is solved beside them).
struct SolveCost {
  double voxels = 0;  // voxels solved per (phase, axis); 0: the whole volume's
  std::string how;    // e.g. "by REV: 5 cubes of 64^3 and 5 of 128^3 each" (empty: the whole volume)
};

struct TortuosityPlan {
  std::vector<std::array<PlannedSolve, 3>> phases;  // [phase][axis]
  int solves = 0;
  double estimatedSeconds = 0;
  std::string summary;  // one line: what will be solved, what skipped, how long roughly
};

/// `meanChordVoxels[p][a]`: the phase's mean chord along each axis in voxels (0 = absent);
/// `phaseVoxels[p]`: its voxel count. `minChords` <= 0 turns the representativeness test off.
TortuosityPlan planTortuosity(const LabelVolume& volume, const TortuositySelection& selection, double minChords,
                              const std::vector<std::array<double, 3>>& meanChordVoxels,
                              const std::vector<long long>& phaseVoxels, const SolveCost& cost = {});

/// Why a phase's local thickness would not mean something here: the volume spans fewer than
/// `minChords` of its mean chords along some axis (its features are cut by the faces, the balls
/// are those of sections); empty when it does, or when minChords <= 0.
std::string sizesNotRepresentative(const LabelVolume& shape, const std::array<double, 3>& meanChordVoxels,
                                   double minChords);

/// Seconds one solve of `voxels` roughly takes on this kind of machine (for the console only).
double estimatedSolveSeconds(std::size_t voxels);

}  // namespace fibseg::measure
