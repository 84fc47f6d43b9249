#include "fibseg/measure/connectivity.hpp"

#include <numeric>

namespace fibseg::measure {
namespace {

struct Clusters {
  std::vector<std::uint32_t> root;     // per voxel: cluster root (only meaningful in the phase)
  std::vector<std::uint8_t> faces;     // per root: bit 2*axis = low face, 2*axis+1 = high face
};

std::uint32_t find(std::vector<std::uint32_t>& parent, std::uint32_t i) {
  while (parent[i] != i) i = parent[i] = parent[parent[i]];
  return i;
}

Clusters clustersOf(const LabelVolume& v, int phase) {
  const std::size_t n = v.voxels();
  Clusters c;
  c.root.resize(n);
  std::iota(c.root.begin(), c.root.end(), 0u);
  auto& parent = c.root;
  auto unite = [&](std::uint32_t a, std::uint32_t b) {
    a = find(parent, a);
    b = find(parent, b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  };
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) {
        const std::size_t i = v.index(x, y, z);
        if (v.phase[i] != phase) continue;
        if (x > 0 && v.phase[i - 1] == phase) unite(std::uint32_t(i), std::uint32_t(i - 1));
        if (y > 0 && v.phase[i - v.nx] == phase) unite(std::uint32_t(i), std::uint32_t(i - v.nx));
        if (z > 0 && v.phase[i - v.stride(Z)] == phase) unite(std::uint32_t(i), std::uint32_t(i - v.stride(Z)));
      }
  c.faces.assign(n, 0);
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) {
        const std::size_t i = v.index(x, y, z);
        if (v.phase[i] != phase) continue;
        const std::uint32_t r = find(parent, std::uint32_t(i));
        parent[i] = r;
        const int c3[3] = {x, y, z};
        for (int axis = 0; axis < 3; ++axis) {
          if (c3[axis] == 0) c.faces[r] |= std::uint8_t(1u << (2 * axis));
          if (c3[axis] == v.size(axis) - 1) c.faces[r] |= std::uint8_t(1u << (2 * axis + 1));
        }
      }
  return c;
}

}  // namespace

std::vector<PhaseConnectivity> connectivity(const LabelVolume& v) {
  std::vector<PhaseConnectivity> result(v.phases());
  for (int p = 0; p < v.phases(); ++p) {
    const Clusters c = clustersOf(v, p);
    std::array<long long, 3> perc{}, dead{}, iso{};
    long long all = 0, count = 0;
    for (std::size_t i = 0; i < v.voxels(); ++i) {
      if (v.phase[i] != p) continue;
      ++count;
      const std::uint8_t f = c.faces[c.root[i]];
      if (f == 0x3f) ++all;
      for (int axis = 0; axis < 3; ++axis) {
        const int touches = ((f >> (2 * axis)) & 1) + ((f >> (2 * axis + 1)) & 1);
        (touches == 2 ? perc : touches == 1 ? dead : iso)[axis]++;
      }
    }
    auto& r = result[p];
    r.voxels = count;
    if (count == 0) continue;
    for (int axis = 0; axis < 3; ++axis) {
      r.percolating[axis] = double(perc[axis]) / count;
      r.deadEnd[axis] = double(dead[axis]) / count;
      r.isolated[axis] = double(iso[axis]) / count;
    }
    r.connectedToAllFaces = double(all) / count;
  }
  return result;
}

std::vector<std::uint8_t> percolatingMask(const LabelVolume& v, int phase, int axis) {
  const Clusters c = clustersOf(v, phase);
  std::vector<std::uint8_t> mask(v.voxels(), 0);
  const std::uint8_t both = std::uint8_t(3u << (2 * axis));
  for (std::size_t i = 0; i < v.voxels(); ++i)
    if (v.phase[i] == phase && (c.faces[c.root[i]] & both) == both) mask[i] = 1;
  return mask;
}

}  // namespace fibseg::measure
