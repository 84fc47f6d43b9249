#include "fibseg/measure/triple_phase_boundary.hpp"

#include <tbb/combinable.h>
#include <tbb/parallel_for.h>

#include <bit>
#include <map>

#include "fibseg/core/error.hpp"
#include "fibseg/measure/connectivity.hpp"

namespace fibseg::measure {
namespace {

// Counts per (phases present, phases present and percolating) bit masks of the four voxels
// around an edge, per edge axis: few distinct masks occur, so a map is small.
using MaskCounts = std::map<std::uint64_t, std::array<long long, 3>>;

}  // namespace

TriplePhaseBoundaries triplePhaseBoundaries(const LabelVolume& v, int activeAxis) {
  const int phases = v.phases();
  if (phases > 32) throw Error("triple-phase boundaries: " + std::to_string(phases) + " phases; at most 32 are supported");
  TriplePhaseBoundaries out;
  out.activeAxis = activeAxis;
  out.volumeUm3 = double(v.voxels()) * v.voxelVolumeUm3();
  for (int a = 0; a < 3; ++a) {
    const int b = (a + 1) % 3, c = (a + 2) % 3;
    out.interiorEdges += (long long)v.size(a) * std::max(0, v.size(b) - 1) * std::max(0, v.size(c) - 1);
  }
  // percolates[i] = 1 when voxel i is in a cluster of its phase touching both faces normal to activeAxis.
  std::vector<std::uint8_t> percolates;
  if (activeAxis >= 0) {
    percolates.assign(v.voxels(), 0);
    for (int p = 0; p < phases; ++p) {
      const auto mask = percolatingMask(v, p, activeAxis);
      for (std::size_t i = 0; i < mask.size(); ++i) percolates[i] |= mask[i];
    }
  }
  tbb::combinable<MaskCounts> local;
  tbb::parallel_for(0, v.nz, [&](int z) {
    MaskCounts& counts = local.local();
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) {
        const int c3[3] = {x, y, z};
        const std::size_t i = v.index(x, y, z);
        // The edge along axis a at voxel i is shared with its + neighbours along the two other axes.
        for (int a = 0; a < 3; ++a) {
          const int b = (a + 1) % 3, c = (a + 2) % 3;
          if (c3[b] + 1 >= v.size(b) || c3[c] + 1 >= v.size(c)) continue;
          const std::size_t four[4] = {i, i + v.stride(b), i + v.stride(c), i + v.stride(b) + v.stride(c)};
          std::uint32_t present = 0, active = 0;
          for (std::size_t k : four) {
            present |= 1u << v.phase[k];
            if (!percolates.empty() && percolates[k]) active |= 1u << v.phase[k];
          }
          if (std::popcount(present) < 3) continue;
          ++counts[std::uint64_t(present) | std::uint64_t(active) << 32][a];
        }
      }
  });
  MaskCounts counts;
  local.combine_each([&](const MaskCounts& m) {
    for (const auto& [key, n] : m)
      for (int a = 0; a < 3; ++a) counts[key][a] += n[a];
  });
  for (int p = 0; p < phases; ++p)
    for (int q = p + 1; q < phases; ++q)
      for (int r = q + 1; r < phases; ++r) {
        TriplePhaseBoundary t;
        t.phases = {p, q, r};
        const std::uint32_t triple = (1u << p) | (1u << q) | (1u << r);
        for (const auto& [key, n] : counts) {
          const auto present = std::uint32_t(key), active = std::uint32_t(key >> 32);
          if ((present & triple) != triple) continue;
          const bool isActive = (active & triple) == triple;
          for (int a = 0; a < 3; ++a) {
            t.edges += n[a];
            t.lengthUm += double(n[a]) * v.voxelUm[a];
            if (isActive) t.activeEdges += n[a], t.activeLengthUm += double(n[a]) * v.voxelUm[a];
          }
        }
        out.triples.push_back(t);
      }
  return out;
}

}  // namespace fibseg::measure
