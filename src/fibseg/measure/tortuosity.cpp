// Solver: conjugate gradients preconditioned by one aggregation-multigrid cycle.
// - Finest grid: the percolating voxels only carry flux; one flag byte per voxel says which of its
//   six face neighbours are in the domain, so the finest operator is never stored (its
//   conductances are the three per-axis constants): the solver streams 1 byte of matrix + the
//   float vectors per voxel, which is what bounds its speed on a 2-core machine.
// - Coarse grids aggregate 2x2x2 cells (Galerkin coarse operator of piecewise-constant
//   interpolation: a coarse face's conductance is the sum of the fine conductances crossing it).
// - Red-black Gauss-Seidel in symmetric order (pre: red, black; post: black, red), so the
//   preconditioner is symmetric and CG applies.
// - Speed (bench/README.md, issue 15 part 4): every finest-grid loop is a vectorised row kernel
//   compiled for AVX2 and the baseline; the fine pre-smoothing (with the restriction) and the
//   post-smoothing (with the correction) each run as a wavefront over z planes (one pass over
//   memory, not three); CG's own updates, r'z and the flux check ride on passes that read the
//   same data anyway.
// Why hand-written rather than hypre: see bench/README.md (Measure), where both were timed.
#include "fibseg/measure/tortuosity.hpp"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <new>

#include "fibseg/core/error.hpp"
#include "fibseg/measure/connectivity.hpp"

