#pragma once
// Triple-phase boundary (TPB) density: the length of the voxel edges where three phases meet, per
// unit volume (µm^-2). A voxel edge inside the volume is shared by four voxels; it lies on the
// TPB of phases (a, b, c) when those four voxels hold all three of them (TauFactor's
// triple_phase_boundary counts the same edges; its figure is their share of the interior edges).
// An edge is "active" when each of its three phases' voxels there belongs to a cluster that
// percolates along the given axis (ions, electrons and gas or the active material all reach it).
#include <array>
#include <cstdint>
#include <map>
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

// Block by block (the streamed metrics): an edge is counted at its lowest voxel, so the edges of
// voxel layer z need slices z and z + 1; the counts are integers, summed in any order.
/// Edges per (phases present | phases active << 32) mask of their four voxels, per edge axis.
using TriplePhaseEdgeCounts = std::map<std::uint64_t, std::array<long long, 3>>;
/// Adds the edges of voxel layers zFrom .. zTo - 1 (global) of `block`, which starts at global
/// slice zOffset and holds layer zTo too unless zTo = nzTotal. `percolates` (per voxel of the
/// block, or empty: no active edges) marks the voxels in a percolating cluster.
void addTriplePhaseEdges(const LabelVolume& block, int zOffset, int nzTotal, int zFrom, int zTo,
                         const std::vector<std::uint8_t>& percolates, TriplePhaseEdgeCounts& counts);
/// The lengths per triple from the counts of the whole volume (`shape`: its size and phases).
TriplePhaseBoundaries finishTriplePhaseBoundaries(const LabelVolume& shape, const TriplePhaseEdgeCounts& counts,
                                                  int activeAxis);

}  // namespace fibseg::measure
