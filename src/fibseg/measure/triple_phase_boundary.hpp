#pragma once
// Triple-phase boundary (TPB) density: the length of the voxel edges where three phases meet, per
// unit volume (µm^-2). A voxel edge inside the volume is shared by four voxels; it lies on the
// TPB of phases (a, b, c) when those four voxels hold all three of them (TauFactor's
// triple_phase_boundary counts the same edges; its figure is their share of the interior edges).
// An edge is "active" when each of its three phases' voxels there belongs to a cluster that
// percolates along the given axis (ions, electrons and gas or the active material all reach it).
#include <array>
#include <string>
#include <vector>

#include "fibseg/measure/volume.hpp"

namespace fibseg::measure {

struct TriplePhaseBoundary {
  std::array<int, 3> phases{};  // phase indices, ascending
  long long edges = 0;          // interior voxel edges whose four voxels hold all three phases
  long long activeEdges = 0;    // of those, with each phase's voxel in a percolating cluster
  double lengthUm = 0, activeLengthUm = 0;  // edges weighted by the voxel side along each edge
};

struct TriplePhaseBoundaries {
  std::vector<TriplePhaseBoundary> triples;  // every triple of the volume's phases, (0,1,2), (0,1,3), ...
  long long interiorEdges = 0;  // voxel edges inside the volume (TauFactor's denominator)
  double volumeUm3 = 0;
  int activeAxis = -1;          // -1: active edges not computed
};

/// activeAxis = X, Y or Z: also count the active edges (one connectivity labelling per phase);
/// -1: skip them. Throws fibseg::Error for a volume of more than 32 phases.
TriplePhaseBoundaries triplePhaseBoundaries(const LabelVolume& volume, int activeAxis);

}  // namespace fibseg::measure
