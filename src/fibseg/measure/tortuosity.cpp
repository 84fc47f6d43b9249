// Solver: conjugate gradients preconditioned by one aggregation-multigrid cycle.
// - Finest grid: the percolating voxels only carry flux; one flag byte per voxel says which of its
//   six face neighbours are in the domain, so the finest operator is never stored (its
//   conductances are the three per-axis constants): the solver streams 1 byte of matrix + the
//   float vectors per voxel, which is what bounds its speed on a 2-core machine.
// - Coarse grids aggregate 2x2x2 cells (Galerkin coarse operator of piecewise-constant
//   interpolation: a coarse face's conductance is the sum of the fine conductances crossing it).
// - Red-black Gauss-Seidel in symmetric order (pre: red, black; post: black, red), so the
//   preconditioner is symmetric and CG applies.
// Why hand-written rather than hypre: see bench/README.md (Measure), where both were timed.
#include "fibseg/measure/tortuosity.hpp"

#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <cmath>

#include "fibseg/core/error.hpp"
#include "fibseg/measure/connectivity.hpp"

namespace fibseg::measure {
namespace {

constexpr int kCoarsestCells = 512;
constexpr int kCoarsestSweeps = 40;
// Piecewise-constant interpolation underestimates smooth corrections; scaling them (Braess 1995;
// Notay's aggregation AMG) restores a convergence rate close to classical multigrid.
constexpr float kCoarseScale = 1.8f;
// CG restarts from the true residual once r'M^-1 r has dropped by this factor since the last
// restart: the float inner solve is good for ~3 digits of the residual norm (see trueResidual).
constexpr double kRestartReduction = 1e-6;

// Flag bits of a finest-grid voxel: bit 2a = neighbour at +1 along axis a in the domain,
// bit 2a+1 = neighbour at -1; kInDomain = the voxel itself is an unknown; kAtEnd = it lies on a
// face normal to the axis (conductance to the fixed concentration). A voxel outside the domain
// has flags 0, diagonal 0 and inverse diagonal 0, so every loop below runs without a branch on
// the (random) domain, which costs more than the arithmetic it saves.
constexpr unsigned kInDomain = 1u << 6, kAtEnd = 1u << 7;

// A float field on the finest grid with one plane of zeros on each side, so that the stencil may
// read i +- stride for every voxel and mask the term with the flag bit instead of branching.
struct Field {
  std::vector<float> data;
  std::size_t pad = 0;
  Field(std::size_t n, std::size_t padding) : data(n + 2 * padding, 0.0f), pad(padding) {}
  float* operator()() { return data.data() + pad; }
  const float* operator()() const { return data.data() + pad; }
};

// The finest grid: flags + the per-axis conductance; diagonal and its inverse by flag lookup.
struct FineGrid {
  int n[3] = {0, 0, 0};
  std::size_t st[3] = {0, 0, 0};
  std::vector<std::uint8_t> flags;
  float g[3] = {0, 0, 0};
  int axis = 0;
  float boundary = 0;  // conductance to the fixed concentration half a voxel outside
  float diag[256] = {}, invDiag[256] = {};  // by flag byte
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
// outside the domain get diagonal 1 and 0, so dividing by the diagonal is always safe.
template <class Op>
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
    const float off = gx * (px * c[j + 1] + mx * c[j - 1]) + gy * (py * c[j + sy] + my * c[j - sy]) +
                      gz * (pz * c[j + sz] + mz * c[j - sz]);
    const float diag = gx * (px + mx) + gy * (py + my) + gz * (pz + mz) + gEnd * end + (1.0f - in);
    op(j, diag, off);
  }
}

// out = A u on the finest grid; returns dot(u, out).
double multiplyFine(const FineGrid& F, const float* u, float* out) {
  return tbb::parallel_reduce(
      tbb::blocked_range<int>(0, F.n[2]), 0.0,
      [&](const tbb::blocked_range<int>& r, double s) {
        for (int z = r.begin(); z < r.end(); ++z)
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
      },
      std::plus<>());
}

// One colour of red-black Gauss-Seidel for A x = b on the finest grid. The whole row is computed
// and only the colour's voxels are kept: a voxel's new value depends only on the other colour, so
// this is the red-black sweep, vectorised instead of stepping by 2.
void gaussSeidelFine(const FineGrid& F, const float* b, float* x, int colour) {
  tbb::parallel_for(0, F.n[2], [&](int z) {
    for (int y = 0; y < F.n[1]; ++y) {
      const std::size_t row = F.st[2] * z + F.st[1] * y;
      const int first = (colour + y + z) & 1;
      float* xr = x + row;
      const float* br = b + row;
      stencilRow(F, x, row, [&](int j, float diag, float off) {
        const float keep = float((j & 1) == first);  // arithmetic, not a branch: vectorised
        xr[j] += keep * ((br[j] + off) / diag - xr[j]);
      });
    }
  });
}

// One coarse grid: c[a][i] = conductance between cell i and its + neighbour along a.
struct Level {
  int n[3] = {0, 0, 0};
  std::vector<float> c[3];
  std::vector<float> diag;  // 0 = no cell (no domain voxel in the aggregate)
  std::vector<float> b, x;
  std::size_t size() const { return std::size_t(n[0]) * n[1] * n[2]; }
  std::size_t stride(int a) const { return a == 0 ? 1 : a == 1 ? std::size_t(n[0]) : std::size_t(n[0]) * n[1]; }
};

double dot(const float* a, const float* b, std::size_t n) {
  return tbb::parallel_reduce(
      tbb::blocked_range<std::size_t>(0, n, 1 << 16), 0.0,
      [&](const tbb::blocked_range<std::size_t>& r, double s) {
        for (std::size_t i = r.begin(); i < r.end(); ++i) s += double(a[i]) * b[i];
        return s;
      },
      std::plus<>());
}

// Sum of c * u over the neighbours of cell i.
inline float neighbourSum(const Level& L, const std::vector<float>& u, std::size_t i, int x, int y, int z) {
  float s = 0;
  const int c3[3] = {x, y, z};
  for (int a = 0; a < 3; ++a) {
    const std::size_t st = L.stride(a);
    if (c3[a] + 1 < L.n[a]) s += L.c[a][i] * u[i + st];
    if (c3[a] > 0) s += L.c[a][i - st] * u[i - st];
  }
  return s;
}

void gaussSeidelColour(Level& L, int colour) {
  tbb::parallel_for(0, L.n[2], [&](int z) {
    for (int y = 0; y < L.n[1]; ++y) {
      int x = (colour + y + z) & 1;
      std::size_t i = L.stride(2) * z + L.stride(1) * y + x;
      for (; x < L.n[0]; x += 2, i += 2)
        if (L.diag[i] > 0) L.x[i] = (L.b[i] + neighbourSum(L, L.x, i, x, y, z)) / L.diag[i];
    }
  });
}

// The 2x2x2 aggregation of a grid of size n whose conductance along a from cell i is
// conductance(a, i) and whose diagonal is diagonal(i).
template <class Conductance, class Diagonal>
Level coarsen(const int n[3], Conductance conductance, Diagonal diagonal) {
  Level c;
  for (int a = 0; a < 3; ++a) c.n[a] = (n[a] + 1) / 2;
  const std::size_t cells = c.size();
  for (int a = 0; a < 3; ++a) c.c[a].assign(cells, 0.0f);
  std::vector<double> diag(cells, 0.0);
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
            else c.c[a][I] += k;
          }
        }
  });
  c.diag.resize(cells);
  for (std::size_t I = 0; I < cells; ++I) c.diag[I] = diag[I] > 1e-12 ? float(diag[I]) : 0.0f;
  c.b.assign(cells, 0.0f);
  c.x.assign(cells, 0.0f);
  return c;
}

