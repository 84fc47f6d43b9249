#pragma once
// The solve domain of one rank's slab, found across every rank: the voxels of a phase in
// 6-connected clusters that touch both faces normal to an axis (measure::percolatingMask's rule,
// over the whole volume). Each rank labels its own slab; a cluster that reaches another slab is
// joined by rank 0 from the labels on the slab faces only (a union-find over those labels), so
// rank 0's work grows with the faces, not with the volume.
#include <mpi.h>

#include <cstdint>
#include <vector>

#include "fibseg/mpi/slab.hpp"

namespace fibseg::mpi {

struct DomainSlab {
  std::vector<std::uint8_t> inDomain;     // per voxel of the slab, 0 or 1
  std::vector<std::uint8_t> below, above;  // the planes just outside the slab (zeros beyond the volume)
  long long phaseVoxels = 0;               // of the whole volume
  long long domainVoxels = 0;              // of the whole volume
};

/// Collective over `comm`: every rank calls it with its own slab, in rank order of z.
DomainSlab percolatingDomain(const Slab& slab, int phase, int axis, MPI_Comm comm);

}  // namespace fibseg::mpi
