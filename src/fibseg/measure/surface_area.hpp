#pragma once
// Surface and interface areas: marching cubes on the raw labels, each cell's area divided by the
// factor by which marching cubes over-reads a plane of the local orientation.
//
// Why: marching cubes on a binary indicator keeps every feature the segmentation has (a one-voxel
// strand of binder still has a surface), but its staircase makes it read a plane at 10-30 degrees
// 6-12 % high and a sphere about 9 % high. For a plane of unit normal n that over-read is exact
// and cheap: sweeping the plane through one cell, the cell's corner pattern changes only where
// the plane crosses a corner, so the mean area per unit of plane is sum_j area(pattern_j) *
// (p_(j+1) - p_j) / cell volume, with p_j the sorted n . corner. Each cell's area is divided by
// that factor at the normal of the phase's indicator smoothed by a Gaussian of `smoothingUm`.
// The smoothing only orients the correction; it never decides where a surface is, so thin
// features are not lost (they are with marching cubes or a gradient on a smoothed indicator).
//
// The volume's own faces are not surfaces: cells reaching half a voxel outside read the nearest
// voxel (so the surface there is extruded straight to the face) and count only for the share of
// their corners inside. A cell's area goes 1/8 to each of its corner voxels inside the volume,
// which gives the (slab, slice) cells. The interface a|b is (A_a + A_b - A_(a u b)) / 2 cell by
// cell, A_(a u b) from the pattern of "a or b" and the normal of the sum of the smoothed fields.
#include <vector>

#include "fibseg/measure/volume.hpp"

namespace fibseg::measure {

/// How surfaceAreas estimates, in one sentence for the reader (metrics.json, the report).
extern const char* const kSurfaceAreaMethod;

struct AreaSums {
  std::vector<std::pair<int, int>> pairs;             // interfaces (a < b)
  std::vector<double> phaseTotalUm2;                  // [phase]
  std::vector<double> interfaceTotalUm2;              // [pair]
  // [slab][z][phase] and [slab][z][pair], µm^2 inside each (slab, slice) cell; they add up to the totals
  std::vector<std::vector<std::vector<double>>> phasePerSlabSlice;
  std::vector<std::vector<std::vector<double>>> interfacePerSlabSlice;
};

/// Bytes the area estimate needs on top of the volume (one float volume per phase, plus lines).
std::size_t surfaceAreaMemoryBytes(const LabelVolume& volume);

/// `smoothingUm`: sigma (µm) of the Gaussian whose gradient orients the correction; one voxel is
/// right (spheres r >= 10 and planes within 1.5 %), 0 uses the raw 2x2x2 pattern's own gradient.
AreaSums surfaceAreas(const LabelVolume& volume, double smoothingUm, int slabAxis, int slabs);

// The same estimate block by block (the streamed metrics): each block of slices adds its cell
// layers into one AreaLayers (small: per layer, slab and quantity), then finishAreas sums them in
// the whole-volume order, so the result is the same to the bit.
struct AreaLayers {
  AreaLayers(int phases, int nz, int slabs);
  std::vector<std::vector<double>> acc;  // [cell layer cz + 1][side][slab][phase or pair]
};
/// Slices of z a block needs beyond the cell layers it adds, on each side (smoothing and corners).
int areaHaloSlices(const LabelVolume& volume, double smoothingUm);
/// `block` holds slices zOffset .. zOffset + block.nz - 1 of a volume of nzTotal slices; adds cell
/// layers czFrom .. czTo - 1 (-1 .. nzTotal - 1 overall); the block must hold slices
/// czFrom - halo + 1 .. czTo + halo - 1 (clamped to the volume), halo = areaHaloSlices.
void addAreaLayers(const LabelVolume& block, int zOffset, int nzTotal, double smoothingUm, int slabAxis, int slabs,
                   int czFrom, int czTo, AreaLayers& layers);
AreaSums finishAreas(const AreaLayers& layers, int phases, int nz, int slabs);

/// Mean marching-cubes area per unit area of a plane of unit normal `n` (in µm, x y z), with
/// cells of `voxelUm`: 1 on axis planes, about 1.07 at 30 degrees. Exposed for the tests.
double marchingCubesPlaneOverRead(const std::array<double, 3>& n, const std::array<double, 3>& voxelUm);

}  // namespace fibseg::measure
