#include "fibseg/measure/triple_phase_boundary.hpp"

#include <tbb/combinable.h>
#include <tbb/parallel_for.h>

#include <bit>

#include "fibseg/core/error.hpp"
#include "fibseg/measure/connectivity.hpp"

namespace fibseg::measure {
namespace {

void checkPhases(const LabelVolume& v) {
  if (v.phases() > 32)
    throw Error("triple-phase boundaries: " + std::to_string(v.phases()) + " phases; at most 32 are supported");
}

}  // namespace

// Counts per (phases present, phases present and percolating) bit masks of the four voxels
// around an edge, per edge axis: few distinct masks occur, so a map is small.
void addTriplePhaseEdges(const LabelVolume& v, int zOffset, int nzTotal, int zFrom, int zTo,
                         const std::vector<std::uint8_t>& percolates, TriplePhaseEdgeCounts& out) {
  checkPhases(v);
  tbb::combinable<TriplePhaseEdgeCounts> local;
  tbb::parallel_for(zFrom, zTo, [&](int z) {
    TriplePhaseEdgeCounts& counts = local.local();
    const int size[3] = {v.nx, v.ny, nzTotal};
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) {
        const int c3[3] = {x, y, z};
        const std::size_t i = v.index(x, y, z - zOffset);
        // The edge along axis a at voxel i is shared with its + neighbours along the two other axes.
        for (int a = 0; a < 3; ++a) {
          const int b = (a + 1) % 3, c = (a + 2) % 3;
          if (c3[b] + 1 >= size[b] || c3[c] + 1 >= size[c]) continue;
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
  local.combine_each([&](const TriplePhaseEdgeCounts& m) {
    for (const auto& [key, n] : m)
      for (int a = 0; a < 3; ++a) out[key][a] += n[a];
  });
}

TriplePhaseBoundaries finishTriplePhaseBoundaries(const LabelVolume& v, const TriplePhaseEdgeCounts& counts,
                                                  int activeAxis) {
  const int phases = v.phases();
  TriplePhaseBoundaries out;
  out.activeAxis = activeAxis;
  out.volumeUm3 = double(v.voxels()) * v.voxelVolumeUm3();
  for (int a = 0; a < 3; ++a) {
    const int b = (a + 1) % 3, c = (a + 2) % 3;
    out.interiorEdges += (long long)v.size(a) * std::max(0, v.size(b) - 1) * std::max(0, v.size(c) - 1);
  }
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

TriplePhaseBoundaries triplePhaseBoundaries(const LabelVolume& v, int activeAxis) {
  checkPhases(v);
  // percolates[i] = 1 when voxel i is in a cluster of its phase touching both faces normal to activeAxis.
  std::vector<std::uint8_t> percolates;
  if (activeAxis >= 0) {
    percolates.assign(v.voxels(), 0);
    for (int p = 0; p < v.phases(); ++p) {
      const auto mask = percolatingMask(v, p, activeAxis);
      for (std::size_t i = 0; i < mask.size(); ++i) percolates[i] |= mask[i];
    }
  }
  TriplePhaseEdgeCounts counts;
  addTriplePhaseEdges(v, 0, v.nz, 0, v.nz, percolates, counts);
  return finishTriplePhaseBoundaries(v, counts, activeAxis);
}

}  // namespace fibseg::measure
