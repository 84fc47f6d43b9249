#include "fibseg/measure/sizes.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

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

namespace {

std::vector<std::uint8_t> phaseMask(const LabelVolume& v, int phase) {
  std::vector<std::uint8_t> inside(v.voxels());
  for (std::size_t i = 0; i < inside.size(); ++i) inside[i] = v.phase[i] == phase;
  return inside;
}

VoxelBox wholeBox(const LabelVolume& v) { return {{0, 0, 0}, {v.nx, v.ny, v.nz}}; }

// Balls are centred only inside `centres` (a tile's, see sizes.hpp).
std::vector<float> localThicknessOf(const LabelVolume& v, const std::vector<std::uint8_t>& inside, double longest,
                                    const VoxelBox& centres) {
  // Local thickness as Hildebrand & Rüegsegger define it, computed exactly for balls centred on
  // voxel centres: a ball of radius dt (the distance to the nearest voxel outside the phase, as in
  // PoreSpy and BoneJ) at each centre on the distance ridge, i.e. whose ball no neighbour's ball
  // contains; every voxel takes the largest diameter 2 dt among the balls covering it. Radii are
  // the distances themselves, not rounded to whole voxels (rounding them down is what read a
  // sphere of r = 10 as 18). A phase that fills the volume has no outside: its balls stop at the
  // volume's longest side.
  auto dt2 = squaredDistanceToOutside(v, inside);
  for (auto& d : dt2)
    if (std::isinf(d)) d = float(longest * longest);
  // The ridge test first (a byte a voxel): it reads the neighbours' distances, so the centres are
  // collected after it.
  std::vector<std::uint8_t> ridge(v.voxels(), 0);
  double gap[27];  // distance to each neighbour, (dx, dy, dz) in -1..1 at (dz + 1) * 9 + (dy + 1) * 3 + dx + 1
  for (int k = 0; k < 27; ++k) {
    const int dx = k % 3 - 1, dy = k / 3 % 3 - 1, dz = k / 9 - 1;
    gap[k] = std::sqrt(dx * dx * v.voxelUm[0] * v.voxelUm[0] + dy * dy * v.voxelUm[1] * v.voxelUm[1] +
                       dz * dz * v.voxelUm[2] * v.voxelUm[2]);
  }
  const int cx0 = std::max(0, centres.from[X]), cx1 = std::min(v.nx, centres.to[X]);
  const int cy0 = std::max(0, centres.from[Y]), cy1 = std::min(v.ny, centres.to[Y]);
  const int cz0 = std::max(0, centres.from[Z]), cz1 = std::min(v.nz, centres.to[Z]);
  tbb::parallel_for(cz0, cz1, [&](int z) {
    for (int y = cy0; y < cy1; ++y)
      for (int x = cx0; x < cx1; ++x) {
        const std::size_t i = v.index(x, y, z);
        if (!inside[i]) continue;
        const double radius = std::sqrt(double(dt2[i]));
        bool isRidge = true;
        for (int dz = -1; dz <= 1 && isRidge; ++dz)
          for (int dy = -1; dy <= 1 && isRidge; ++dy)
            for (int dx = -1; dx <= 1 && isRidge; ++dx) {
              const int nx = x + dx, ny = y + dy, nz = z + dz;
              if ((!dx && !dy && !dz) || nx < 0 || ny < 0 || nz < 0 || nx >= v.nx || ny >= v.ny || nz >= v.nz) continue;
              const std::size_t j = v.index(nx, ny, nz);
              if (!inside[j]) continue;
              // Else that ball contains this one; compared squared (both sides are positive).
              const double reach = radius + gap[(dz + 1) * 9 + (dy + 1) * 3 + dx + 1] - 1e-6;
              isRidge = double(dt2[j]) < reach * reach;
            }
        ridge[i] = isRidge;
      }
  });
  // The centres by column (x, y): each column's balls, largest first. A ball is kept as its
  // squared distance (float, 8 bytes a centre with its slice), the radius recomputed from it.
  struct Centre { int z; float dt2; };
  struct ColumnRow {
    std::vector<std::uint32_t> start;  // column x's centres: centres[start[x - cx0] .. start[x - cx0 + 1])
    std::vector<Centre> centres;
  };
  std::vector<ColumnRow> columns(std::size_t(std::max(0, cy1 - cy0)));
  tbb::parallel_for(cy0, cy1, [&](int y) {
    ColumnRow& row = columns[y - cy0];
    row.start.assign(std::size_t(std::max(0, cx1 - cx0)) + 1, 0);
    std::size_t n = 0;
    for (int x = cx0; x < cx1; ++x)
      for (int z = cz0; z < cz1; ++z) n += ridge[v.index(x, y, z)];
    row.centres.reserve(n);
    for (int x = cx0; x < cx1; ++x) {
      const std::size_t first = row.centres.size();
      for (int z = cz0; z < cz1; ++z) {
        const std::size_t i = v.index(x, y, z);
        if (ridge[i]) row.centres.push_back({z, dt2[i]});
      }
      std::stable_sort(row.centres.begin() + first, row.centres.end(),
                       [](const Centre& a, const Centre& b) { return a.dt2 > b.dt2; });
      row.start[x - cx0 + 1] = std::uint32_t(row.centres.size());
    }
  });
  std::vector<float>().swap(dt2);  // the distances are done with: their memory goes to the thickness
  std::vector<std::uint8_t>().swap(ridge);
  std::vector<float> thickness(v.voxels(), 0.0f);
  // Each task paints one output slice from the balls reaching it, so no two tasks write a voxel.
  // A ball is painted as one run per row it crosses (its chord there), a plain max over a span of
  // floats that the compiler vectorises, instead of a distance test, a phase test and a square
  // root per voxel or row: same voxels (centre strictly inside the ball), same values, about 5x
  // faster (bench/README.md, Measure). Voxels outside the phase are cleared at the end.
  // The balls of one column cut the slice in concentric discs: a disc no larger than one of a
  // ball at least as large paints nothing that ball does not paint at least as high (its rows'
  // chords are, row by row, within the other's: the squared half chord r^2 - ez^2 - ey^2 is
  // computed in the same order for both and only shrinks with it). So per column and slice only
  // the discs growing as the radius falls are painted: the ridge keeps ~90 % of a phase's voxels
  // as centres, but a slice sees a few discs per column, not one per centre along it.
  // (bench/README.md, "Local thickness speed (third session)").
  const double hx = v.voxelUm[0];
  struct Disc { int y; float dt2; double disc2; };  // a ball's cut by the slice: r^2 - ez^2
  tbb::parallel_for(0, v.nz, [&](int z) {
    // The discs of this slice by line x = cx (counted, then placed): per column, only those growing
    // as the radius falls.
    std::vector<std::uint32_t> lineStart(std::size_t(std::max(0, cx1 - cx0)) + 1, 0);
    std::vector<Disc> discs;
    std::vector<std::pair<int, Disc>> found;  // (line, disc) in column order
    for (int cy = cy0; cy < cy1; ++cy) {
      const ColumnRow& row = columns[cy - cy0];
      for (int cx = cx0; cx < cx1; ++cx) {
        double wider = 0;
        for (std::uint32_t k = row.start[cx - cx0]; k < row.start[cx - cx0 + 1]; ++k) {
          const Centre& c = row.centres[k];
          const double radius = std::sqrt(double(c.dt2)), r2 = radius * radius;
          if (r2 <= wider) break;  // this ball's and the smaller ones' discs are inside one found before
          const double ez = (z - c.z) * v.voxelUm[2], disc2 = r2 - ez * ez;
          if (disc2 <= wider) continue;  // no ball reaching this slice (<= 0), or inside a larger one's disc
          wider = disc2;
          found.push_back({cx - cx0, Disc{cy, c.dt2, disc2}});
          ++lineStart[cx - cx0 + 1];
        }
      }
    }
    for (std::size_t k = 1; k < lineStart.size(); ++k) lineStart[k] += lineStart[k - 1];
    discs.resize(found.size());
    {
      std::vector<std::uint32_t> next(lineStart.begin(), lineStart.end() - 1);
      for (const auto& [line, d] : found) discs[next[line]++] = d;
    }
    std::vector<std::pair<int, Disc>>().swap(found);
    std::vector<double> widest(v.ny);  // per row: the largest r^2 - ez^2 - ey^2 painted from this line
    for (int cx = cx0; cx < cx1; ++cx) {
      const auto first = discs.begin() + lineStart[cx - cx0], last = discs.begin() + lineStart[cx - cx0 + 1];
      if (first == last) continue;
      const auto line = std::span<Disc>(first, last);
      // Largest balls first: a row's chord no longer than one painted before from this line is
      // inside it (both centred on x = cx) and painted no higher, so it is skipped.
      std::stable_sort(line.begin(), line.end(), [](const Disc& a, const Disc& b) { return a.dt2 > b.dt2; });
      std::fill(widest.begin(), widest.end(), 0.0);
      for (const Disc& d : line) {
        const double radius = std::sqrt(double(d.dt2));
        const float diameter = float(2 * radius);
        // Rows outward from the centre's: the chord only shortens, so its half width is found by
        // stepping down from the previous row's (one square root per ball and slice, not per row).
        int half = int(std::ceil(std::sqrt(d.disc2) / hx));
        for (int dy = 0;; ++dy) {
          const double ey = dy * v.voxelUm[1], rest = d.disc2 - ey * ey;
          if (rest <= 0 || (d.y - dy < 0 && d.y + dy >= v.ny)) break;
          while (half > 0 && (half * hx) * (half * hx) >= rest) --half;
          const int x0 = std::max(0, cx - half), x1 = std::min(v.nx - 1, cx + half);
          for (int y = d.y - dy; y <= d.y + dy; y += dy ? 2 * dy : 1) {
            if (y < 0 || y >= v.ny || rest <= widest[y]) continue;
            widest[y] = rest;
            float* out = thickness.data() + v.index(0, y, z);
            for (int x = x0; x <= x1; ++x) out[x] = std::max(out[x], diameter);
          }
        }
      }
    }
  });
  for (std::size_t i = 0; i < thickness.size(); ++i)
    if (!inside[i]) thickness[i] = 0.0f;
  return thickness;
}

}  // namespace

