// Local thickness, the span painting in measure/sizes.cpp against the voxel-by-voxel painting it
// replaced (kept here verbatim as the reference): per-voxel differences and d10/d50/d90 on
// spheres, a Boolean model of overlapping spheres (isotropic and with z voxels 2x the pixel) and
// TauFactor's electrode when ../shared/data/real is there ($FIBSEG_REAL_DATA overrides). Prints
// one line per case; exits non-zero if any voxel differs at all.
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "fibseg/measure/label_file.hpp"
#include "fibseg/measure/sizes.hpp"

using namespace fibseg::measure;

namespace {

// The implementation before the speed-up (main at 3c9b799), thickness map only.
std::vector<float> referenceThickness(const LabelVolume& v, int phase) {
  std::vector<std::uint8_t> inside(v.voxels());
  for (std::size_t i = 0; i < inside.size(); ++i) inside[i] = v.phase[i] == phase;
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
              ridge = std::sqrt(double(dt2[j])) < radius + gap - 1e-6;
            }
        if (ridge) centresBySlice[z].push_back({x, y, z, radius});
      }
  });
  double maxRadius = 0;
  for (const auto& slice : centresBySlice)
    for (const auto& c : slice) maxRadius = std::max(maxRadius, c.radius);
  std::vector<float> thickness(v.voxels(), 0.0f);
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
  return thickness;
}

// d10/d50/d90 (voxel units of the smallest side) of a thickness map, bins as in sizeDistribution.
std::array<double, 3> quantiles(const std::vector<float>& t, const LabelVolume& v, int phase, double step) {
  std::vector<long long> hist;
  long long count = 0;
  for (std::size_t i = 0; i < t.size(); ++i)
    if (v.phase[i] == phase) {
      const std::size_t b = std::size_t(std::lround(t[i] / step));
      if (hist.size() <= b) hist.resize(b + 1, 0);
      ++hist[b], ++count;
    }
  std::array<double, 3> d{};
  const double q[3] = {0.1, 0.5, 0.9};
  long long acc = 0;
  int k = 0;
  for (std::size_t b = 0; b < hist.size() && k < 3; ++b) {
    acc += hist[b];
    while (k < 3 && acc >= q[k] * count) d[k++] = double(b);
  }
  return d;
}

int failures = 0;

void compare(const std::string& name, const LabelVolume& v, int phase) {
  const double step = *std::min_element(v.voxelUm.begin(), v.voxelUm.end());
  const auto a = referenceThickness(v, phase), b = localThickness(v, phase);
  long long inside = 0, differ = 0, beyondBin = 0;
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (v.phase[i] != phase) continue;
    ++inside;
    const double d = std::abs(double(a[i]) - b[i]) / step;
    differ += d > 0, beyondBin += d > 1, worst = std::max(worst, d);
  }
  const auto qa = quantiles(a, v, phase, step), qb = quantiles(b, v, phase, step);
  const auto s = sizeDistribution(v, phase, true);
  std::printf("%-44s voxels %9lld  d10/d50/d90 ref %3.0f %3.0f %3.0f  new %3.0f %3.0f %3.0f (sizeDistribution %.0f %.0f %.0f)"
              "  differ %lld, > 1 bin %lld (%.2g), worst %.3g bins\n",
              name.c_str(), inside, qa[0], qa[1], qa[2], qb[0], qb[1], qb[2], s.d10 / step, s.d50 / step, s.d90 / step,
              differ, beyondBin, inside ? double(beyondBin) / inside : 0.0, worst);
  failures += differ > 0;
}

