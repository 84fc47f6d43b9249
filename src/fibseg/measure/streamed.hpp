#pragma once
// The metrics of a volume read in blocks of slices (z), with memory bounded by the block size,
// equal to the whole-volume metrics (measureMetrics):
// - fractions, per-slice and slab profiles: integer counts per (slab, slice) cell, summed;
// - surface and interface areas: each block adds its own marching-cubes cell layers (a cell
//   layer between slices z and z + 1 belongs to the block owning z + 1) from its slices plus a
//   halo of the smoothing kernel's radius + 1, into per-layer sums added in the whole volume's
//   order: the same numbers to the bit;
// - connectivity: each block's 6-connected clusters (one labelling for all phases), joined to
//   the previous block's across their shared face with union-find over cluster ids; a cluster's
//   faces and voxel count are those of its joined set, so the fractions are the same integers /
//   the same count;
// - mean chords: runs counted with one slice of overlap (a run along z starts where the slice
//   below is not the phase), so runs cross block faces;
// - triple-phase boundary edges: counted at their lowest voxel, by voxel layer as the area cells
//   (the layer of z belongs to the block owning z + 1): integer counts, summed;
// - local thickness: tiles along x, y and z with halos as wide as the largest inscribed radius,
//   found first (local_thickness_tiled.hpp), so a slice need not fit in memory with its halo.
// Each `add*` function takes one block and can run as a task of a distributed run; the
// accumulators merge blocks in z order.
#include <cstdint>
#include <optional>
#include <vector>

#include "fibseg/measure/connectivity.hpp"
#include "fibseg/measure/fractions.hpp"
#include "fibseg/measure/label_source.hpp"
#include "fibseg/measure/local_thickness_tiled.hpp"
#include "fibseg/measure/sizes.hpp"
#include "fibseg/measure/surface_area.hpp"
#include "fibseg/measure/tortuosity_plan.hpp"
#include "fibseg/measure/triple_phase_boundary.hpp"

namespace fibseg::measure {

/// Voxel counts: adds slices zFrom .. zTo - 1 (global) of `block`, which starts at global slice zOffset.
void addPhaseCounts(const LabelVolume& block, int zOffset, int nzTotal, int slabAxis, int slabs, int zFrom, int zTo,
                    PhaseCounts& counts);

/// Chord runs and phase voxels, [phase][axis]; slices zFrom .. zTo - 1, with zFrom - 1 in the block when zFrom > 0.
struct ChordRuns {
  std::vector<std::array<long long, 3>> runs;
  std::vector<long long> voxels;
  explicit ChordRuns(int phases) : runs(phases), voxels(phases, 0) {}
  std::array<double, 3> meanChordUm(int phase, const std::array<double, 3>& voxelUm) const;
};
void addChordRuns(const LabelVolume& block, int zOffset, int zFrom, int zTo, ChordRuns& runs);

/// Face connectivity joined block by block (blocks given in z order, each exactly its own slices).
class StreamedConnectivity {
 public:
  explicit StreamedConnectivity(const LabelVolume& shape) : shape_(shape) {}
  void addBlock(const LabelVolume& block, int zOffset);
  std::vector<PhaseConnectivity> result() const;

 private:
  std::uint64_t find(std::uint64_t i) const;
  const LabelVolume& shape_;
  mutable std::vector<std::uint64_t> parent_;  // over clusters of every block
  std::vector<std::uint8_t> faces_, phase_;
  std::vector<long long> voxels_;
  std::vector<std::uint64_t> lastIds_;  // cluster id of each voxel of the previous block's last slice
  std::vector<std::uint8_t> lastPhase_;
  int nextZ_ = 0;
};

/// What the metrics are made of, whole or streamed (metricsFromParts in metrics.hpp).
struct MeasuredParts {
  PhaseCounts counts;
  AreaSums areas;
  std::vector<PhaseConnectivity> connectivity;
  std::vector<SizeDistribution> sizes;
  std::vector<std::string> sizesNullReason;  // per phase: why no local thickness (empty: computed or not asked)
  int blockSlices = 0, blocks = 0;
  int thicknessHaloSlices = 0;  // the local thickness' halo along z (0 when not computed)
  std::array<int, 3> thicknessHaloVoxels{}, thicknessTileVoxels{};  // largest over the phases
  int thicknessTiles = 0;  // over the phases
  std::optional<TriplePhaseBoundaries> triplePhaseBoundaries;  // streamed: the edges, not the active ones
};

/// Bytes per slice a block needs at its peak (labels, smoothed fields, cluster labels); the local
/// thickness' tiles are sized apart, within TiledThicknessOptions::memoryBytes (`sizes`: its mask's bit a voxel).
std::size_t streamedBytesPerSlice(const LabelVolume& shape, bool sizes);

/// Everything but tortuosity, in blocks of `blockSlices` slices (the halos come on top); the
/// local thickness in tiles within `thicknessOptions.memoryBytes`; the triple-phase boundary
/// edges (not the active ones) when `triplePhaseBoundaries`.
MeasuredParts measureStreamed(const LabelSource& source, int slabAxis, int slabs, double smoothingUm, bool sizes,
                              int blockSlices, double sizesMinChords = 0,
                              const TiledThicknessOptions& thicknessOptions = {}, bool triplePhaseBoundaries = false);

}  // namespace fibseg::measure
