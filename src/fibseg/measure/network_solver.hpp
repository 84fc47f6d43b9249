#pragma once
// Steady state of a finite-volume network on the voxel grid with conductances that vary from face
// to face: the variable-coefficient solves (diffusivity per phase, electrode tortuosity factor).
// Each unknown voxel i satisfies
//   sum_j g_ij (c_i - c_j) + toOne_i (c_i - 1) + toZero_i c_i = 0,
// i.e. conductances to its face neighbours, to a fixed concentration 1 (an inlet) and to 0 (an
// outlet, or a reacting surface). Solved by conjugate gradients in double, preconditioned by the
// aggregation multigrid of the tortuosity solver (defined in tortuosity.cpp beside it).
#include <array>
#include <complex>
#include <cstddef>
#include <vector>

namespace fibseg::measure {

struct ConductanceNetwork {
  int n[3] = {0, 0, 0};                   // voxels along x, y, z (x fastest)
  std::array<std::vector<float>, 3> toNext;  // [a][i]: conductance from i to its + neighbour along a (0: none)
  std::vector<float> toOne, toZero;        // [i]: conductance to concentration 1 / to 0
  std::size_t size() const { return std::size_t(n[0]) * n[1] * n[2]; }
  /// Empty network (every conductance 0) of nx*ny*nz voxels.
  static ConductanceNetwork zeros(int nx, int ny, int nz);
};

struct NetworkSolution {
  std::vector<double> concentration;  // 0 where the voxel has no conductance at all
  int iterations = 0;
  double relativeResidual = 0;        // |b - A c| / |b| reached
  bool converged = false;
};

/// Every voxel with a conductance is an unknown; a group of them with no path to toOne or toZero
/// makes the system singular: the caller keeps only connected domains. Stops at relative
/// residual `tolerance` or after maxIterations.
NetworkSolution solveNetwork(const ConductanceNetwork& network, double tolerance, int maxIterations);

struct ComplexNetworkSolution {
  std::vector<std::complex<double>> potential;  // 0 where the voxel has no conductance at all
  int iterations = 0;
  double relativeResidual = 0;
  bool converged = false;
};

/// The network at angular frequency omega with a capacitance to ground at each voxel:
/// sum_j g_ij (u_i - u_j) + toOne_i (u_i - 1) + toZero_i u_i + j omega capacitance_i u_i = 0.
/// Complex-symmetric CG (COCG) with the multigrid of the real part plus omega C.
ComplexNetworkSolution solveNetworkAtFrequency(const ConductanceNetwork& network, const std::vector<float>& capacitance,
                                               double omega, double tolerance, int maxIterations);

/// Bytes solveNetwork needs for `voxels` unknowns (fine grid in float, CG vectors in double).
std::size_t networkSolverMemoryBytes(std::size_t voxels);

}  // namespace fibseg::measure