LabelVolume ball(double r, double offset, std::array<double, 3> voxelUm = {1, 1, 1}) {
  // r in units of the pixel; z voxels may be longer (fewer slices across the ball).
  const int n = int(2 * r) + 8, nz = int(std::ceil(n * voxelUm[0] / voxelUm[2]));
  auto v = makeVolume(n, n, nz, {"pore", "solid"}, voxelUm);
  for (int z = 0; z < nz; ++z)
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x) {
        const double dx = x + 0.5 - n / 2.0 - offset, dy = y + 0.5 - n / 2.0 - offset;
        const double dz = ((z + 0.5) * voxelUm[2] - nz * voxelUm[2] / 2.0) / voxelUm[0] - offset;
        v.phase[v.index(x, y, z)] = dx * dx + dy * dy + dz * dz <= r * r;
      }
  return v;
}

// Overlapping spheres of radius 8 pixels covering 70 % of the box (as measure_bench's cube).
LabelVolume spheres(int n, int nz, std::array<double, 3> voxelUm, unsigned seed) {
  auto v = makeVolume(n, n, nz, {"pore", "solid"}, voxelUm);
  const double radius = 8 * voxelUm[0], sphere = 4.0 / 3.0 * 3.14159265358979 * radius * radius * radius;
  const double volume = n * voxelUm[0] * n * voxelUm[1] * nz * voxelUm[2];
  const long long count = std::llround(-std::log(0.3) / sphere * volume);
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> u(0, 1);
  for (long long s = 0; s < count; ++s) {
    const double c[3] = {u(random) * n * voxelUm[0], u(random) * n * voxelUm[1], u(random) * nz * voxelUm[2]};
    for (int z = 0; z < nz; ++z) {
      const double dz = (z + 0.5) * voxelUm[2] - c[2];
      if (std::abs(dz) > radius) continue;
      for (int y = 0; y < n; ++y) {
        const double dy = (y + 0.5) * voxelUm[1] - c[1];
        if (std::abs(dy) > radius) continue;
        for (int x = 0; x < n; ++x) {
          const double dx = (x + 0.5) * voxelUm[0] - c[0];
          if (dx * dx + dy * dy + dz * dz <= radius * radius) v.phase[v.index(x, y, z)] = 1;
        }
      }
    }
  }
  return v;
}

}  // namespace

int main() {
  for (double r : {5.0, 10.0, 20.0})
    for (double offset : {0.0, 0.5}) compare("sphere r=" + std::to_string(int(r)) + " offset " + std::to_string(offset).substr(0, 3), ball(r, offset), 1);
  for (double r : {10.0, 20.0}) compare("sphere r=" + std::to_string(int(r)) + ", voxels 1x1x2", ball(r, 0.0, {1, 1, 2}), 1);
  for (int phase : {0, 1}) {
    compare("spheres 128^3 seed 15, phase " + std::to_string(phase), spheres(128, 128, {1, 1, 1}, 15), phase);
    compare("spheres 128^2x64 0.5x0.5x1 um, phase " + std::to_string(phase), spheres(128, 64, {0.5, 0.5, 1}, 16), phase);
    compare("spheres 96^2x40 0.1x0.1x0.23 um, phase " + std::to_string(phase), spheres(96, 40, {0.1, 0.1, 0.23}, 17), phase);
    // Few slices (as the 60-slice phantom): the balls cut by the faces, many per column.
    compare("spheres 192^2x12, phase " + std::to_string(phase), spheres(192, 12, {1, 1, 1}, 18), phase);
  }
  const char* env = std::getenv("FIBSEG_REAL_DATA");
  const std::filesystem::path root = env && *env ? env : FIBSEG_REAL_DATA_ROOT;
  const auto file = root / "taufactor-electrode" / "electrode.tiff";
  if (std::filesystem::exists(file)) {
    const auto v = readLabelVolume(file, parsePhaseValues("pore=0,nmc=85,cbd=170"), std::nullopt);
    for (int p = 0; p < v.phases(); ++p) compare("taufactor electrode 256^3, " + v.phaseNames[p], v, p);
  } else {
    std::printf("taufactor electrode: %s not found, skipped\n", file.c_str());
  }
  return failures ? 1 : 0;
}