double longestSideUm(const LabelVolume& v) {
  return std::max({v.nx * v.voxelUm[0], v.ny * v.voxelUm[1], v.nz * v.voxelUm[2]});
}

std::vector<float> localThickness(const LabelVolume& v, int phase) {
  return localThicknessOf(v, phaseMask(v, phase), longestSideUm(v), wholeBox(v));
}

std::vector<float> localThicknessInBlock(const LabelVolume& block, int phase, double longestUm, int centreFrom,
                                        int centreTo) {
  return localThicknessOf(block, phaseMask(block, phase), longestUm, {{0, 0, centreFrom}, {block.nx, block.ny, centreTo}});
}

std::vector<float> localThicknessInTile(const LabelVolume& mask, double longestUm, const VoxelBox& centres) {
  return localThicknessOf(mask, mask.phase, longestUm, centres);
}

double largestDistanceInBlock(const LabelVolume& block, int phase, int zFrom, int zTo) {
  return largestDistanceInTile(phaseMask(block, phase), block, {{0, 0, zFrom}, {block.nx, block.ny, zTo}});
}

double largestDistanceInTile(const std::vector<std::uint8_t>& inside, const LabelVolume& shape, const VoxelBox& own) {
  const auto dt2 = squaredDistanceToOutside(shape, inside);
  float largest = 0;
  for (int z = own.from[Z]; z < own.to[Z]; ++z)
    for (int y = own.from[Y]; y < own.to[Y]; ++y) {
      const float* row = dt2.data() + shape.index(0, y, z);
      for (int x = own.from[X]; x < own.to[X]; ++x) largest = std::max(largest, row[x]);
    }
  return std::sqrt(double(largest));
}