namespace fibseg::measure {
namespace {

constexpr int kCoarsestCells = 512;
constexpr int kCoarsestSweeps = 40;
// Piecewise-constant interpolation underestimates smooth corrections; scaling them (Braess 1995;
// Notay's aggregation AMG) restores a convergence rate close to classical multigrid.
constexpr float kCoarseScale = 1.8f;
// CG stops only once r'M^-1 r has also fallen this far below its first value (with equal fluxes
// through the planes): about 2 digits of the residual norm, which the flux check then refines.
constexpr double kStopResidualReduction = 1e-4;
// CG restarts from the true residual once r'M^-1 r has dropped by this factor since the last
// restart: the float inner solve is good for ~3 digits of the residual norm (see trueResidual).
constexpr double kRestartReduction = 1e-6;

// Flag bits of a finest-grid voxel: bit 2a = neighbour at +1 along axis a in the domain,
// bit 2a+1 = neighbour at -1; kInDomain = the voxel itself is an unknown; kAtEnd = it lies on a
// face normal to the axis (conductance to the fixed concentration). A voxel outside the domain
// has flags 0, diagonal 0 and inverse diagonal 0, so every loop below runs without a branch on
// the (random) domain, which costs more than the arithmetic it saves.
constexpr unsigned kInDomain = 1u << 6, kAtEnd = 1u << 7;

// The finest-grid loops (one z plane per call) are compiled twice, for AVX2 + FMA (x86-64-v3) and
// for the baseline x86-64, and the loader picks one for the CPU it runs on (GCC function
// multiversioning, an ifunc): the stencil is arithmetic-bound in SSE (8 flag bits decoded per
// voxel), and 8 lanes instead of 4 cut the whole solve's CPU time by a third (bench/README.md).
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define FIBSEG_PLANE_KERNEL __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define FIBSEG_PLANE_KERNEL
#endif

// A float field on the finest grid with one plane of zeros on each side, so that the stencil may
// read i +- stride for every voxel and mask the term with the flag bit instead of branching.
// calloc, not a zero-filled vector: large blocks come from the kernel already zeroed, so nothing is
// written here and each page is first touched by the (parallel) solver passes; zero-filling the
// five fields serially was ~0.2 s of CPU per solve on 256^3.
struct Field {
  std::unique_ptr<float, decltype(&std::free)> data{nullptr, &std::free};
  std::size_t pad = 0;
  Field(std::size_t n, std::size_t padding)
      : data(static_cast<float*>(std::calloc(n + 2 * padding, sizeof(float))), &std::free), pad(padding) {
    if (!data) throw std::bad_alloc();
  }
  float* operator()() { return data.get() + pad; }
  const float* operator()() const { return data.get() + pad; }
};

// The finest grid: flags + the per-axis conductance (the diagonal is computed from the flag bits).
struct FineGrid {
  int n[3] = {0, 0, 0};
  std::size_t st[3] = {0, 0, 0};
  std::vector<std::uint8_t> flags;
  float g[3] = {0, 0, 0};
  int axis = 0;
  float boundary = 0;  // conductance to the fixed concentration half a voxel outside
  std::size_t size() const { return std::size_t(n[0]) * n[1] * n[2]; }
  float endConductance = 0;  // boundary, twice on a one-voxel-thick volume (both ends)
};

// Calls f(i, x, y, z) for every voxel, in parallel over z planes.
template <class F>
void forEachVoxel(const int n[3], F f) {
  tbb::parallel_for(0, n[2], [&](int z) {
    for (int y = 0; y < n[1]; ++y) {
      std::size_t i = std::size_t(n[0]) * (y + std::size_t(n[1]) * z);
      for (int x = 0; x < n[0]; ++x, ++i) f(i, x, y, z);
    }
  });
}

// Calls op(j, diagonal, offDiagonal) for every voxel j of the row starting at voxel `row`:
// the diagonal of A and the sum of conductance * u over the present neighbours, both computed from
// the flag bits (no table: a table lookup is a gather the compiler cannot vectorise). Voxels
// outside the domain get diagonal 1 and 0, so dividing by the diagonal is always safe. Without
// `neighbours` the sum is 0 and u is not read (a loop that writes u's neighbours may run beside it).
template <bool neighbours = true, class Op>
inline void stencilRow(const FineGrid& F, const float* u, std::size_t row, Op op) {
  const std::uint8_t* __restrict f = F.flags.data() + row;
  const float* c = u + row;
  const std::ptrdiff_t sy = std::ptrdiff_t(F.st[1]), sz = std::ptrdiff_t(F.st[2]);
  const float gx = F.g[0], gy = F.g[1], gz = F.g[2], gEnd = F.endConductance;
  const int n = F.n[0];
#pragma omp simd
  for (int j = 0; j < n; ++j) {
    const int b = f[j];
    const float px = float(b & 1), mx = float((b >> 1) & 1), py = float((b >> 2) & 1), my = float((b >> 3) & 1),
                pz = float((b >> 4) & 1), mz = float((b >> 5) & 1), in = float((b >> 6) & 1), end = float(b >> 7);
    float off = 0;
    if constexpr (neighbours)
      off = gx * (px * c[j + 1] + mx * c[j - 1]) + gy * (py * c[j + sy] + my * c[j - sy]) +
            gz * (pz * c[j + sz] + mz * c[j - sz]);
    const float diag = gx * (px + mx) + gy * (py + my) + gz * (pz + mz) + gEnd * end + (1.0f - in);
    op(j, diag, off);
  }
}

// out = A u on plane z of the finest grid; returns the plane's part of dot(u, out).
FIBSEG_PLANE_KERNEL double multiplyPlane(const FineGrid& F, const float* u, float* out, int z) {
  double s = 0;
  for (int y = 0; y < F.n[1]; ++y) {
    const std::size_t row = F.st[2] * z + F.st[1] * y;
    const float* ur = u + row;
    float* o = out + row;
    stencilRow(F, u, row, [&](int j, float diag, float off) { o[j] = diag * ur[j] - off; });
    float rowSum = 0;
#pragma omp simd reduction(+ : rowSum)
    for (int j = 0; j < F.n[0]; ++j) rowSum += ur[j] * o[j];
    s += rowSum;
  }
  return s;
}

// One colour of red-black Gauss-Seidel for A x = b on plane z of the finest grid. The whole row is
// computed and only the colour's voxels are kept: a voxel's new value depends only on the other
// colour, so this is the red-black sweep, vectorised instead of stepping by 2. The row goes to a
// buffer first and only the colour's voxels are copied into x: written straight into x, the loop
// reads and writes the same array and GCC gives up vectorising it ("complicated access pattern"),
// which made this sweep 60 % of the solve. (Copying only the colour, rather than blending the
// whole row, costs the same and never writes a voxel that another thread's rows read.) Returns the plane's part of dot(b, x) after the sweep when asked
// (the last sweep of the preconditioner leaves x final, so CG's r'z costs no pass of its own).
FIBSEG_PLANE_KERNEL double gaussSeidelPlane(const FineGrid& F, const float* b, float* x, int colour, int z,
                                            float* __restrict t, bool withDot) {
  double s = 0;
  for (int y = 0; y < F.n[1]; ++y) {
    const std::size_t row = F.st[2] * z + F.st[1] * y;
    const int first = (colour + y + z) & 1;
    float* __restrict xr = x + row;
    const float* __restrict br = b + row;
    stencilRow(F, x, row, [&](int j, float diag, float off) { t[j] = (br[j] + off) / diag; });
    for (int j = first; j < F.n[0]; j += 2) xr[j] = t[j];
    if (withDot) {
      float rowSum = 0;
#pragma omp simd reduction(+ : rowSum)
      for (int j = 0; j < F.n[0]; ++j) rowSum += br[j] * xr[j];
      s += rowSum;
    }
  }
  return s;
}

// One coarse grid: c(a)[i] = conductance between cell i and its + neighbour along a (0 from the
// last cell along a). The conductances and x carry one plane (+ 1) of zeros on each side, so the
// loops below read every neighbour of every cell without bounds tests: a missing neighbour's
// conductance is 0 (the previous row's or plane's last cell, or the padding).
struct Level {
  int n[3] = {0, 0, 0};
  std::size_t pad = 0;
  std::vector<float> conductance[3], solution;  // padded
  std::vector<float> diag;                      // 0 = no cell (no domain voxel in the aggregate)
  std::vector<float> b;
  std::size_t size() const { return std::size_t(n[0]) * n[1] * n[2]; }
  std::size_t stride(int a) const { return a == 0 ? 1 : a == 1 ? std::size_t(n[0]) : std::size_t(n[0]) * n[1]; }
  float* c(int a) { return conductance[a].data() + pad; }
  const float* c(int a) const { return conductance[a].data() + pad; }
  float* x() { return solution.data() + pad; }
  const float* x() const { return solution.data() + pad; }
};

// Calls op(j, diagonal, neighbourSum) for every cell j of the row of level L starting at cell
// `row`; the diagonal of a no-cell is 1 (its b and neighbour sum are 0, so it stays 0).
template <class Op>
inline void levelRow(const Level& L, std::size_t row, Op op) {
  const float *c0 = L.c(0) + row, *c1 = L.c(1) + row, *c2 = L.c(2) + row;
  const float* u = L.x() + row;
  const float* d = L.diag.data() + row;
  const std::ptrdiff_t sy = std::ptrdiff_t(L.stride(1)), sz = std::ptrdiff_t(L.stride(2));
  const int n = L.n[0];
#pragma omp simd
  for (int j = 0; j < n; ++j) {
    const float s = c0[j] * u[j + 1] + c0[j - 1] * u[j - 1] + c1[j] * u[j + sy] + c1[j - sy] * u[j - sy] +
                    c2[j] * u[j + sz] + c2[j - sz] * u[j - sz];
    op(j, d[j] + float(d[j] <= 0.0f), s);
  }
}

// One colour of red-black Gauss-Seidel on plane z of level L (whole rows, then the colour copied,
// as on the finest grid).
FIBSEG_PLANE_KERNEL void gaussSeidelLevelPlane(Level& L, int colour, int z, float* __restrict t) {
  for (int y = 0; y < L.n[1]; ++y) {
    const std::size_t row = L.stride(2) * z + L.stride(1) * y;
    const int first = (colour + y + z) & 1;
    float* __restrict xr = L.x() + row;
    const float* __restrict br = L.b.data() + row;
    levelRow(L, row, [&](int j, float diag, float s) { t[j] = (br[j] + s) / diag; });
    for (int j = first; j < L.n[0]; j += 2) xr[j] = t[j];
  }
}

void gaussSeidelColour(Level& L, int colour) {
  tbb::enumerable_thread_specific<std::vector<float>> buffers([&] { return std::vector<float>(L.n[0]); });
  tbb::parallel_for(0, L.n[2], [&](int z) { gaussSeidelLevelPlane(L, colour, z, buffers.local().data()); });
}

// Residual b - A x of planes 2Z and 2Z + 1 of level L, summed over the aggregates into plane Z of C.
FIBSEG_PLANE_KERNEL void restrictLevelPlanes(const Level& L, Level& C, int Z, float* __restrict res) {
  std::fill(C.b.begin() + C.stride(2) * Z, C.b.begin() + C.stride(2) * (Z + 1), 0.0f);
  res[L.n[0]] = 0.0f;  // an odd row's last aggregate has one cell
  for (int z = 2 * Z; z < std::min(L.n[2], 2 * Z + 2); ++z)
    for (int y = 0; y < L.n[1]; ++y) {
      const std::size_t row = L.stride(2) * z + L.stride(1) * y;
      const float* xr = L.x() + row;
      const float* br = L.b.data() + row;
      const float* d = L.diag.data() + row;
      levelRow(L, row, [&](int j, float, float s) { res[j] = br[j] - (d[j] * xr[j] - s); });
      float* coarse = C.b.data() + C.stride(2) * Z + C.stride(1) * (y / 2);
      for (int k = 0; k < C.n[0]; ++k) coarse[k] += res[2 * k] + res[2 * k + 1];
    }
}

// L.x += kCoarseScale * C.x (piecewise constant) on plane z, cells only.
FIBSEG_PLANE_KERNEL void prolongLevelPlane(Level& L, const Level& C, int z) {
  for (int y = 0; y < L.n[1]; ++y) {
    const std::size_t row = L.stride(2) * z + L.stride(1) * y;
    const float* coarse = C.x() + C.stride(2) * (z / 2) + C.stride(1) * (y / 2);
    const float* d = L.diag.data() + row;
    float* xr = L.x() + row;
#pragma omp simd
    for (int j = 0; j < L.n[0]; ++j) xr[j] += float(d[j] > 0.0f) * kCoarseScale * coarse[j / 2];
  }
}

// The coarse grid of size n, conductances 0; finishCoarse() sets its diagonal from the
// sums of the fine diagonals (less twice the conductances inside each aggregate).
Level emptyCoarse(const int n[3]) {
  Level c;
  for (int a = 0; a < 3; ++a) c.n[a] = (n[a] + 1) / 2;
  const std::size_t cells = c.size();
  c.pad = c.stride(2) + 1;
  for (int a = 0; a < 3; ++a) c.conductance[a].assign(cells + 2 * c.pad, 0.0f);
  return c;
}

void finishCoarse(Level& c, const std::vector<double>& diag) {
  const std::size_t cells = c.size();
  c.diag.resize(cells);
  for (std::size_t I = 0; I < cells; ++I) c.diag[I] = diag[I] > 1e-12 ? float(diag[I]) : 0.0f;
  c.b.assign(cells, 0.0f);
  c.solution.assign(cells + 2 * c.pad, 0.0f);
}

// The 2x2x2 aggregation of a grid of size n whose conductance along a from cell i is
// conductance(a, i) and whose diagonal is diagonal(i).
template <class Conductance, class Diagonal>
Level coarsen(const int n[3], Conductance conductance, Diagonal diagonal) {
  Level c = emptyCoarse(n);
  std::vector<double> diag(c.size(), 0.0);
  // Each coarse plane Z gathers fine planes 2Z and 2Z+1 only, so coarse planes run in parallel.
  tbb::parallel_for(0, c.n[2], [&](int Z) {
    for (int z = 2 * Z; z < std::min(n[2], 2 * Z + 2); ++z)
      for (int y = 0; y < n[1]; ++y)
        for (int x = 0; x < n[0]; ++x) {
          const std::size_t i = std::size_t(n[0]) * (y + std::size_t(n[1]) * z) + x;
          const std::size_t I = c.stride(2) * Z + c.stride(1) * (y / 2) + x / 2;
          diag[I] += diagonal(i);
          const int c3[3] = {x, y, z};
          for (int a = 0; a < 3; ++a) {
            if (c3[a] + 1 >= n[a]) continue;
            const float k = conductance(a, i);
            if (c3[a] % 2 == 0) diag[I] -= 2.0 * k;  // both cells in the same aggregate
            else c.c(a)[I] += k;
          }
        }
  });
  finishCoarse(c, diag);
  return c;
}

// coarsen() for fine plane z into coarse plane z / 2, on whole rows from the flag bits (the
// generic per-voxel version was ~0.2 s of CPU on 256^3). `f` holds a row plus one flag 0 (an odd
// row's last aggregate has one voxel).
FIBSEG_PLANE_KERNEL void coarsenFinePlane(const FineGrid& F, Level& C, double* diag, int z, std::uint8_t* __restrict f) {
  const double gx = F.g[0], gy = F.g[1], gz = F.g[2], gEnd = F.endConductance;
  // Along y and z a pair of fine rows is inside the aggregate from the even row (its + neighbour
  // conductance is subtracted twice from the diagonal) and crosses to the next one from the odd.
  const double evenZ = z % 2 == 0 ? 1.0 : 0.0;
  for (int y = 0; y < F.n[1]; ++y) {
    const std::size_t row = F.st[2] * z + F.st[1] * y;
    std::copy(F.flags.begin() + row, F.flags.begin() + row + F.n[0], f);
    f[F.n[0]] = 0;
    const std::size_t I = C.stride(2) * (z / 2) + C.stride(1) * (y / 2);
    double* __restrict d = diag + I;
    float* __restrict c0 = C.c(0) + I;
    float* __restrict c1 = C.c(1) + I;
    float* __restrict c2 = C.c(2) + I;
    const double evenY = y % 2 == 0 ? 1.0 : 0.0;
#pragma omp simd
    for (int k = 0; k < C.n[0]; ++k) {
      const int b0 = f[2 * k], b1 = f[2 * k + 1];
      const auto bit = [](int b, int k) { return double((b >> k) & 1); };
      const auto fineDiag = [&](int b) {
        return gx * (bit(b, 0) + bit(b, 1)) + gy * (bit(b, 2) + bit(b, 3)) + gz * (bit(b, 4) + bit(b, 5)) +
               gEnd * bit(b, 7);
      };
      const double y2 = gy * (bit(b0, 2) + bit(b1, 2)), z2 = gz * (bit(b0, 4) + bit(b1, 4));
      d[k] += fineDiag(b0) + fineDiag(b1) - 2.0 * gx * bit(b0, 0) - 2.0 * evenY * y2 - 2.0 * evenZ * z2;
      c0[k] += float(gx * bit(b1, 0));
      c1[k] += float((1.0 - evenY) * y2);
      c2[k] += float((1.0 - evenZ) * z2);
    }
  }
}

Level coarsenFine(const FineGrid& F) {
  Level c = emptyCoarse(F.n);
  std::vector<double> diag(c.size(), 0.0);
  tbb::enumerable_thread_specific<std::vector<std::uint8_t>> buffers([&] { return std::vector<std::uint8_t>(F.n[0] + 1); });
  // Each coarse plane gathers fine planes 2Z and 2Z + 1 only, so coarse planes run in parallel.
  tbb::parallel_for(0, c.n[2], [&](int Z) {
    for (int z = 2 * Z; z < std::min(F.n[2], 2 * Z + 2); ++z) coarsenFinePlane(F, c, diag.data(), z, buffers.local().data());
  });
  finishCoarse(c, diag);
  return c;
}

Level coarsenLevel(const Level& f) {
  return coarsen(
      f.n, [&](int a, std::size_t i) { return f.c(a)[i]; }, [&](std::size_t i) { return double(f.diag[i]); });
}

// x = one multigrid cycle's approximation of A^-1 b on coarse level l; x starts at 0.
void coarseCycle(std::vector<Level>& levels, std::size_t l) {
  Level& L = levels[l];
  std::fill(L.solution.begin(), L.solution.end(), 0.0f);
  if (l + 1 == levels.size()) {
    for (int s = 0; s < kCoarsestSweeps; ++s) {
      gaussSeidelColour(L, s & 1);
      gaussSeidelColour(L, 1 - (s & 1));
    }
    return;
  }
  gaussSeidelColour(L, 0);
  gaussSeidelColour(L, 1);
  Level& C = levels[l + 1];
  tbb::enumerable_thread_specific<std::vector<float>> buffers([&] { return std::vector<float>(L.n[0] + 1); });
  tbb::parallel_for(0, C.n[2], [&](int Z) { restrictLevelPlanes(L, C, Z, buffers.local().data()); });
  coarseCycle(levels, l + 1);
  tbb::parallel_for(0, L.n[2], [&](int z) { prolongLevelPlane(L, C, z); });
  gaussSeidelColour(L, 1);
  gaussSeidelColour(L, 0);
}

// The first red sweep from x = 0 sees no neighbours: x = b / diag on red voxels, 0 elsewhere. CG's
// residual update b -= alpha q is done here too, row by row (it changes no neighbour's input), so
// that it costs no pass over b and q of its own.
FIBSEG_PLANE_KERNEL void firstRedPlane(const FineGrid& F, float* b, const float* q, float alpha, float* x, int z) {
  for (int y = 0; y < F.n[1]; ++y) {
    const std::size_t row = F.st[2] * z + F.st[1] * y;
    const int red = (y + z) & 1;
    float* __restrict xr = x + row;
    float* __restrict br = b + row;
    const float* __restrict qr = q + row;
    if (alpha != 0) {
#pragma omp simd
      for (int j = 0; j < F.n[0]; ++j) br[j] -= alpha * qr[j];
    }
    // Only the diagonal: the neighbouring planes' b may be being updated by other threads.
    stencilRow<false>(F, b, row, [&](int j, float diag, float) { xr[j] = float((j & 1) == red) * br[j] / diag; });
  }
}

// Residual b - A x of fine plane z, summed over the aggregates into coarse plane z / 2 (which the
// even plane clears first, so the planes of a pair must come in order).
FIBSEG_PLANE_KERNEL void restrictPlane(const FineGrid& F, const float* b, const float* x, Level& C, int z,
                                       float* __restrict res) {
  float* plane = C.b.data() + C.stride(2) * (z / 2);
  if (z % 2 == 0) std::fill(plane, plane + C.stride(2), 0.0f);
  res[F.n[0]] = 0.0f;  // an odd row's last aggregate has one voxel
  for (int y = 0; y < F.n[1]; ++y) {
    const std::size_t row = F.st[2] * z + F.st[1] * y;
    const float* xr = x + row;
    const float* br = b + row;
    stencilRow(F, x, row, [&](int j, float diag, float off) { res[j] = br[j] - (diag * xr[j] - off); });
    float* coarse = plane + C.stride(1) * (y / 2);
    for (int k = 0; k < C.n[0]; ++k) coarse[k] += res[2 * k] + res[2 * k + 1];
  }
}

// x += kCoarseScale * the coarse correction (piecewise constant) on plane z.
FIBSEG_PLANE_KERNEL void prolongPlane(const FineGrid& F, const Level& C, float* x, int z) {
  for (int y = 0; y < F.n[1]; ++y) {
    const std::size_t row = F.st[2] * z + F.st[1] * y;
    const float* coarse = C.x() + C.stride(2) * (z / 2) + C.stride(1) * (y / 2);
    const std::uint8_t* f = F.flags.data() + row;
    float* xr = x + row;
#pragma omp simd
    for (int j = 0; j < F.n[0]; ++j) xr[j] += float((f[j] >> 6) & 1) * kCoarseScale * coarse[j / 2];
  }
}

// Runs three plane operations over z planes 0 .. nz - 1 where first(z) needs nothing, second(z)
// reads what first wrote on planes z - 1 .. z + 1 and must come before first's output there is
// overwritten by third, and third(z) reads what second wrote on planes z - 1 .. z + 1; returns the
// sum of third's results. Run one after the other, each is a pass over the volume (x, b and the
// flags, ~220 MB on 256^3, read from memory three times). Instead each chunk of z planes runs them
// as a wavefront, first(k), second(k - 1), third(k - 2), so the planes are still in cache when the
// next operation reads them; the planes at a chunk's ends, which depend on the neighbouring chunk,
// wait for a second and a third parallel step. third() runs in increasing z within a chunk.
template <class First, class Second, class Third>
double wavefront(int nz, First first, Second second, Third third) {
  constexpr int kChunk = 16;  // even: a coarse plane's two fine planes stay in one chunk
  const int chunks = (nz + kChunk - 1) / kChunk;
  // Interior planes of chunk [z0, z1): second on z0 + 1 .. z1 - 2, third on z0 + 2 .. z1 - 3.
  const auto secondInside = [](int z, int z0, int z1) { return z >= z0 + 1 && z <= z1 - 2; };
  const auto thirdInside = [](int z, int z0, int z1) { return z >= z0 + 2 && z <= z1 - 3; };
  tbb::enumerable_thread_specific<double> sums(0.0);
  const auto forChunks = [&](auto step) {
    tbb::parallel_for(0, chunks, [&](int c) { step(c * kChunk, std::min(nz, (c + 1) * kChunk)); });
  };
  forChunks([&](int z0, int z1) {
    double& sum = sums.local();
    for (int k = z0; k < z1 + 2; ++k) {
      if (k < z1) first(k);
      if (secondInside(k - 1, z0, z1)) second(k - 1);
      if (thirdInside(k - 2, z0, z1)) sum += third(k - 2);
    }
  });
  forChunks([&](int z0, int z1) {
    for (int z = z0; z < z1; ++z)
      if (!secondInside(z, z0, z1)) second(z);
  });
  forChunks([&](int z0, int z1) {
    double& sum = sums.local();
    for (int z = z0; z < z1; ++z)
      if (!thirdInside(z, z0, z1)) sum += third(z);
  });
  return sums.combine(std::plus<>());
}

// b -= alpha q, then x = the preconditioner applied to b on the finest grid (the same cycle, x
// starts at 0); returns dot(b, x). Pre-smoothing: red (from 0), black, then the restriction of
// the residual; post-smoothing: the coarse correction, black, red (symmetric, as CG needs).
double precondition(const FineGrid& F, std::vector<Level>& levels, float* b, const float* q, float alpha, float* x) {
  Level& C = levels[0];
  tbb::enumerable_thread_specific<std::vector<float>> buffers([&] { return std::vector<float>(F.n[0] + 1); });
  wavefront(
      F.n[2], [&](int z) { firstRedPlane(F, b, q, alpha, x, z); },
      [&](int z) { gaussSeidelPlane(F, b, x, 1, z, buffers.local().data(), false); },
      [&](int z) {
        restrictPlane(F, b, x, C, z, buffers.local().data());
        return 0.0;
      });
  coarseCycle(levels, 0);
  return wavefront(
      F.n[2], [&](int z) { prolongPlane(F, C, x, z); },
      [&](int z) { gaussSeidelPlane(F, b, x, 1, z, buffers.local().data(), false); },
      [&](int z) { return gaussSeidelPlane(F, b, x, 0, z, buffers.local().data(), true); });
}

// r = b - A x with the products and sums in double. Why: A is a Laplacian (diagonal ~ 6 g) whose
// smooth modes have eigenvalues ~ g (pi / n)^2, so A p in float loses ~ eps * kappa of its value to
// cancellation (about 1 % on a 512-voxel-long axis). The residual CG updates (r -= alpha A p) then
// drifts from the true one: it shrinks by 20 orders while the fluxes stay several % apart, and
// once it is far below float rounding the iteration blows up (p'Ap = NaN). Recomputing it from x
// (exact in double, x itself being float) and restarting CG is iterative refinement: each restart
// gains the ~2 digits the float inner solve can give.
FIBSEG_PLANE_KERNEL void trueResidualPlane(const FineGrid& F, const float* x, float* r, int z) {
  const double gx = F.g[0], gy = F.g[1], gz = F.g[2], gEnd = F.endConductance, boundary = F.boundary;
  const std::ptrdiff_t sy = std::ptrdiff_t(F.st[1]), sz = std::ptrdiff_t(F.st[2]);
  for (int y = 0; y < F.n[1]; ++y) {
    const std::size_t row = F.st[2] * z + F.st[1] * y;
    const std::uint8_t* __restrict f = F.flags.data() + row;
    const float* c = x + row;
    float* __restrict out = r + row;
    // The fixed concentration 1 beyond the inlet face (voxels at coordinate 0 along the axis).
    const double rowInlet = (F.axis == Y && y == 0) || (F.axis == Z && z == 0) ? boundary : 0.0;
#pragma omp simd
    for (int j = 0; j < F.n[0]; ++j) {
      const int b = f[j];
      const double px = b & 1, mx = (b >> 1) & 1, py = (b >> 2) & 1, my = (b >> 3) & 1, pz = (b >> 4) & 1,
                   mz = (b >> 5) & 1, in = (b >> 6) & 1, end = b >> 7;
      const double inlet = F.axis == X ? (j == 0 ? boundary : 0.0) : rowInlet;
      const double s = inlet + gx * (px * double(c[j + 1]) + mx * double(c[j - 1])) +
                       gy * (py * double(c[j + sy]) + my * double(c[j - sy])) +
                       gz * (pz * double(c[j + sz]) + mz * double(c[j - sz]));
      const double diag = gx * (px + mx) + gy * (py + my) + gz * (pz + mz) + gEnd * end;
      out[j] = float(in * (s - diag * double(c[j])));
    }
  }
}

void trueResidual(const FineGrid& F, const float* x, float* r) {
  tbb::parallel_for(0, F.n[2], [&](int z) { trueResidualPlane(F, x, r, z); });
}

// Flux through the inlet (index 0), every plane between voxel layers and the outlet (index n).
using Planes = std::vector<double>;

// Adds plane z's part of the fluxes of u to p[0 .. n], the inlet at concentration `inlet` (1 for
// the solution; 0 for the linear part, flux(x + alpha p) = flux(x) + alpha flux0(p)).
FIBSEG_PLANE_KERNEL void fluxPlane(const FineGrid& F, const float* u, int z, double inlet, double* p,
                                   float* __restrict along) {
  const int axis = F.axis, n = F.n[axis];
  const std::size_t st = F.st[axis];
  const float g = F.g[axis];
  for (int y = 0; y < F.n[1]; ++y) {
    const std::size_t row = F.st[2] * z + F.st[1] * y;
    const std::uint8_t* f = F.flags.data() + row;
    const float* c = u + row;
    float* a = along;
    // Flux from each voxel to its + neighbour along the axis.
#pragma omp simd
    for (int j = 0; j < F.n[0]; ++j) a[j] = g * float((f[j] >> (2 * axis)) & 1) * (c[j] - c[j + st]);
    if (axis == X) {
      for (int j = 0; j < F.n[0]; ++j) p[j + 1] += a[j];
    } else {
      float rowSum = 0;
#pragma omp simd reduction(+ : rowSum)
      for (int j = 0; j < F.n[0]; ++j) rowSum += a[j];
      p[(axis == Y ? y : z) + 1] += rowSum;
    }
    // The ends: along x the first and last voxel of every row, along y or z whole rows.
    const int c3[3] = {0, y, z};
    const auto end = [&](int j, int k) {
      if (!(f[j] & kAtEnd)) return;
      if (k == 0) p[0] += double(F.boundary) * (inlet - c[j]);
      if (k == n - 1) p[n] += double(F.boundary) * c[j];
    };
    if (axis == X) {
      end(0, 0);
      if (n > 1) end(n - 1, n - 1);
    } else if (c3[axis] == 0 || c3[axis] == n - 1) {
      for (int j = 0; j < F.n[0]; ++j) end(j, c3[axis]);
    }
  }
}

Planes addPlanes(Planes a, const Planes& b) {
  for (std::size_t k = 0; k < a.size(); ++k) a[k] += b[k];
  return a;
}

// The fluxes of the solution u, summed in parallel over z planes, each adding to its own copy of
// the per-plane totals.
Planes fluxes(const FineGrid& F, const float* u) {
  return tbb::parallel_reduce(
      tbb::blocked_range<int>(0, F.n[2]), Planes(F.n[F.axis] + 1, 0.0),
      [&](const tbb::blocked_range<int>& r, Planes p) {
        std::vector<float> along(F.n[0]);
        for (int z = r.begin(); z < r.end(); ++z) fluxPlane(F, u, z, 1.0, p.data(), along.data());
        return p;
      },
      addPlanes);
}

// (max - min) / mean of the fluxes.
double spreadOf(const Planes& planes, double* mean = nullptr) {
  double lo = planes[0], hi = planes[0], sum = 0;
  for (double p : planes) lo = std::min(lo, p), hi = std::max(hi, p), sum += p;
  const double m = sum / double(planes.size());
  if (mean) *mean = m;
  return m > 0 ? (hi - lo) / m : 1.0;
}

struct Product {
  double uAu = 0;  // dot(u, A u)
  Planes flux;     // flux0(u)
};

// out = A u and the linear part of the fluxes of u, in one pass over u (the flux reads the rows the
// stencil has just brought into cache): CG then updates the solution's fluxes by alpha flux0(p)
// instead of reading x and the flags again every iteration (checked against the true fluxes of
// x before it stops, see tortuosity()).
Product multiplyFine(const FineGrid& F, const float* u, float* out) {
  Product empty;
  empty.flux.assign(F.n[F.axis] + 1, 0.0);
  return tbb::parallel_reduce(
      tbb::blocked_range<int>(0, F.n[2]), empty,
      [&](const tbb::blocked_range<int>& r, Product p) {
        std::vector<float> along(F.n[0]);
        for (int z = r.begin(); z < r.end(); ++z) {
          p.uAu += multiplyPlane(F, u, out, z);
          fluxPlane(F, u, z, 0.0, p.flux.data(), along.data());
        }
        return p;
      },
      [](Product a, const Product& b) {
        a.uAu += b.uAu;
        a.flux = addPlanes(std::move(a.flux), b.flux);
        return a;
      });
}

// The flags of plane z from the percolating mask (0 or 1 per voxel), a row at a time; a row
// outside the volume reads as `zeros`.
FIBSEG_PLANE_KERNEL void flagPlane(FineGrid& F, const std::uint8_t* mask, const std::uint8_t* zeros, int z) {
  const int n = F.n[0], axis = F.axis;
  for (int y = 0; y < F.n[1]; ++y) {
    const std::size_t row = F.st[2] * z + F.st[1] * y;
    const std::uint8_t* __restrict m = mask + row;
    const std::uint8_t* __restrict yp = y + 1 < F.n[1] ? m + F.st[1] : zeros;
    const std::uint8_t* __restrict ym = y > 0 ? m - F.st[1] : zeros;
    const std::uint8_t* __restrict zp = z + 1 < F.n[2] ? m + F.st[2] : zeros;
    const std::uint8_t* __restrict zm = z > 0 ? m - F.st[2] : zeros;
    std::uint8_t* __restrict out = F.flags.data() + row;
    const bool rowAtEnd = (axis == Y && (y == 0 || y == F.n[1] - 1)) || (axis == Z && (z == 0 || z == F.n[2] - 1));
    const auto flag = [&](int j, unsigned xPlus, unsigned xMinus, bool atEnd) {
      const unsigned f = kInDomain | (atEnd ? kAtEnd : 0u) | xPlus | xMinus << 1 | unsigned(yp[j]) << 2 |
                         unsigned(ym[j]) << 3 | unsigned(zp[j]) << 4 | unsigned(zm[j]) << 5;
      return std::uint8_t(f & (0u - unsigned(m[j])));  // 0 outside the domain
    };
    out[0] = flag(0, n > 1 ? m[1] : 0u, 0u, rowAtEnd || axis == X);
#pragma omp simd
    for (int j = 1; j < n - 1; ++j) out[j] = flag(j, m[j + 1], m[j - 1], rowAtEnd);
    if (n > 1) out[n - 1] = flag(n - 1, 0u, m[n - 2], rowAtEnd || axis == X);
  }
}

}  // namespace

std::size_t tortuosityMemoryBytes(const LabelVolume& v) {
  // Finest grid: CG's x, r, p, q, z (float) + 1 flag byte, plus the percolating mask (1 byte) while
  // the flags are built; the coarse grids (3 conductances, diagonal, b, x in float and a double
  // diagonal while built) add (7 * 4) / 7 bytes; the connectivity labelling before (4 + 1 + 1
  // bytes) is less than this.
  return v.voxels() * (5 * sizeof(float) + 2 + 4) + 5 * 2 * std::size_t(v.nx) * v.ny * sizeof(float);
}

TortuosityResult tortuosity(const LabelVolume& v, int phase, int axis, const TortuosityParams& params) {
  TortuosityResult result;
  long long inPhase = 0;
  for (auto p : v.phase) inPhase += p == phase;
  result.volumeFraction = v.voxels() ? double(inPhase) / double(v.voxels()) : 0.0;
  const std::string name = phase < v.phases() ? v.phaseNames[phase] : std::to_string(phase);
  if (inPhase == 0) {
    result.reason = name + " is absent";
    return result;
  }

  FineGrid F;
  F.n[0] = v.nx, F.n[1] = v.ny, F.n[2] = v.nz;
  for (int a = 0; a < 3; ++a) F.st[a] = v.stride(a);
  F.axis = axis;
  long long perc = 0;
  {
    const auto mask = percolatingMask(v, phase, axis);
    for (auto m : mask) perc += m;
    result.percolatingFraction = double(perc) / double(v.voxels());
    if (perc == 0) {
      result.reason = std::string("no cluster of ") + name + " touches both faces normal to " + axisName(axis);
      return result;
    }
    F.flags.resize(v.voxels());
    const std::vector<std::uint8_t> zeros(F.n[0] + 1, 0);
    tbb::parallel_for(0, F.n[2], [&](int z) { flagPlane(F, mask.data(), zeros.data(), z); });
  }

  const auto& s = v.voxelUm;
  for (int a = 0; a < 3; ++a) F.g[a] = float(s[(a + 1) % 3] * s[(a + 2) % 3] / s[a]);
  F.boundary = 2.0f * F.g[axis];  // half a voxel to the fixed concentration
  // A voxel at both ends (a one-voxel-thick volume) has both boundaries.
  const int ends = F.n[axis] == 1 ? 2 : 1;
  F.endConductance = float(ends) * F.boundary;

  std::vector<Level> levels;
  levels.push_back(coarsenFine(F));
  while (levels.back().size() > kCoarsestCells) levels.push_back(coarsenLevel(levels.back()));

  const std::size_t pad = F.st[2] + 1;
  Field x(F.size(), pad), r(F.size(), pad), p(F.size(), pad), q(F.size(), pad), zv(F.size(), pad);
  // The straight-channel profile as first guess: exact for straight channels.
  forEachVoxel(F.n, [&](std::size_t i, int cx, int cy, int cz) {
    const int c3[3] = {cx, cy, cz};
    if (F.flags[i] & kInDomain) x()[i] = float(1.0 - (c3[axis] + 0.5) / F.n[axis]);
  });
  Planes flux;  // of x, set by restart()
  double spread = 1;
  const std::size_t cells = F.size();
  double rz = 0, rzRestart = 0;
  // x += alpha p is deferred to the pass that updates p (one pass over x and p instead of two);
  // `pending` is the alpha not yet applied.
  float pending = 0;
  float *xs = x(), *pw = p();
  const float* zs = zv();
  const auto applyPending = [&] {
    if (pending == 0) return;
    const float alpha = pending;
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, cells, 1 << 16), [&](const tbb::blocked_range<std::size_t>& b) {
      for (std::size_t i = b.begin(); i < b.end(); ++i) xs[i] += alpha * pw[i];
    });
    pending = 0;
  };
  // (Re)starts CG from the true residual of x; false if the preconditioned residual is not a
  // positive number (a breakdown a restart cannot cure).
  const auto restart = [&] {
    applyPending();
    trueResidual(F, x(), r());
    flux = fluxes(F, x());  // drop the drift of the updated fluxes too
    spread = spreadOf(flux);
    rz = rzRestart = precondition(F, levels, r(), q(), 0.0f, zv());
    std::copy(zv(), zv() + cells, p());
    return rz > 0 && std::isfinite(rz);
  };
  bool ok = restart(), fresh = true;  // fresh: no iteration since the last restart
  // Equal fluxes through every plane are necessary, not sufficient: a path whose detours cross no
  // plane normal to the axis (a U turning along another axis) already has them under the linear
  // first guess, though the guess is wrong along the detour. So the residual must have fallen too.
  const double rzFirst = rz;
  const auto solved = [&] { return spread <= params.fluxTolerance && rz <= kStopResidualReduction * rzFirst; };
  for (int it = 1; ok && it <= params.maxIterations && !solved();) {
    const Product pq = multiplyFine(F, p(), q());
    if (!(pq.uAu > 0) || !std::isfinite(pq.uAu)) {
      if (fresh) break;  // breakdown right after a restart: give up (reported below)
      ok = restart(), fresh = true;
      continue;
    }
    fresh = false;
    const float alpha = float(rz / pq.uAu);  // r -= alpha q is done by precondition() below
    pending = alpha;
    for (std::size_t k = 0; k < flux.size(); ++k) flux[k] += double(alpha) * pq.flux[k];
    spread = spreadOf(flux);
    result.iterations = it++;
    if (solved()) {
      // Stop on the fluxes of x itself, not on their update.
      applyPending();
      flux = fluxes(F, x());
      spread = spreadOf(flux);
      if (solved()) break;
    }
    const double rzNew = precondition(F, levels, r(), q(), alpha, zv());
    // Past kRestartReduction the updated residual no longer tracks the true one (see trueResidual).
    if (!(rzNew > kRestartReduction * rzRestart) || !std::isfinite(rzNew)) {
      ok = restart(), fresh = true;
      continue;
    }
    const float beta = float(rzNew / rz);
    rz = rzNew;
    const float a = pending;  // 0 if already applied
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, cells, 1 << 16), [&](const tbb::blocked_range<std::size_t>& b) {
      for (std::size_t i = b.begin(); i < b.end(); ++i) {
        xs[i] += a * pw[i];
        pw[i] = zs[i] + beta * pw[i];
      }
    });
    pending = 0;
  }
  applyPending();
  flux = fluxes(F, x());  // what is reported is the fluxes of x itself
  double meanFlux = 0;
  spread = spreadOf(flux, &meanFlux);
  result.fluxSpread = spread;
  if (spread > params.fluxTolerance) {
    result.reason = "did not converge: flux through the planes differs by " + std::to_string(spread * 100) +
                    " % after " + std::to_string(result.iterations) + " iterations";
    return result;
  }
  const int b1 = (axis + 1) % 3, b2 = (axis + 2) % 3;
  const double length = v.size(axis) * s[axis];
  const double area = v.size(b1) * s[b1] * v.size(b2) * s[b2];
  const double relative = meanFlux * length / area;  // D_eff / D with unit concentration drop
  result.relativeDiffusivity = relative;
  result.tau = result.volumeFraction / relative;
  result.tauPercolating = result.percolatingFraction / relative;
  result.macmullin = *result.tau / result.volumeFraction;
  return result;
}

}  // namespace fibseg::measure