Level coarsenFine(const FineGrid& F) {
  return coarsen(
      F.n, [&](int a, std::size_t i) { return (F.flags[i] >> (2 * a)) & 1 ? F.g[a] : 0.0f; },
      [&](std::size_t i) { return double(F.diag[F.flags[i]]); });
}

Level coarsenLevel(const Level& f) {
  return coarsen(
      f.n, [&](int a, std::size_t i) { return f.c[a][i]; }, [&](std::size_t i) { return double(f.diag[i]); });
}

// coarse.b = restriction of (b - A x) on grid `fine` (sum over each aggregate), in parallel over
// coarse planes. residual(i, x, y, z) gives the fine residual.
template <class Residual>
void restrictResidual(const int n[3], Level& C, Residual residual) {
  tbb::parallel_for(0, C.n[2], [&](int Z) {
    std::fill(C.b.begin() + C.stride(2) * Z, C.b.begin() + C.stride(2) * (Z + 1), 0.0f);
    for (int z = 2 * Z; z < std::min(n[2], 2 * Z + 2); ++z)
      for (int y = 0; y < n[1]; ++y) {
        std::size_t i = std::size_t(n[0]) * (y + std::size_t(n[1]) * z);
        float* row = C.b.data() + C.stride(2) * Z + C.stride(1) * (y / 2);
        for (int x = 0; x < n[0]; ++x, ++i) row[x / 2] += residual(i, x, y, z);
      }
  });
}

