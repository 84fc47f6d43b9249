#include "fibseg/mpi/distributed_tortuosity.hpp"

#include <HYPRE_struct_ls.h>
#include <HYPRE_utilities.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "fibseg/core/error.hpp"
#include "fibseg/mpi/percolating_domain.hpp"

namespace fibseg::mpi {
namespace {

// hypre's Krylov solvers stop on ||r|| / ||b||; the answer is the flux, which must agree through
// every plane normal to the axis (params.fluxTolerance, as the serial solver checks). A residual
// of 1e-6 gives a flux spread of ~2e-4 on TauFactor's electrode (bench/README.md); when it does
// not, PCG goes on from where it stopped with a 100 times tighter residual.
constexpr double kFirstRelativeResidual = 1e-6, kTightening = 1e-2, kLastRelativeResidual = 1e-13;
constexpr int kSweeps = 2;  // PFMG relaxation sweeps before and after the coarse correction

// Owns one hypre object.
template <class T, HYPRE_Int (*destroy)(T)>
struct Hypre {
  T object = nullptr;
  Hypre() = default;
  Hypre(const Hypre&) = delete;
  Hypre& operator=(const Hypre&) = delete;
  ~Hypre() {
    if (object) destroy(object);
  }
  operator T() const { return object; }
};

void check(HYPRE_Int status, const char* call) {
  if (status) {
    char text[256] = {0};
    HYPRE_DescribeError(status, text);
    HYPRE_ClearAllErrors();
    throw Error(std::string("mpi: hypre ") + call + " failed: " + text);
  }
}

// Whether the voxel at (x, y, z) of the slab (z from -1 to nz: the neighbours' planes) is in the domain.
struct DomainView {
  const DomainSlab& d;
  int nx, ny, nz;
  bool operator()(int x, int y, int z) const {
    if (x < 0 || y < 0 || x >= nx || y >= ny) return false;
    const std::size_t inPlane = std::size_t(x) + std::size_t(nx) * y;
    if (z < 0) return d.below[inPlane];
    if (z >= nz) return d.above[inPlane];
    return d.inDomain[inPlane + std::size_t(nx) * ny * z];
  }
};

}  // namespace

measure::TortuosityResult distributedTortuosity(const Slab& slab, int phase, int axis,
                                                const measure::TortuosityParams& params, MPI_Comm comm,
                                                DistributedSolveInfo* info) {
  measure::TortuosityResult result;
  const auto& v = slab.volume;
  int rank = 0, ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  DistributedSolveInfo stats;
  stats.ranks = ranks;
  const double start = MPI_Wtime();

  const DomainSlab domain = percolatingDomain(slab, phase, axis, comm);
  const int size[3] = {v.nx, v.ny, slab.nzTotal};
  const double voxels = double(v.nx) * v.ny * slab.nzTotal;
  result.volumeFraction = double(domain.phaseVoxels) / voxels;
  result.percolatingFraction = double(domain.domainVoxels) / voxels;
  const std::string name = phase < v.phases() ? v.phaseNames[phase] : std::to_string(phase);
  if (domain.phaseVoxels == 0) {
    result.reason = name + " is absent";
    return result;
  }
  if (domain.domainVoxels == 0) {
    result.reason = std::string("no cluster of ") + name + " touches both faces normal to " + measure::axisName(axis);
    return result;
  }

  // Conductances as the serial solver: D * face area / centre distance, D = 1.
  const auto& s = v.voxelUm;
  double g[3];
  for (int a = 0; a < 3; ++a) g[a] = s[(a + 1) % 3] * s[(a + 2) % 3] / s[a];
  const double boundary = 2.0 * g[axis];  // half a voxel to the fixed concentration
  const double endConductance = (size[axis] == 1 ? 2.0 : 1.0) * boundary;
  const DomainView in{domain, v.nx, v.ny, v.nz};
  const auto along = [&](int x, int y, int z) { return axis == 0 ? x : axis == 1 ? y : slab.z0 + z; };

  Hypre<HYPRE_StructGrid, HYPRE_StructGridDestroy> grid;
  HYPRE_Int lower[3] = {0, 0, slab.z0}, upper[3] = {v.nx - 1, v.ny - 1, slab.z0 + v.nz - 1};
  check(HYPRE_StructGridCreate(comm, 3, &grid.object), "StructGridCreate");
  check(HYPRE_StructGridSetExtents(grid, lower, upper), "StructGridSetExtents");
  check(HYPRE_StructGridAssemble(grid), "StructGridAssemble");
  // A symmetric matrix stores the centre and the three - neighbours; hypre mirrors the + ones.
  Hypre<HYPRE_StructStencil, HYPRE_StructStencilDestroy> stencil;
  check(HYPRE_StructStencilCreate(3, 4, &stencil.object), "StructStencilCreate");
  HYPRE_Int offsets[4][3] = {{0, 0, 0}, {-1, 0, 0}, {0, -1, 0}, {0, 0, -1}};
  for (int k = 0; k < 4; ++k) check(HYPRE_StructStencilSetElement(stencil, k, offsets[k]), "StructStencilSetElement");
  Hypre<HYPRE_StructMatrix, HYPRE_StructMatrixDestroy> A;
  check(HYPRE_StructMatrixCreate(comm, grid, stencil, &A.object), "StructMatrixCreate");
  check(HYPRE_StructMatrixSetSymmetric(A, 1), "StructMatrixSetSymmetric");
  check(HYPRE_StructMatrixInitialize(A), "StructMatrixInitialize");
  Hypre<HYPRE_StructVector, HYPRE_StructVectorDestroy> b, x;
  check(HYPRE_StructVectorCreate(comm, grid, &b.object), "StructVectorCreate");
  check(HYPRE_StructVectorCreate(comm, grid, &x.object), "StructVectorCreate");
  check(HYPRE_StructVectorInitialize(b), "StructVectorInitialize");
  check(HYPRE_StructVectorInitialize(x), "StructVectorInitialize");

  // One z plane at a time, so the values passed to hypre take a plane of memory, not a slab.
  const std::size_t plane = std::size_t(v.nx) * v.ny;
  std::vector<double> rows(4 * plane), rhs(plane), guess(plane);
  HYPRE_Int entries[4] = {0, 1, 2, 3};
  for (int z = 0; z < v.nz; ++z) {
    for (int y = 0; y < v.ny; ++y)
      for (int xi = 0; xi < v.nx; ++xi) {
        const std::size_t k = std::size_t(xi) + std::size_t(v.nx) * y;
        double* row = rows.data() + 4 * k;
        rhs[k] = guess[k] = 0;
        if (!in(xi, y, z)) {
          // Outside the domain: u = 0, coupled to nothing (its neighbours' entries to it are 0 too).
          row[0] = 1, row[1] = row[2] = row[3] = 0;
          continue;
        }
        const bool minus[3] = {in(xi - 1, y, z), in(xi, y - 1, z), in(xi, y, z - 1)};
        const bool plus[3] = {in(xi + 1, y, z), in(xi, y + 1, z), in(xi, y, z + 1)};
        double diag = 0;
        for (int a = 0; a < 3; ++a) {
          diag += g[a] * (double(minus[a]) + double(plus[a]));
          row[1 + a] = minus[a] ? -g[a] : 0.0;
        }
        const int c = along(xi, y, z);
        if (c == 0 || c == size[axis] - 1) diag += endConductance;
        if (c == 0) rhs[k] = boundary;  // concentration 1 beyond the inlet face
        row[0] = diag;
        // The straight-channel profile as first guess, as the serial solver.
        guess[k] = 1.0 - (c + 0.5) / size[axis];
      }
    HYPRE_Int pl[3] = {0, 0, slab.z0 + z}, pu[3] = {v.nx - 1, v.ny - 1, slab.z0 + z};
    check(HYPRE_StructMatrixSetBoxValues(A, pl, pu, 4, entries, rows.data()), "StructMatrixSetBoxValues");
    check(HYPRE_StructVectorSetBoxValues(b, pl, pu, rhs.data()), "StructVectorSetBoxValues");
    check(HYPRE_StructVectorSetBoxValues(x, pl, pu, guess.data()), "StructVectorSetBoxValues");
  }
  rows = {}, rhs = {}, guess = {};
  check(HYPRE_StructMatrixAssemble(A), "StructMatrixAssemble");
  check(HYPRE_StructVectorAssemble(b), "StructVectorAssemble");
  check(HYPRE_StructVectorAssemble(x), "StructVectorAssemble");

  Hypre<HYPRE_StructSolver, HYPRE_StructPCGDestroy> pcg;
  check(HYPRE_StructPCGCreate(comm, &pcg.object), "StructPCGCreate");
  check(HYPRE_StructPCGSetTwoNorm(pcg, 1), "StructPCGSetTwoNorm");
  check(HYPRE_StructPCGSetRelChange(pcg, 0), "StructPCGSetRelChange");
  check(HYPRE_StructPCGSetLogging(pcg, 1), "StructPCGSetLogging");
  // One PFMG V-cycle per PCG iteration, weighted Jacobi with 2 sweeps before and after, Galerkin
  // coarse operators: on TauFactor's electrode pore (a 96^3 crop, bench/README.md) the fewest CPU
  // seconds of those tried: 1 sweep takes 84 iterations, 2 take 63, 3 take 54 but cost more;
  // SMG converges in 30 iterations for 5.6 times the CPU; red-black Gauss-Seidel (relaxation 2)
  // and the non-Galerkin coarse operators (RAP type 1) abort inside hypre on this operator.
  Hypre<HYPRE_StructSolver, HYPRE_StructPFMGDestroy> pfmg;
  check(HYPRE_StructPFMGCreate(comm, &pfmg.object), "StructPFMGCreate");
  check(HYPRE_StructPFMGSetMaxIter(pfmg, 1), "StructPFMGSetMaxIter");
  check(HYPRE_StructPFMGSetTol(pfmg, 0.0), "StructPFMGSetTol");
  check(HYPRE_StructPFMGSetZeroGuess(pfmg), "StructPFMGSetZeroGuess");
  check(HYPRE_StructPFMGSetRelaxType(pfmg, 1), "StructPFMGSetRelaxType");
  check(HYPRE_StructPFMGSetNumPreRelax(pfmg, kSweeps), "StructPFMGSetNumPreRelax");
  check(HYPRE_StructPFMGSetNumPostRelax(pfmg, kSweeps), "StructPFMGSetNumPostRelax");
  check(HYPRE_StructPCGSetPrecond(pcg, HYPRE_StructPFMGSolve, HYPRE_StructPFMGSetup, pfmg), "StructPCGSetPrecond");
  check(HYPRE_StructPCGSetTol(pcg, kFirstRelativeResidual), "StructPCGSetTol");
  check(HYPRE_StructPCGSetMaxIter(pcg, params.maxIterations), "StructPCGSetMaxIter");
  check(HYPRE_StructPCGSetup(pcg, A, b, x), "StructPCGSetup");
  const double setupDone = MPI_Wtime();
  stats.setupSeconds = setupDone - start;

  // Fluxes through the inlet (0), every plane between voxel layers (1 .. n-1) and the outlet (n).
  std::vector<double> u(v.voxels()), above(plane, 0.0);
  const auto fluxes = [&] {
    check(HYPRE_StructVectorGetBoxValues(x, lower, upper, u.data()), "StructVectorGetBoxValues");
    const int down = slab.first() ? MPI_PROC_NULL : rank - 1, up = slab.last() ? MPI_PROC_NULL : rank + 1;
    MPI_Sendrecv(u.data(), int(plane), MPI_DOUBLE, down, 4, above.data(), int(plane), MPI_DOUBLE, up, 4, comm,
                 MPI_STATUS_IGNORE);
    const int n = size[axis];
    std::vector<double> mine(n + 1, 0.0), all(n + 1, 0.0);
    const std::size_t stride[3] = {1, std::size_t(v.nx), plane};
    for (int z = 0; z < v.nz; ++z)
      for (int y = 0; y < v.ny; ++y)
        for (int xi = 0; xi < v.nx; ++xi) {
          if (!in(xi, y, z)) continue;
          const std::size_t i = v.index(xi, y, z);
          const int c = along(xi, y, z);
          if (c == 0) mine[0] += boundary * (1.0 - u[i]);
          if (c == n - 1) mine[n] += boundary * u[i];
          const int next[3] = {xi + (axis == 0), y + (axis == 1), z + (axis == 2)};
          if (c < n - 1 && in(next[0], next[1], next[2])) {
            const double neighbour = next[2] < v.nz ? u[i + stride[axis]] : above[i - (v.voxels() - plane)];
            mine[c + 1] += g[axis] * (u[i] - neighbour);
          }
        }
    MPI_Allreduce(mine.data(), all.data(), n + 1, MPI_DOUBLE, MPI_SUM, comm);
    return all;
  };
  const auto spreadOf = [](const std::vector<double>& p, double& mean) {
    const auto [lo, hi] = std::minmax_element(p.begin(), p.end());
    double sum = 0;
    for (double f : p) sum += f;
    mean = sum / double(p.size());
    return mean > 0 ? (*hi - *lo) / mean : 1.0;
  };

  double tolerance = kFirstRelativeResidual, meanFlux = 0, spread = 1;
  for (;;) {
    const HYPRE_Int status = HYPRE_StructPCGSolve(pcg, A, b, x);
    if (status && !HYPRE_CheckError(status, HYPRE_ERROR_CONV)) check(status, "StructPCGSolve");
    HYPRE_ClearAllErrors();
    HYPRE_Int iterations = 0;
    HYPRE_StructPCGGetNumIterations(pcg, &iterations);
    HYPRE_StructPCGGetFinalRelativeResidualNorm(pcg, &stats.relativeResidual);
    result.iterations += iterations;
    spread = spreadOf(fluxes(), meanFlux);
    if (spread <= params.fluxTolerance || result.iterations >= params.maxIterations || !std::isfinite(spread) ||
        tolerance <= kLastRelativeResidual)
      break;
    tolerance *= kTightening;
    check(HYPRE_StructPCGSetTol(pcg, tolerance), "StructPCGSetTol");
    check(HYPRE_StructPCGSetMaxIter(pcg, params.maxIterations - result.iterations), "StructPCGSetMaxIter");
  }
  stats.solveSeconds = MPI_Wtime() - setupDone;
  if (info) *info = stats;
  result.fluxSpread = spread;
  if (!(spread <= params.fluxTolerance)) {
    result.reason = "did not converge: flux through the planes differs by " + std::to_string(spread * 100) +
                    " % after " + std::to_string(result.iterations) + " iterations";
    return result;
  }
  const int b1 = (axis + 1) % 3, b2 = (axis + 2) % 3;
  const double length = size[axis] * s[axis];
  const double area = size[b1] * s[b1] * size[b2] * s[b2];
  const double relative = meanFlux * length / area;  // D_eff / D with unit concentration drop
  result.relativeDiffusivity = relative;
  result.tau = result.volumeFraction / relative;
  result.tauPercolating = result.percolatingFraction / relative;
  result.macmullin = *result.tau / result.volumeFraction;
  return result;
}

}  // namespace fibseg::mpi