void addThicknessHistogram(const std::vector<float>& thickness, const std::vector<std::uint8_t>& inside,
                           const LabelVolume& shape, const VoxelBox& own, double step, std::vector<long long>& hist) {
  for (int z = own.from[Z]; z < own.to[Z]; ++z)
    for (int y = own.from[Y]; y < own.to[Y]; ++y)
      for (int x = own.from[X]; x < own.to[X]; ++x) {
        const std::size_t i = shape.index(x, y, z);
        if (!inside[i]) continue;
        const std::size_t b = std::size_t(std::lround(thickness[i] / step)) - 1;
        if (b >= hist.size()) hist.resize(b + 1, 0);
        ++hist[b];
      }
}

void addThicknessHistogram(const std::vector<float>& thickness, const LabelVolume& block, int phase, int zFrom, int zTo,
                           double step, std::vector<long long>& hist) {
  for (std::size_t i = block.index(0, 0, zFrom); i < block.index(0, 0, zTo); ++i) {
    if (block.phase[i] != phase) continue;
    const std::size_t b = std::size_t(std::lround(thickness[i] / step)) - 1;
    if (b >= hist.size()) hist.resize(b + 1, 0);
    ++hist[b];
  }
}

void finishThickness(SizeDistribution& s, const std::vector<long long>& hist, long long count, double step) {
  // Bins as sizeDistribution makes them: one step apart by repeated addition (the same doubles).
  double d = step;
  for (std::size_t b = 0; b < hist.size(); ++b, d += step)
    if (hist[b]) s.diameterUm.push_back(d), s.voxels.push_back(hist[b]);
  long long acc = 0;
  double* targets[3] = {&s.d10, &s.d50, &s.d90};
  const double q[3] = {0.1, 0.5, 0.9};
  int t = 0;
  for (std::size_t b = 0; b < s.voxels.size() && t < 3; ++b) {
    acc += s.voxels[b];
    while (t < 3 && acc >= q[t] * count) *targets[t++] = s.diameterUm[b];
  }
}

SizeDistribution sizeDistribution(const LabelVolume& v, int phase, bool withLocalThickness) {
  SizeDistribution s;
  const std::vector<std::uint8_t> inside = phaseMask(v, phase);
  const long long count = std::count(inside.begin(), inside.end(), std::uint8_t(1));
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
  if (!withLocalThickness || count == 0) return s;

  const auto thickness = localThicknessOf(v, inside, longestSideUm(v), wholeBox(v));
  const double step = *std::min_element(v.voxelUm.begin(), v.voxelUm.end());
  std::vector<long long> hist;
  addThicknessHistogram(thickness, v, phase, 0, v.nz, step, hist);
  finishThickness(s, hist, count, step);
  return s;
}

}  // namespace fibseg::measure