// ---- The variable-coefficient network solve (network_solver.hpp), on the same multigrid ----
// The finest grid is a Level (explicit conductances, as the coarse grids) instead of the flag
// grid: the per-phase diffusivities and the reactive sinks need a conductance per face. The
// preconditioner is coarseCycle() from the finest level down (a symmetric V-cycle); CG runs in
// double so that no restart is needed.
#include "fibseg/measure/network_solver.hpp"

namespace fibseg::measure {

ConductanceNetwork ConductanceNetwork::zeros(int nx, int ny, int nz) {
  ConductanceNetwork net;
  net.n[0] = nx, net.n[1] = ny, net.n[2] = nz;
  for (auto& c : net.toNext) c.assign(net.size(), 0.0f);
  net.toOne.assign(net.size(), 0.0f);
  net.toZero.assign(net.size(), 0.0f);
  return net;
}

std::size_t networkSolverMemoryBytes(std::size_t voxels) {
  // Fine level: 3 conductances, diagonal, b, x (float); CG: x, r, p, q, z (double); coarse levels ~1/7.
  return voxels * (6 * sizeof(float) + 5 * sizeof(double)) * 8 / 7 + voxels * 3 * sizeof(float);
}

// The finest level of a conductance network, shared by the real and the complex solver: its
// conductances (0 from the last cell along each axis) and, added to diag, each cell's sum of the
// conductances to its neighbours.
namespace {
void fillFinestLevel(Level& F, const ConductanceNetwork& net, std::vector<double>& diag) {
  const std::size_t cells = net.size();
  for (int a = 0; a < 3; ++a) F.n[a] = net.n[a];
  F.pad = F.stride(2) + 1;
  for (int a = 0; a < 3; ++a) {
    F.conductance[a].assign(cells + 2 * F.pad, 0.0f);
    float* c = F.c(a);
    const std::size_t st = F.stride(a);
    forEachVoxel(F.n, [&](std::size_t i, int x, int y, int z) {
      const int c3[3] = {x, y, z};
      if (c3[a] + 1 < F.n[a]) c[i] = net.toNext[a][i];
    });
    forEachVoxel(F.n, [&](std::size_t i, int x, int y, int z) {
      const int c3[3] = {x, y, z};
      double d = c[i];
      if (c3[a] > 0) d += c[i - st];
      diag[i] += d;
    });
  }
}
}  // namespace

NetworkSolution solveNetwork(const ConductanceNetwork& net, double tolerance, int maxIterations) {
  NetworkSolution out;
  const std::size_t cells = net.size();
  out.concentration.assign(cells, 0.0);
  std::vector<Level> levels(1);
  levels.reserve(64);  // F stays valid while the coarse levels are appended
  Level& F = levels[0];
  std::vector<double> diag(cells, 0.0), b(cells, 0.0);
  fillFinestLevel(F, net, diag);
  double bNorm = 0;
  for (std::size_t i = 0; i < cells; ++i) {
    diag[i] += double(net.toOne[i]) + double(net.toZero[i]);
    b[i] = net.toOne[i];
    bNorm += b[i] * b[i];
  }
  bNorm = std::sqrt(bNorm);
  finishCoarse(F, diag);  // diag (0 = no unknown), b and x of the finest level
  if (bNorm == 0) {       // nothing is connected to the inlet: the solution is 0
    out.converged = true;
    return out;
  }
  while (levels.back().size() > kCoarsestCells) levels.push_back(coarsenLevel(levels.back()));

  const std::size_t pad = F.pad;
  const auto padded = [&] { return std::vector<double>(cells + 2 * pad, 0.0); };
  std::vector<double> x = padded(), r = padded(), p = padded(), q = padded(), zv = padded();
  double *X = x.data() + pad, *R = r.data() + pad, *P = p.data() + pad, *Q = q.data() + pad, *Z = zv.data() + pad;
  const std::ptrdiff_t sy = std::ptrdiff_t(F.stride(1)), sz = std::ptrdiff_t(F.stride(2));
  // q = A u in double (a voxel with no unknown has diag 0 and conductances 0: q = 0 there).
  const auto multiply = [&](const double* u, double* qOut) {
    return tbb::parallel_reduce(
        tbb::blocked_range<int>(0, F.n[2]), 0.0,
        [&](const tbb::blocked_range<int>& range, double s) {
          for (int z = range.begin(); z < range.end(); ++z)
            for (int y = 0; y < F.n[1]; ++y) {
              const std::size_t row = F.stride(2) * z + F.stride(1) * y;
              const float *c0 = F.c(0) + row, *c1 = F.c(1) + row, *c2 = F.c(2) + row;
              const double* ur = u + row;
              double* o = qOut + row;
              for (int j = 0; j < F.n[0]; ++j) {
                const double off = double(c0[j]) * ur[j + 1] + double(c0[j - 1]) * ur[j - 1] +
                                   double(c1[j]) * ur[j + sy] + double(c1[j - sy]) * ur[j - sy] +
                                   double(c2[j]) * ur[j + sz] + double(c2[j - sz]) * ur[j - sz];
                o[j] = diag[row + j] * ur[j] - off;
                s += ur[j] * o[j];
              }
            }
          return s;
        },
        std::plus<>());
  };
  // z = M r (one V-cycle in float); returns dot(r, z).
  // Sum over the voxels of f(begin, end), in parallel blocks.
  const auto sumOver = [&](auto f) {
    return tbb::parallel_reduce(
        tbb::blocked_range<std::size_t>(0, cells, 1 << 15), 0.0,
        [&](const tbb::blocked_range<std::size_t>& r, double s) { return s + f(r.begin(), r.end()); }, std::plus<>());
  };
  const auto precondition = [&] {
    sumOver([&](std::size_t from, std::size_t to) {
      for (std::size_t i = from; i < to; ++i) F.b[i] = float(R[i]);
      return 0.0;
    });
    coarseCycle(levels, 0);
    const float* fx = F.x();
    return sumOver([&](std::size_t from, std::size_t to) {
      double s = 0;
      for (std::size_t i = from; i < to; ++i) Z[i] = diag[i] > 0 ? double(fx[i]) : 0.0, s += R[i] * Z[i];
      return s;
    });
  };
  for (std::size_t i = 0; i < cells; ++i) R[i] = b[i];
  double rz = precondition();
  std::copy(Z, Z + cells, P);
  double rNorm = bNorm;
  for (int it = 1; it <= maxIterations; ++it) {
    const double pq = multiply(P, Q);
    if (!(pq > 0) || !std::isfinite(pq)) break;
    const double alpha = rz / pq;
    const double rr = sumOver([&](std::size_t from, std::size_t to) {
      double s = 0;
      for (std::size_t i = from; i < to; ++i) X[i] += alpha * P[i], R[i] -= alpha * Q[i], s += R[i] * R[i];
      return s;
    });
    out.iterations = it;
    rNorm = std::sqrt(rr);
    if (rNorm <= tolerance * bNorm) break;
    const double rzNew = precondition();
    if (!(rzNew > 0) || !std::isfinite(rzNew)) break;
    const double beta = rzNew / rz;
    rz = rzNew;
    sumOver([&](std::size_t from, std::size_t to) {
      for (std::size_t i = from; i < to; ++i) P[i] = Z[i] + beta * P[i];
      return 0.0;
    });
  }
  // The residual of the returned solution itself.
  multiply(X, Q);
  double rr = 0;
  for (std::size_t i = 0; i < cells; ++i) {
    const double res = diag[i] > 0 ? b[i] - Q[i] : 0.0;
    rr += res * res;
  }
  out.relativeResidual = std::sqrt(rr) / bNorm;
  out.converged = out.relativeResidual <= tolerance * 1.01;
  std::copy(X, X + cells, out.concentration.begin());
  return out;
}

}  // namespace fibseg::measure

