#pragma once
// A 3D label volume for the microstructure metrics: one byte per voxel holding a phase index
// (0 .. phases-1, not the grey level of the file), x = image columns, y = image rows, z = slices.
// Voxel sizes are in µm and may differ per axis (FIB-SEM slices are often thicker than a pixel).
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fibseg::measure {

enum Axis : int { X = 0, Y = 1, Z = 2 };
inline const char* axisName(int axis) { return axis == X ? "x" : axis == Y ? "y" : "z"; }

struct LabelVolume {
  int nx = 0, ny = 0, nz = 0;
  std::array<double, 3> voxelUm{1, 1, 1};
  std::vector<std::string> phaseNames;  // index = phase number stored in `phase`
  std::vector<std::uint8_t> phase;      // nx*ny*nz, x fastest

  std::size_t voxels() const { return std::size_t(nx) * ny * nz; }
  std::size_t index(int x, int y, int z) const { return std::size_t(x) + std::size_t(nx) * (y + std::size_t(ny) * z); }
  int size(int axis) const { return axis == X ? nx : axis == Y ? ny : nz; }
  std::size_t stride(int axis) const { return axis == X ? 1 : axis == Y ? std::size_t(nx) : std::size_t(nx) * ny; }
  int phases() const { return int(phaseNames.size()); }
  double voxelVolumeUm3() const { return voxelUm[0] * voxelUm[1] * voxelUm[2]; }
};

/// Allocates an nx*ny*nz volume of phase 0 (tests build shapes on it).
LabelVolume makeVolume(int nx, int ny, int nz, std::vector<std::string> phaseNames,
                       std::array<double, 3> voxelUm = {1, 1, 1});

}  // namespace fibseg::measure
