// Solver: conjugate gradients preconditioned by one geometric-multigrid V-cycle. The hierarchy
// aggregates 2x2x2 cells (Galerkin coarse operator of piecewise-constant interpolation: a coarse
// face's conductance is the sum of the fine conductances crossing it), red-black Gauss-Seidel
// smoothing in symmetric order, so the preconditioner is symmetric and CG applies. Cells outside
// the percolating clusters have no conductance and stay at 0. Why hand-written: see bench/README.md
// (Measure).
#include "fibseg/measure/tortuosity.hpp"

#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <cmath>

#include "fibseg/core/error.hpp"
#include "fibseg/measure/connectivity.hpp"

namespace fibseg::measure {
namespace {

// One grid of the hierarchy: c[a][i] = conductance between cell i and its + neighbour along a.
struct Level {
  int n[3] = {0, 0, 0};
  std::vector<float> c[3];
  std::vector<float> diag;  // 0 = no cell (outside the phase)
  std::vector<float> b, x, res;
  std::size_t size() const { return std::size_t(n[0]) * n[1] * n[2]; }
  std::size_t stride(int a) const { return a == 0 ? 1 : a == 1 ? std::size_t(n[0]) : std::size_t(n[0]) * n[1]; }
};

constexpr int kCoarsestCells = 512;
constexpr int kCoarsestSweeps = 40;
// Piecewise-constant interpolation underestimates smooth corrections; scaling them (Braess 1995;
// Notay's aggregation AMG) restores a convergence rate close to classical multigrid.
constexpr float kCoarseScale = 1.8f;

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  return tbb::parallel_reduce(
      tbb::blocked_range<std::size_t>(0, a.size(), 1 << 16), 0.0,
      [&](const tbb::blocked_range<std::size_t>& r, double s) {
        for (std::size_t i = r.begin(); i < r.end(); ++i) s += double(a[i]) * b[i];
        return s;
      },
      std::plus<>());
}

// Calls f(i, x, y, z) for every cell of plane z in parallel over planes.
template <class F>
void forEachCell(const Level& L, F f) {
  tbb::parallel_for(0, L.n[2], [&](int z) {
    for (int y = 0; y < L.n[1]; ++y) {
      std::size_t i = L.stride(2) * z + L.stride(1) * y;
      for (int x = 0; x < L.n[0]; ++x, ++i) f(i, x, y, z);
    }
  });
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

void multiply(const Level& L, const std::vector<float>& u, std::vector<float>& out) {
  forEachCell(L, [&](std::size_t i, int x, int y, int z) {
    out[i] = L.diag[i] > 0 ? L.diag[i] * u[i] - neighbourSum(L, u, i, x, y, z) : 0.0f;
  });
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

Level coarsen(const Level& f) {
  Level c;
  for (int a = 0; a < 3; ++a) c.n[a] = (f.n[a] + 1) / 2;
  const std::size_t n = c.size();
  for (int a = 0; a < 3; ++a) c.c[a].assign(n, 0.0f);
  std::vector<double> diag(n, 0.0);
  // Serial over coarse planes' fine pairs would race; each fine plane z writes coarse plane z/2,
  // so planes are done two at a time in parallel over coarse planes.
  tbb::parallel_for(0, c.n[2], [&](int Z) {
    for (int z = 2 * Z; z < std::min(f.n[2], 2 * Z + 2); ++z)
      for (int y = 0; y < f.n[1]; ++y)
        for (int x = 0; x < f.n[0]; ++x) {
          const std::size_t i = f.stride(2) * z + f.stride(1) * y + x;
          const std::size_t I = c.stride(2) * Z + c.stride(1) * (y / 2) + x / 2;
          diag[I] += f.diag[i];
          const int c3[3] = {x, y, z};
          for (int a = 0; a < 3; ++a) {
            if (c3[a] + 1 >= f.n[a]) continue;
            if (c3[a] % 2 == 0) diag[I] -= 2.0 * f.c[a][i];  // both cells in the same aggregate
            else c.c[a][I] += f.c[a][i];
          }
        }
  });
  c.diag.resize(n);
  for (std::size_t I = 0; I < n; ++I) c.diag[I] = diag[I] > 1e-12 ? float(diag[I]) : 0.0f;
  c.b.assign(n, 0.0f);
  c.x.assign(n, 0.0f);
  c.res.assign(n, 0.0f);
  return c;
}

// x = V-cycle approximation of A^-1 b on level l (x starts at 0).
void vCycle(std::vector<Level>& levels, std::size_t l) {
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
  multiply(L, L.x, L.res);
  Level& C = levels[l + 1];
  std::fill(C.b.begin(), C.b.end(), 0.0f);
  tbb::parallel_for(0, C.n[2], [&](int Z) {
    for (int z = 2 * Z; z < std::min(L.n[2], 2 * Z + 2); ++z)
      for (int y = 0; y < L.n[1]; ++y)
        for (int x = 0; x < L.n[0]; ++x) {
          const std::size_t i = L.stride(2) * z + L.stride(1) * y + x;
          C.b[C.stride(2) * Z + C.stride(1) * (y / 2) + x / 2] += L.b[i] - L.res[i];
        }
  });
  vCycle(levels, l + 1);
  forEachCell(L, [&](std::size_t i, int x, int y, int z) {
    if (L.diag[i] > 0) L.x[i] += kCoarseScale * C.x[C.stride(2) * (z / 2) + C.stride(1) * (y / 2) + x / 2];
  });
  gaussSeidelColour(L, 1);
  gaussSeidelColour(L, 0);
}

struct Fluxes {
  double mean = 0, spread = 0;
};

// Flux through the inlet, every plane between cell layers, and the outlet.
Fluxes fluxes(const Level& L, int axis, float boundary) {
  const int n = L.n[axis];
  std::vector<double> planes(n + 1, 0.0);
  const std::size_t st = L.stride(axis);
  // Planes are summed per layer in parallel: layer k adds plane k+1 (to its + neighbour).
  std::vector<double> inlet(n, 0.0), outlet(n, 0.0);
  tbb::parallel_for(0, n, [&](int k) {
    double s = 0, in = 0, out = 0;
    int lo[3] = {0, 0, 0}, hi[3] = {L.n[0], L.n[1], L.n[2]};
    lo[axis] = k;
    hi[axis] = k + 1;
    for (int z = lo[2]; z < hi[2]; ++z)
      for (int y = lo[1]; y < hi[1]; ++y)
        for (int x = lo[0]; x < hi[0]; ++x) {
          const std::size_t i = L.stride(2) * z + L.stride(1) * y + x;
          if (L.diag[i] <= 0) continue;
          if (k + 1 < n) s += double(L.c[axis][i]) * (double(L.x[i]) - L.x[i + st]);
          if (k == 0) in += double(boundary) * (1.0 - L.x[i]);
          if (k == n - 1) out += double(boundary) * L.x[i];
        }
    planes[k + 1] = s;
    inlet[k] = in;
    outlet[k] = out;
  });
  planes[0] = inlet[0];
  planes[n] = outlet[n - 1];
  double lo = planes[0], hi = planes[0], sum = 0;
  for (double p : planes) lo = std::min(lo, p), hi = std::max(hi, p), sum += p;
  Fluxes f;
  f.mean = sum / (n + 1);
  f.spread = f.mean > 0 ? (hi - lo) / f.mean : 1.0;
  return f;
}

}  // namespace

std::size_t tortuosityMemoryBytes(const LabelVolume& v) {
  // Finest level: 3 conductances, diagonal, b, x, residual + CG's r, p, q, z; coarser levels add 1/7.
  return v.voxels() * (11 * sizeof(float) * 8 / 7 + 2 * sizeof(std::uint32_t) + 1);
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
  const auto mask = percolatingMask(v, phase, axis);
  long long perc = 0;
  for (auto m : mask) perc += m;
  result.percolatingFraction = double(perc) / double(v.voxels());
  if (perc == 0) {
    result.reason = std::string("no cluster of ") + name + " touches both faces normal to " + axisName(axis);
    return result;
  }

  const auto& s = v.voxelUm;
  double g[3];
  for (int a = 0; a < 3; ++a) g[a] = s[(a + 1) % 3] * s[(a + 2) % 3] / s[a];
  const float boundary = float(2.0 * g[axis]);  // half a voxel to the fixed concentration

  std::vector<Level> levels(1);
  Level& L = levels[0];
  L.n[0] = v.nx, L.n[1] = v.ny, L.n[2] = v.nz;
  for (int a = 0; a < 3; ++a) L.c[a].assign(v.voxels(), 0.0f);
  L.diag.assign(v.voxels(), 0.0f);
  L.b.assign(v.voxels(), 0.0f);
  L.x.assign(v.voxels(), 0.0f);
  L.res.assign(v.voxels(), 0.0f);
  std::vector<float> cgX(v.voxels(), 0.0f);
  forEachCell(L, [&](std::size_t i, int x, int y, int z) {
    if (!mask[i]) return;
    const int c3[3] = {x, y, z};
    double d = 0;
    for (int a = 0; a < 3; ++a) {
      const std::size_t st = L.stride(a);
      if (c3[a] + 1 < L.n[a] && mask[i + st]) L.c[a][i] = float(g[a]), d += g[a];
      if (c3[a] > 0 && mask[i - st]) d += g[a];
    }
    if (c3[axis] == 0) d += boundary, L.b[i] = boundary;
    if (c3[axis] == L.n[axis] - 1) d += boundary;
    L.diag[i] = float(d);
    cgX[i] = float(1.0 - (c3[axis] + 0.5) / L.n[axis]);  // the straight-channel profile as first guess
  });
  while (levels.back().size() > kCoarsestCells) levels.push_back(coarsen(levels.back()));

  // CG on level 0; level 0's b/x/res are the V-cycle's work space, so the system's right-hand side
  // and solution live in rhs / cgX.
  Level& F = levels[0];
  const std::vector<float> rhs = F.b;
  std::vector<float> r(v.voxels()), p(v.voxels()), q(v.voxels()), zv(v.voxels());
  multiply(F, cgX, q);
  tbb::parallel_for(std::size_t(0), r.size(), [&](std::size_t i) { r[i] = rhs[i] - q[i]; });
  auto precondition = [&]() {
    F.b = r;
    vCycle(levels, 0);
    zv = F.x;
  };
  precondition();
  p = zv;
  double rz = dot(r, zv);
  Fluxes flux;
  auto checkFlux = [&]() {
    std::swap(F.x, cgX);
    flux = fluxes(F, axis, boundary);
    std::swap(F.x, cgX);
  };
  for (int it = 1; it <= params.maxIterations; ++it) {
    multiply(F, p, q);
    const double pq = dot(p, q);
    if (!(pq > 0)) break;
    const float alpha = float(rz / pq);
    tbb::parallel_for(std::size_t(0), r.size(), [&](std::size_t i) {
      cgX[i] += alpha * p[i];
      r[i] -= alpha * q[i];
    });
    result.iterations = it;
    if (it % 2 == 0) {
      checkFlux();
      if (flux.spread <= params.fluxTolerance) break;
    }
    precondition();
    const double rzNew = dot(r, zv);
    const float beta = float(rzNew / rz);
    rz = rzNew;
    tbb::parallel_for(std::size_t(0), r.size(), [&](std::size_t i) { p[i] = zv[i] + beta * p[i]; });
  }
  checkFlux();
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
