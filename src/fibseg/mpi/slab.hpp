#pragma once
// One MPI rank's part of a label volume: the slices z0 .. z0 + nz - 1 of the whole volume, read
// page by page from the label TIFF (each rank reads only its own pages, so no rank ever holds
// the whole volume). Slices are shared out as evenly as possible, the first ranks taking one
// more when they do not divide.
#include <array>
#include <filesystem>
#include <optional>
#include <vector>

#include "fibseg/measure/label_file.hpp"
#include "fibseg/measure/volume.hpp"

namespace fibseg::mpi {

struct Slab {
  measure::LabelVolume volume;  // nz = this rank's slices; voxel size and phase names of the whole
  int z0 = 0;                   // first slice of the whole volume held here
  int nzTotal = 0;              // slices of the whole volume
  bool first() const { return z0 == 0; }
  bool last() const { return z0 + volume.nz == nzTotal; }
};

/// The slices [first, end) of rank `rank` among `ranks` for a volume of `slices` slices.
std::array<int, 2> slabRange(int slices, int rank, int ranks);

/// Reads slices [z0, z0 + nz) of `path` (grey levels named by `phases`, voxel size as
/// measure::probeLabelFile gives it). Throws naming the file and page on a page of another size
/// or a grey level without a phase.
Slab readLabelSlab(const std::filesystem::path& path, const std::vector<measure::PhaseValue>& phases,
                   std::optional<std::array<double, 3>> voxelUm, int z0, int nz);

}  // namespace fibseg::mpi
