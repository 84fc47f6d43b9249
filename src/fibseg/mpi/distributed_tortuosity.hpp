#pragma once
// The tortuosity factor of one phase along one axis, solved across MPI ranks with hypre's
// structured-grid interface (Struct): the same problem, boundary conditions, anisotropic voxels
// and tau definitions as measure::tortuosity (fixed concentrations 1 and 0 half a voxel outside
// the two faces normal to the axis, no flux elsewhere, only the percolating clusters carry flux,
// tau = eps D / D_eff with eps the phase's whole volume fraction). Each rank owns one z slab of
// the grid; voxels outside the domain are identity rows decoupled from their neighbours.
#include <mpi.h>

#include "fibseg/measure/tortuosity.hpp"
#include "fibseg/mpi/slab.hpp"

namespace fibseg::mpi {

struct DistributedSolveInfo {
  int ranks = 1;
  double setupSeconds = 0;  // domain labelling + matrix + preconditioner setup, wall
  double solveSeconds = 0;  // PCG iterations + flux checks, wall
  double relativeResidual = 0;  // hypre's last ||r|| / ||b||
};

/// Collective over `comm` (every rank with its own slab). The result is the same on every rank.
/// A non-converged solve gives a null tau with the reason, as the serial solver does.
measure::TortuosityResult distributedTortuosity(const Slab& slab, int phase, int axis,
                                                const measure::TortuosityParams& params, MPI_Comm comm,
                                                DistributedSolveInfo* info = nullptr);

}  // namespace fibseg::mpi