// x = one multigrid cycle's approximation of A^-1 b on coarse level l; x starts at 0.
void coarseCycle(std::vector<Level>& levels, std::size_t l) {
  Level& L = levels[l];
  std::fill(L.x.begin(), L.x.end(), 0.0f);
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
  restrictResidual(L.n, C, [&](std::size_t i, int x, int y, int z) {
    return L.diag[i] > 0 ? L.b[i] - (L.diag[i] * L.x[i] - neighbourSum(L, L.x, i, x, y, z)) : 0.0f;
  });
  coarseCycle(levels, l + 1);
  forEachVoxel(L.n, [&](std::size_t i, int x, int y, int z) {
    if (L.diag[i] > 0) L.x[i] += kCoarseScale * C.x[C.stride(2) * (z / 2) + C.stride(1) * (y / 2) + x / 2];
  });
  gaussSeidelColour(L, 1);
  gaussSeidelColour(L, 0);
}

// x = the preconditioner applied to b on the finest grid (the same cycle, x starts at 0).
void precondition(const FineGrid& F, std::vector<Level>& levels, const float* b, float* x) {
  // The first red sweep from x = 0 sees no neighbours: x = b / diag on red voxels, 0 elsewhere.
  tbb::parallel_for(0, F.n[2], [&](int z) {
    for (int y = 0; y < F.n[1]; ++y) {
      const std::size_t row = F.st[2] * z + F.st[1] * y;
      const int red = (y + z) & 1;
      float* xr = x + row;
      const float* br = b + row;
      // (The stencil reads b, which no thread writes, for the unused neighbour sum.)
      stencilRow(F, b, row, [&](int j, float diag, float) { xr[j] = float((j & 1) == red) * br[j] / diag; });
    }
  });
  gaussSeidelFine(F, b, x, 1);
  Level& C = levels[0];
  // Residual of each row (black voxels' are 0 after the black sweep), summed over the aggregates.
  tbb::parallel_for(0, C.n[2], [&](int Z) {
    std::fill(C.b.begin() + C.stride(2) * Z, C.b.begin() + C.stride(2) * (Z + 1), 0.0f);
    std::vector<float> residual(F.n[0] + 1, 0.0f);
    for (int z = 2 * Z; z < std::min(F.n[2], 2 * Z + 2); ++z)
      for (int y = 0; y < F.n[1]; ++y) {
        const std::size_t row = F.st[2] * z + F.st[1] * y;
        const float* xr = x + row;
        const float* br = b + row;
        float* res = residual.data();
        stencilRow(F, x, row, [&](int j, float diag, float off) { res[j] = br[j] - (diag * xr[j] - off); });
        float* coarse = C.b.data() + C.stride(2) * Z + C.stride(1) * (y / 2);
        for (int k = 0; k < C.n[0]; ++k) coarse[k] += res[2 * k] + res[2 * k + 1];  // res[n] stays 0
      }
  });
  coarseCycle(levels, 0);
  tbb::parallel_for(0, F.n[2], [&](int z) {
    for (int y = 0; y < F.n[1]; ++y) {
      const std::size_t row = F.st[2] * z + F.st[1] * y;
      const float* coarse = C.x.data() + C.stride(2) * (z / 2) + C.stride(1) * (y / 2);
      const std::uint8_t* f = F.flags.data() + row;
      float* xr = x + row;
#pragma omp simd
      for (int j = 0; j < F.n[0]; ++j) xr[j] += float((f[j] >> 6) & 1) * kCoarseScale * coarse[j / 2];
    }
  });
  gaussSeidelFine(F, b, x, 1);
  gaussSeidelFine(F, b, x, 0);
}

