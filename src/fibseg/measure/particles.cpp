#include "fibseg/measure/particles.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <queue>

#include "fibseg/measure/sizes.hpp"

namespace fibseg::measure {
namespace {

constexpr double kSmoothingSigmaVoxels = 0.4;  // SNOW's default
constexpr int kPeakRadiusVoxels = 4;           // SNOW's r_max

// Applies op(line, n) to every line of the volume along `axis` (copied out and back).
template <class Op>
void forEachLine(const LabelVolume& v, std::vector<float>& f, int axis, Op op) {
  const int n = v.size(axis);
  const std::size_t stride = v.stride(axis);
  const int a = axis == X ? Y : X, b = axis == Z ? Y : Z;
  tbb::parallel_for(0, v.size(b), [&](int j) {
    std::vector<float> line(n), out(n);
    for (int i = 0; i < v.size(a); ++i) {
      const std::size_t base = std::size_t(i) * v.stride(a) + std::size_t(j) * v.stride(b);
      for (int c = 0; c < n; ++c) line[c] = f[base + c * stride];
      op(line, out);
      for (int c = 0; c < n; ++c) f[base + c * stride] = out[c];
    }
  });
}

// Gaussian smoothing (separable; the edges repeat the last value), then zero outside the phase.
std::vector<float> smoothed(const LabelVolume& v, std::vector<float> f, const std::vector<std::uint8_t>& inside) {
  const int radius = int(std::ceil(3 * kSmoothingSigmaVoxels));
  std::vector<float> w(2 * radius + 1);
  float sum = 0;
  for (int k = -radius; k <= radius; ++k) sum += w[k + radius] = float(std::exp(-0.5 * k * k / (kSmoothingSigmaVoxels * kSmoothingSigmaVoxels)));
  for (auto& x : w) x /= sum;
  for (int axis = 0; axis < 3; ++axis)
    forEachLine(v, f, axis, [&](const std::vector<float>& in, std::vector<float>& out) {
      const int n = int(in.size());
      for (int c = 0; c < n; ++c) {
        float s = 0;
        for (int k = -radius; k <= radius; ++k) s += w[k + radius] * in[std::clamp(c + k, 0, n - 1)];
        out[c] = s;
      }
    });
  for (std::size_t i = 0; i < f.size(); ++i)
    if (!inside[i]) f[i] = 0;
  return f;
}

// Maximum over the cube of +-r voxels (separable).
std::vector<float> maximumFilter(const LabelVolume& v, std::vector<float> f, int r) {
  for (int axis = 0; axis < 3; ++axis)
    forEachLine(v, f, axis, [&](const std::vector<float>& in, std::vector<float>& out) {
      const int n = int(in.size());
      for (int c = 0; c < n; ++c) {
        float m = in[c];
        for (int k = std::max(0, c - r); k <= std::min(n - 1, c + r); ++k) m = std::max(m, in[k]);
        out[c] = m;
      }
    });
  return f;
}

}  // namespace

std::vector<std::uint32_t> splitParticles(const LabelVolume& v, int phase) {
  const std::size_t n = v.voxels();
  std::vector<std::uint8_t> inside(n);
  for (std::size_t i = 0; i < n; ++i) inside[i] = v.phase[i] == phase;
  auto dt = squaredDistanceToOutside(v, inside);
  const double longest = std::max({v.nx * v.voxelUm[0], v.ny * v.voxelUm[1], v.nz * v.voxelUm[2]});
  for (auto& d : dt) d = std::isinf(d) ? float(longest) : std::sqrt(d);
  dt = smoothed(v, std::move(dt), inside);
  const auto peaksMax = maximumFilter(v, dt, kPeakRadiusVoxels);

  // Peaks, joined into plateaus (26-connected groups of peak voxels).
  std::vector<std::uint32_t> labels(n, 0);
  struct Peak { double x = 0, y = 0, z = 0, height = 0; long long voxels = 0; bool kept = true; };
  std::vector<Peak> peaks(1);  // peaks[0] unused: labels start at 1
  std::vector<std::size_t> stack;
  for (std::size_t i = 0; i < n; ++i) {
    if (!inside[i] || labels[i] || dt[i] <= 0 || dt[i] < peaksMax[i]) continue;
    const auto id = std::uint32_t(peaks.size());
    Peak p;
    stack.assign(1, i);
    labels[i] = id;
    while (!stack.empty()) {
      const std::size_t j = stack.back();
      stack.pop_back();
      const int x = int(j % v.nx), y = int(j / v.nx % v.ny), z = int(j / (std::size_t(v.nx) * v.ny));
      p.x += x * v.voxelUm[0], p.y += y * v.voxelUm[1], p.z += z * v.voxelUm[2], ++p.voxels;
      p.height = std::max(p.height, double(dt[j]));
      for (int dz = -1; dz <= 1; ++dz)
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) {
            const int a = x + dx, b = y + dy, c = z + dz;
            if (a < 0 || b < 0 || c < 0 || a >= v.nx || b >= v.ny || c >= v.nz) continue;
            const std::size_t k = v.index(a, b, c);
            if (inside[k] && !labels[k] && dt[k] > 0 && dt[k] >= peaksMax[k]) labels[k] = id, stack.push_back(k);
          }
    }
    p.x /= double(p.voxels), p.y /= double(p.voxels), p.z /= double(p.voxels);
    peaks.push_back(p);
  }
  // A peak inside the inscribed sphere of a higher one (or of an equal one found first) is the
  // same particle: drop it. Sorted along x, only peaks within the largest radius are compared.
  std::vector<std::uint32_t> order(peaks.size() - 1);
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = std::uint32_t(k + 1);
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return peaks[a].x < peaks[b].x; });
  double tallest = 0;
  for (const auto& p : peaks) tallest = std::max(tallest, p.height);
  for (std::size_t s = 0; s < order.size(); ++s) {
    Peak& p = peaks[order[s]];
    for (std::size_t t = s + 1; t < order.size() && peaks[order[t]].x - p.x <= tallest; ++t) {
      Peak& q = peaks[order[t]];
      const double d2 = (p.x - q.x) * (p.x - q.x) + (p.y - q.y) * (p.y - q.y) + (p.z - q.z) * (p.z - q.z);
      const double r = std::max(p.height, q.height);
      if (d2 >= r * r) continue;
      const bool pFirst = p.height > q.height || (p.height == q.height && order[s] < order[t]);
      (pFirst ? q : p).kept = false;
    }
  }
  std::vector<std::uint32_t> renumber(peaks.size(), 0);
  std::uint32_t count = 0;
  for (std::size_t k = 1; k < peaks.size(); ++k)
    if (peaks[k].kept) renumber[k] = ++count;
  for (auto& l : labels) l = renumber[l];

  // Flood from the markers, highest distance first (ties in arrival order), 6-connected.
  struct Item {
    float height;
    std::uint64_t order;
    std::size_t voxel;
    bool operator<(const Item& o) const { return height < o.height || (height == o.height && order > o.order); }
  };
  std::priority_queue<Item> queue;
  std::uint64_t arrivals = 0;
  const auto pushNeighbours = [&](std::size_t i) {
    const int x = int(i % v.nx), y = int(i / v.nx % v.ny), z = int(i / (std::size_t(v.nx) * v.ny));
    const int c3[3] = {x, y, z};
    for (int a = 0; a < 3; ++a)
      for (int s : {-1, 1}) {
        const int c = c3[a] + s;
        if (c < 0 || c >= v.size(a)) continue;
        const std::size_t j = s > 0 ? i + v.stride(a) : i - v.stride(a);
        if (inside[j] && !labels[j]) {
          labels[j] = labels[i];  // claimed on arrival: the first (highest) flood to reach it wins
          queue.push({dt[j], arrivals++, j});
        }
      }
  };
  for (std::size_t i = 0; i < n; ++i)
    if (labels[i]) queue.push({dt[i], arrivals++, i});
  while (!queue.empty()) {
    const Item item = queue.top();
    queue.pop();
    pushNeighbours(item.voxel);
  }
  return labels;
}

