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

  // Local thickness as Hildebrand & Rüegsegger define it, computed exactly for balls centred on
  // voxel centres: a ball of radius dt (the distance to the nearest voxel outside the phase, as in
  // PoreSpy and BoneJ) at each centre on the distance ridge, i.e. whose ball no neighbour's ball
  // contains; every voxel takes the largest diameter 2 dt among the balls covering it. Radii are
  // the distances themselves, not rounded to whole voxels (rounding them down is what read a
  // sphere of r = 10 as 18). A phase that fills the volume has no outside: its balls stop at the
  // volume's longest side.
  auto dt2 = squaredDistanceToOutside(v, inside);
  const double longest = std::max({v.nx * v.voxelUm[0], v.ny * v.voxelUm[1], v.nz * v.voxelUm[2]});
  for (auto& d : dt2)
    if (std::isinf(d)) d = float(longest * longest);
  struct Centre { int x, y, z; double radius; };
  std::vector<std::vector<Centre>> centresBySlice(v.nz);
  tbb::parallel_for(0, v.nz, [&](int z) {
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) {
        const std::size_t i = v.index(x, y, z);
        if (!inside[i]) continue;
        const double radius = std::sqrt(double(dt2[i]));
        bool ridge = true;
        for (int dz = -1; dz <= 1 && ridge; ++dz)
          for (int dy = -1; dy <= 1 && ridge; ++dy)
            for (int dx = -1; dx <= 1 && ridge; ++dx) {
              const int nx = x + dx, ny = y + dy, nz = z + dz;
              if ((!dx && !dy && !dz) || nx < 0 || ny < 0 || nz < 0 || nx >= v.nx || ny >= v.ny || nz >= v.nz) continue;
              const std::size_t j = v.index(nx, ny, nz);
              if (!inside[j]) continue;
              const double gap = std::sqrt(dx * dx * v.voxelUm[0] * v.voxelUm[0] + dy * dy * v.voxelUm[1] * v.voxelUm[1] +
                                           dz * dz * v.voxelUm[2] * v.voxelUm[2]);
              ridge = std::sqrt(double(dt2[j])) < radius + gap - 1e-6;  // else that ball contains this one
            }
        if (ridge) centresBySlice[z].push_back({x, y, z, radius});
      }
  });
  double maxRadius = 0;
  for (const auto& slice : centresBySlice)
    for (const auto& c : slice) maxRadius = std::max(maxRadius, c.radius);
  std::vector<float> thickness(v.voxels(), 0.0f);
  // Each task paints one output slice from the balls reaching it, so no two tasks write a voxel.
  const int reachZ = int(std::ceil(maxRadius / v.voxelUm[2]));
  tbb::parallel_for(0, v.nz, [&](int z) {
    for (int cz = std::max(0, z - reachZ); cz <= std::min(v.nz - 1, z + reachZ); ++cz)
      for (const auto& c : centresBySlice[cz]) {
        const double r2 = c.radius * c.radius, ez = (z - cz) * v.voxelUm[2];
        if (ez * ez >= r2) continue;
        const int reachY = int(std::ceil(std::sqrt(r2 - ez * ez) / v.voxelUm[1]));
        for (int y = std::max(0, c.y - reachY); y <= std::min(v.ny - 1, c.y + reachY); ++y) {
          const double ey = (y - c.y) * v.voxelUm[1], rest = r2 - ez * ez - ey * ey;
          if (rest <= 0) continue;
          const int reachX = int(std::ceil(std::sqrt(rest) / v.voxelUm[0]));
          for (int x = std::max(0, c.x - reachX); x <= std::min(v.nx - 1, c.x + reachX); ++x) {
            const double ex = (x - c.x) * v.voxelUm[0];
            const std::size_t i = v.index(x, y, z);
            if (ex * ex < rest && inside[i]) thickness[i] = std::max(thickness[i], float(2 * c.radius));
          }
        }
      }
  });
  const double step = *std::min_element(v.voxelUm.begin(), v.voxelUm.end());
  const float maxDt2 = float(maxRadius * maxRadius);
  // Histogram bins one step (the smallest voxel side) wide, centred on whole multiples of it.
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