// r = b - A x with the products and sums in double. Why: A is a Laplacian (diagonal ~ 6 g) whose
// smooth modes have eigenvalues ~ g (pi / n)^2, so A p in float loses ~ eps * kappa of its value to
// cancellation (about 1 % on a 512-voxel-long axis). The residual CG updates (r -= alpha A p) then
// drifts from the true one: it shrinks by 20 orders while the fluxes stay several % apart, and
// once it is far below float rounding the iteration blows up (p'Ap = NaN). Recomputing it from x
// (exact in double, x itself being float) and restarting CG is iterative refinement: each restart
// gains the ~2 digits the float inner solve can give.
void trueResidual(const FineGrid& F, const float* x, float* r) {
  forEachVoxel(F.n, [&](std::size_t i, int cx, int cy, int cz) {
    const unsigned f = F.flags[i];
    if (!(f & kInDomain)) {
      r[i] = 0.0f;
      return;
    }
    const int c3[3] = {cx, cy, cz};
    double s = c3[F.axis] == 0 ? double(F.boundary) : 0.0;
    double diag = (f & kAtEnd) ? double(F.endConductance) : 0.0;
    for (int a = 0; a < 3; ++a) {
      const double g = F.g[a];
      if ((f >> (2 * a)) & 1) s += g * x[i + F.st[a]], diag += g;
      if ((f >> (2 * a + 1)) & 1) s += g * x[i - F.st[a]], diag += g;
    }
    r[i] = float(s - diag * x[i]);
  });
}

struct Fluxes {
  double mean = 0, spread = 0;
};