// ---- The same network at one frequency (network_solver.hpp): complex potentials ----
// A = L + j omega C is complex symmetric (not Hermitian): conjugate-orthogonal CG (COCG, van der
// Vorst & Melissen 1990) is CG with the unconjugated product u^T v. The preconditioner is the real
// multigrid of L + omega C applied to the real and the imaginary parts (a real symmetric operator,
// so the preconditioned system stays complex symmetric).
#include <complex>

namespace fibseg::measure {

ComplexNetworkSolution solveNetworkAtFrequency(const ConductanceNetwork& net, const std::vector<float>& capacitance,
                                               double omega, double tolerance, int maxIterations) {
  using cd = std::complex<double>;
  ComplexNetworkSolution out;
  const std::size_t cells = net.size();
  out.potential.assign(cells, cd(0));
  std::vector<Level> levels(1);
  levels.reserve(64);  // F stays valid while the coarse levels are appended
  Level& F = levels[0];
  std::vector<double> diag(cells, 0.0), shifted(cells, 0.0);
  fillFinestLevel(F, net, diag);
  double bNorm = 0;
  for (std::size_t i = 0; i < cells; ++i) {
    diag[i] += double(net.toOne[i]) + double(net.toZero[i]);
    shifted[i] = diag[i] > 0 ? diag[i] + omega * capacitance[i] : 0.0;
    bNorm += double(net.toOne[i]) * net.toOne[i];
  }
  bNorm = std::sqrt(bNorm);
  finishCoarse(F, shifted);
  if (bNorm == 0) {
    out.converged = true;
    return out;
  }
  while (levels.back().size() > kCoarsestCells) levels.push_back(coarsenLevel(levels.back()));

  const std::size_t pad = F.pad;
  const auto padded = [&] { return std::vector<cd>(cells + 2 * pad, cd(0)); };
  std::vector<cd> x = padded(), r = padded(), p = padded(), q = padded(), zv = padded();
  cd *X = x.data() + pad, *R = r.data() + pad, *P = p.data() + pad, *Q = q.data() + pad, *Z = zv.data() + pad;
  const std::ptrdiff_t sy = std::ptrdiff_t(F.stride(1)), sz = std::ptrdiff_t(F.stride(2));
  const auto sumOver = [&](auto f) {
    return tbb::parallel_reduce(
        tbb::blocked_range<std::size_t>(0, cells, 1 << 15), cd(0),
        [&](const tbb::blocked_range<std::size_t>& range, cd s) { return s + f(range.begin(), range.end()); },
        std::plus<>());
  };
  // q = A u; returns u^T q.
  const auto multiply = [&](const cd* u, cd* qOut) {
    return tbb::parallel_reduce(
        tbb::blocked_range<int>(0, F.n[2]), cd(0),
        [&](const tbb::blocked_range<int>& range, cd s) {
          for (int z = range.begin(); z < range.end(); ++z)
            for (int y = 0; y < F.n[1]; ++y) {
              const std::size_t row = F.stride(2) * z + F.stride(1) * y;
              const float *c0 = F.c(0) + row, *c1 = F.c(1) + row, *c2 = F.c(2) + row;
              const cd* ur = u + row;
              cd* o = qOut + row;
              for (int j = 0; j < F.n[0]; ++j) {
                const cd off = double(c0[j]) * ur[j + 1] + double(c0[j - 1]) * ur[j - 1] + double(c1[j]) * ur[j + sy] +
                               double(c1[j - sy]) * ur[j - sy] + double(c2[j]) * ur[j + sz] +
                               double(c2[j - sz]) * ur[j - sz];
                const std::size_t i = row + j;
                o[j] = cd(diag[i], diag[i] > 0 ? omega * capacitance[i] : 0.0) * ur[j] - off;
                s += ur[j] * o[j];
              }
            }
          return s;
        },
        std::plus<>());
  };
  std::vector<float> realPart(cells);
  // z = M r, real and imaginary parts through one V-cycle each; returns r^T z.
  const auto precondition = [&] {
    for (int part = 0; part < 2; ++part) {
      sumOver([&](std::size_t from, std::size_t to) {
        for (std::size_t i = from; i < to; ++i) F.b[i] = float(part == 0 ? R[i].real() : R[i].imag());
        return cd(0);
      });
      coarseCycle(levels, 0);
      const float* fx = F.x();
      sumOver([&](std::size_t from, std::size_t to) {
        for (std::size_t i = from; i < to; ++i) {
          const double v = diag[i] > 0 ? double(fx[i]) : 0.0;
          if (part == 0) realPart[i] = float(v);
          else Z[i] = cd(realPart[i], v);
        }
        return cd(0);
      });
    }
    return sumOver([&](std::size_t from, std::size_t to) {
      cd s = 0;
      for (std::size_t i = from; i < to; ++i) s += R[i] * Z[i];
      return s;
    });
  };
  for (std::size_t i = 0; i < cells; ++i) R[i] = net.toOne[i];
  cd rho = precondition();
  std::copy(Z, Z + cells, P);
  for (int it = 1; it <= maxIterations; ++it) {
    const cd pq = multiply(P, Q);
    if (std::abs(pq) == 0 || !std::isfinite(pq.real()) || !std::isfinite(pq.imag())) break;
    const cd alpha = rho / pq;
    const double rr = sumOver([&](std::size_t from, std::size_t to) {
                        double s = 0;
                        for (std::size_t i = from; i < to; ++i) X[i] += alpha * P[i], R[i] -= alpha * Q[i], s += std::norm(R[i]);
                        return cd(s);
                      }).real();
    out.iterations = it;
    if (std::sqrt(rr) <= tolerance * bNorm) break;
    const cd rhoNew = precondition();
    if (std::abs(rhoNew) == 0 || !std::isfinite(rhoNew.real())) break;
    const cd beta = rhoNew / rho;
    rho = rhoNew;
    sumOver([&](std::size_t from, std::size_t to) {
      for (std::size_t i = from; i < to; ++i) P[i] = Z[i] + beta * P[i];
      return cd(0);
    });
  }
  multiply(X, Q);
  double rr = 0;
  for (std::size_t i = 0; i < cells; ++i)
    if (diag[i] > 0) rr += std::norm(cd(net.toOne[i]) - Q[i]);
  out.relativeResidual = std::sqrt(rr) / bNorm;
  out.converged = out.relativeResidual <= tolerance * 1.01;
  std::copy(X, X + cells, out.potential.begin());
  return out;
}

}  // namespace fibseg::measure
