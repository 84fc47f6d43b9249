#include "fibseg/measure/sizes.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace fibseg::measure {
namespace {

// Felzenszwalb & Huttenlocher's 1D lower envelope of parabolas, spacing h between samples.
void distance1d(const float* f, float* d, int n, double h, std::vector<int>& v, std::vector<double>& z) {
  const double inf = std::numeric_limits<double>::infinity();
  int k = 0;
  v[0] = 0;
  z[0] = -inf;
  z[1] = inf;
  auto sq = [&](int q) { return double(q) * h * double(q) * h; };
  for (int q = 1; q < n; ++q) {
    if (std::isinf(f[q])) continue;
    while (true) {
      if (std::isinf(f[v[k]])) { v[k] = q; z[k] = -inf; z[k + 1] = inf; break; }
      const double s = ((f[q] + sq(q)) - (f[v[k]] + sq(v[k]))) / (2.0 * h * h * (q - v[k]));
      if (s <= z[k]) {
        if (k == 0) { v[0] = q; z[0] = -inf; z[1] = inf; break; }
        --k;
        continue;
      }
      ++k;
      v[k] = q;
      z[k] = s;
      z[k + 1] = inf;
      break;
    }
  }
  k = 0;
  for (int q = 0; q < n; ++q) {
    while (z[k + 1] < q) ++k;
    const double dq = (q - v[k]) * h;
    d[q] = std::isinf(f[v[k]]) ? std::numeric_limits<float>::infinity() : float(dq * dq + f[v[k]]);
  }
}

void transformAlong(std::vector<float>& f, const LabelVolume& vol, int axis) {
  const int n = vol.size(axis);
  const std::size_t stride = vol.stride(axis);
  const int a = axis == X ? Y : X, b = axis == Z ? Y : Z;
  tbb::parallel_for(0, vol.size(b), [&](int j) {
    std::vector<float> line(n), out(n);
    std::vector<int> v(n);
    std::vector<double> z(n + 1);
    for (int i = 0; i < vol.size(a); ++i) {
      const std::size_t base = std::size_t(i) * vol.stride(a) + std::size_t(j) * vol.stride(b);
      for (int c = 0; c < n; ++c) line[c] = f[base + c * stride];
      distance1d(line.data(), out.data(), n, vol.voxelUm[axis], v, z);
      for (int c = 0; c < n; ++c) f[base + c * stride] = out[c];
    }
  });
}

}  // namespace

std::vector<float> squaredDistanceToOutside(const LabelVolume& v, const std::vector<std::uint8_t>& inside) {
  std::vector<float> f(v.voxels());
  for (std::size_t i = 0; i < f.size(); ++i) f[i] = inside[i] ? std::numeric_limits<float>::infinity() : 0.0f;
  for (int axis = 0; axis < 3; ++axis) transformAlong(f, v, axis);
  return f;
}

SizeDistribution sizeDistribution(const LabelVolume& v, int phase, bool localThickness) {
  SizeDistribution s;
  std::vector<std::uint8_t> inside(v.voxels());
  long long count = 0;
  for (std::size_t i = 0; i < inside.size(); ++i) count += inside[i] = v.phase[i] == phase;
  for (int axis = 0; axis < 3; ++axis) {
    long long runs = 0;
    const std::size_t st = v.stride(axis);
    for (int z = 0; z < v.nz; ++z)
      for (int y = 0; y < v.ny; ++y)
        for (int x = 0; x < v.nx; ++x) {
          const int c[3] = {x, y, z};
          const std::size_t i = v.index(x, y, z);
          if (inside[i] && (c[axis] == 0 || !inside[i - st])) ++runs;
        }
    s.meanChordUm[axis] = runs ? double(count) / runs * v.voxelUm[axis] : 0.0;
  }
  if (!localThickness || count == 0) return s;

  const auto dt2 = squaredDistanceToOutside(v, inside);
  float maxDt2 = 0;
  for (std::size_t i = 0; i < dt2.size(); ++i)
    if (inside[i]) maxDt2 = std::max(maxDt2, dt2[i]);
  const double step = *std::min_element(v.voxelUm.begin(), v.voxelUm.end());
  std::vector<float> thickness(v.voxels(), 0.0f);
  // Ascending radii: each pass overwrites with the larger sphere that still covers the voxel.
  for (double r = step; r * r <= maxDt2 + 1e-9; r += step) {
    const double reach = r * r - 1e-6;
    std::vector<std::uint8_t> notCentre(v.voxels());
    for (std::size_t i = 0; i < notCentre.size(); ++i) notCentre[i] = !(inside[i] && dt2[i] >= reach);
    const auto toCentre = squaredDistanceToOutside(v, notCentre);
    for (std::size_t i = 0; i < thickness.size(); ++i)
      if (inside[i] && toCentre[i] < reach) thickness[i] = float(2 * r);
  }
  // Voxels no sphere of radius >= step covers (one-voxel necks): thickness of one voxel.
  for (std::size_t i = 0; i < thickness.size(); ++i)
    if (inside[i] && thickness[i] == 0) thickness[i] = float(step);
  std::vector<double> bins;
  for (double d = step; d <= 2 * std::sqrt(maxDt2) + 2 * step; d += step) bins.push_back(d);
  std::vector<long long> hist(bins.size() + 1, 0);
  for (std::size_t i = 0; i < thickness.size(); ++i)
    if (inside[i]) ++hist[std::min(bins.size(), std::size_t(std::lround(thickness[i] / step)) - 1)];
  for (std::size_t b = 0; b < bins.size(); ++b)
    if (hist[b]) s.diameterUm.push_back(bins[b]), s.voxels.push_back(hist[b]);
  long long acc = 0;
  double* targets[3] = {&s.d10, &s.d50, &s.d90};
  const double q[3] = {0.1, 0.5, 0.9};
  int t = 0;
  for (std::size_t b = 0; b < s.voxels.size() && t < 3; ++b) {
    acc += s.voxels[b];
    while (t < 3 && acc >= q[t] * count) *targets[t++] = s.diameterUm[b];
  }
  return s;
}

}  // namespace fibseg::measure