// Flux through the inlet, every plane between voxel layers, and the outlet. Summed in parallel over
// z planes, each adding to its own copy of the per-plane totals.
Fluxes fluxes(const FineGrid& F, const float* u) {
  const int axis = F.axis, n = F.n[axis];
  const std::size_t st = F.st[axis];
  const float g = F.g[axis];
  using Planes = std::vector<double>;
  const Planes planes = tbb::parallel_reduce(
      tbb::blocked_range<int>(0, F.n[2]), Planes(n + 1, 0.0),
      [&](const tbb::blocked_range<int>& r, Planes p) {
        std::vector<float> along(F.n[0]);
        for (int z = r.begin(); z < r.end(); ++z)
          for (int y = 0; y < F.n[1]; ++y) {
            const std::size_t row = F.st[2] * z + F.st[1] * y;
            const std::uint8_t* f = F.flags.data() + row;
            const float* c = u + row;
            float* a = along.data();
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
            const int c3[3] = {0, y, z};
            for (int j = 0; j < F.n[0]; ++j) {
              if (!(f[j] & kAtEnd)) continue;
              const int k = axis == X ? j : c3[axis];
              if (k == 0) p[0] += double(F.boundary) * (1.0 - c[j]);
              if (k == n - 1) p[n] += double(F.boundary) * c[j];
            }
          }
        return p;
      },
      [](Planes a, const Planes& b) {
        for (std::size_t k = 0; k < a.size(); ++k) a[k] += b[k];
        return a;
      });
  double lo = planes[0], hi = planes[0], sum = 0;
  for (double p : planes) lo = std::min(lo, p), hi = std::max(hi, p), sum += p;
  Fluxes f;
  f.mean = sum / (n + 1);
  f.spread = f.mean > 0 ? (hi - lo) / f.mean : 1.0;
  return f;
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
    F.flags.assign(v.voxels(), 0);
    forEachVoxel(F.n, [&](std::size_t i, int x, int y, int z) {
      if (!mask[i]) return;
      const int c3[3] = {x, y, z};
      unsigned f = kInDomain | (c3[axis] == 0 || c3[axis] == F.n[axis] - 1 ? kAtEnd : 0u);
      for (int a = 0; a < 3; ++a) {
        if (c3[a] + 1 < F.n[a] && mask[i + F.st[a]]) f |= 1u << (2 * a);
        if (c3[a] > 0 && mask[i - F.st[a]]) f |= 1u << (2 * a + 1);
      }
      F.flags[i] = std::uint8_t(f);
    });
  }

  const auto& s = v.voxelUm;
  for (int a = 0; a < 3; ++a) F.g[a] = float(s[(a + 1) % 3] * s[(a + 2) % 3] / s[a]);
  F.boundary = 2.0f * F.g[axis];  // half a voxel to the fixed concentration
  // A voxel at both ends (a one-voxel-thick volume) has both boundaries.
  const int ends = F.n[axis] == 1 ? 2 : 1;
  F.endConductance = float(ends) * F.boundary;
  for (unsigned k = kInDomain; k < 256; ++k) {
    if (!(k & kInDomain)) continue;
    double d = 0;
    for (int a = 0; a < 3; ++a) d += F.g[a] * (((k >> (2 * a)) & 1) + ((k >> (2 * a + 1)) & 1));
    if (k & kAtEnd) d += ends * F.boundary;
    F.diag[k] = float(d);
    F.invDiag[k] = d > 0 ? float(1.0 / d) : 0.0f;
  }

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
  Fluxes flux = fluxes(F, x());
  const std::size_t cells = F.size();
  double rz = 0, rzRestart = 0;
  // (Re)starts CG from the true residual of x; false if the preconditioned residual is not a
  // positive number (a breakdown a restart cannot cure).
  const auto restart = [&] {
    trueResidual(F, x(), r());
    precondition(F, levels, r(), zv());
    p.data = zv.data;
    rz = rzRestart = dot(r(), zv(), cells);
    return rz > 0 && std::isfinite(rz);
  };
  bool ok = restart(), fresh = true;  // fresh: no iteration since the last restart
  for (int it = 1; ok && it <= params.maxIterations && flux.spread > params.fluxTolerance;) {
    const double pq = multiplyFine(F, p(), q());
    if (!(pq > 0) || !std::isfinite(pq)) {
      if (fresh) break;  // breakdown right after a restart: give up (reported below)
      ok = restart(), fresh = true;
      continue;
    }
    fresh = false;
    const float alpha = float(rz / pq);
    float *xs = x(), *rs = r();
    const float *ps = p(), *qs = q();
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, cells, 1 << 16), [&](const tbb::blocked_range<std::size_t>& b) {
      for (std::size_t i = b.begin(); i < b.end(); ++i) {
        xs[i] += alpha * ps[i];
        rs[i] -= alpha * qs[i];
      }
    });
    result.iterations = it++;
    flux = fluxes(F, x());
    if (flux.spread <= params.fluxTolerance) break;
    precondition(F, levels, r(), zv());
    const double rzNew = dot(r(), zv(), cells);
    // Past kRestartReduction the updated residual no longer tracks the true one (see trueResidual).
    if (!(rzNew > kRestartReduction * rzRestart) || !std::isfinite(rzNew)) {
      ok = restart(), fresh = true;
      continue;
    }
    const float beta = float(rzNew / rz);
    rz = rzNew;
    float* pw = p();
    const float* zs = zv();
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, cells, 1 << 16), [&](const tbb::blocked_range<std::size_t>& b) {
      for (std::size_t i = b.begin(); i < b.end(); ++i) pw[i] = zs[i] + beta * pw[i];
    });
  }
  result.fluxSpread = flux.spread;
  if (flux.spread > params.fluxTolerance) {
    result.reason = "did not converge: flux through the planes differs by " + std::to_string(flux.spread * 100) +
                    " % after " + std::to_string(result.iterations) + " iterations";
    return result;
  }
  const int b1 = (axis + 1) % 3, b2 = (axis + 2) % 3;
  const double length = v.size(axis) * s[axis];
  const double area = v.size(b1) * s[b1] * v.size(b2) * s[b2];
  const double relative = flux.mean * length / area;  // D_eff / D with unit concentration drop
  result.relativeDiffusivity = relative;
  result.tau = result.volumeFraction / relative;
  result.tauPercolating = result.percolatingFraction / relative;
  result.macmullin = *result.tau / result.volumeFraction;
  return result;
}

}  // namespace fibseg::measure