ParticleSizes measureParticles(const LabelVolume& v, const std::vector<std::uint32_t>& labels, bool removeBoundary) {
  std::uint32_t count = 0;
  for (auto l : labels) count = std::max(count, l);
  std::vector<Particle> all(count + 1);
  const double dV = v.voxelVolumeUm3();
  double faceArea[3];
  for (int a = 0; a < 3; ++a) faceArea[a] = v.voxelUm[(a + 1) % 3] * v.voxelUm[(a + 2) % 3];
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) {
        const std::size_t i = v.index(x, y, z);
        const std::uint32_t l = labels[i];
        if (!l) continue;
        Particle& p = all[l];
        ++p.voxels;
        p.centroidUm[0] += x * v.voxelUm[0], p.centroidUm[1] += y * v.voxelUm[1], p.centroidUm[2] += z * v.voxelUm[2];
        const int c3[3] = {x, y, z};
        for (int a = 0; a < 3; ++a) {
          if (c3[a] == 0 || c3[a] == v.size(a) - 1) p.touchesBoundary = true;
          if (c3[a] > 0 && labels[i - v.stride(a)] != l) p.surfaceAreaUm2 += faceArea[a];
          if (c3[a] + 1 < v.size(a) && labels[i + v.stride(a)] != l) p.surfaceAreaUm2 += faceArea[a];
        }
      }
  ParticleSizes out;
  double totalVolume = 0, removedVolume = 0;
  for (std::uint32_t l = 1; l <= count; ++l) {
    Particle& p = all[l];
    if (p.voxels == 0) continue;
    p.label = l;
    p.volumeUm3 = double(p.voxels) * dV;
    for (double& c : p.centroidUm) c /= double(p.voxels);
    p.equivalentDiameterUm = std::cbrt(6 * p.volumeUm3 / std::numbers::pi);
    p.surfaceAreaUm2 *= 2.0 / 3.0;
    p.sphericity = p.surfaceAreaUm2 > 0 ? std::cbrt(std::numbers::pi) * std::pow(6 * p.volumeUm3, 2.0 / 3.0) / p.surfaceAreaUm2 : 0;
    ++out.initialCount;
    totalVolume += p.volumeUm3;
    if (removeBoundary && p.touchesBoundary) {
      removedVolume += p.volumeUm3;
      continue;
    }
    out.particles.push_back(p);
  }
  out.keptCount = int(out.particles.size());
  if (out.initialCount > 0) out.removedCountFraction = double(out.initialCount - out.keptCount) / out.initialCount;
  if (totalVolume > 0) out.removedVolumeFraction = removedVolume / totalVolume;
  return out;
}

ParticleSizes particleSizes(const LabelVolume& v, int phase, bool removeBoundary) {
  return measureParticles(v, splitParticles(v, phase), removeBoundary);
}

}  // namespace fibseg::measure
