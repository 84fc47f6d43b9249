#include "fibseg/measure/local_thickness_tiled.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "fibseg/core/error.hpp"

namespace fibseg::measure {
namespace {

std::string mib(std::size_t bytes) {
  return bytes >= (std::size_t(1) << 20) ? std::to_string(bytes >> 20) + " MiB" : std::to_string(bytes >> 10) + " KiB";
}

// One phase's voxels of slices [z0, z1), a bit each: what the tiles are cut from.
struct PhaseBits {
  int phase = -1, z0 = 0, z1 = 0;
  std::vector<std::uint64_t> bits;
  bool covers(int p, int from, int to) const { return phase == p && z0 <= from && to <= z1; }
};

PhaseBits readPhaseBits(const LabelSource& source, int phase, int z0, int z1, std::size_t bufferBytes) {
  const LabelVolume& shape = source.shape();
  const std::size_t plane = std::size_t(shape.nx) * shape.ny;
  PhaseBits m;
  m.phase = phase, m.z0 = z0, m.z1 = z1;
  m.bits.assign((plane * std::size_t(z1 - z0) + 63) / 64, 0);
  const int group = int(std::clamp<std::size_t>(bufferBytes / plane, 1, std::size_t(z1 - z0)));
  for (int a = z0; a < z1; a += group) {
    const int b = std::min(z1, a + group);
    const LabelVolume slices = source.readSlices(a, b);
    const std::size_t base = std::size_t(a - z0) * plane;
    for (std::size_t i = 0; i < slices.phase.size(); ++i)
      if (slices.phase[i] == phase) m.bits[(base + i) >> 6] |= std::uint64_t(1) << ((base + i) & 63);
  }
  return m;
}

// The box's voxels as a volume of 1 (the phase) and 0 (the others).
LabelVolume cutTile(const PhaseBits& m, const LabelVolume& shape, const VoxelBox& box) {
  LabelVolume t;
  t.nx = box.to[X] - box.from[X], t.ny = box.to[Y] - box.from[Y], t.nz = box.to[Z] - box.from[Z];
  t.voxelUm = shape.voxelUm;
  t.phaseNames = {"other", "phase"};
  t.phase.resize(t.voxels());
  for (int z = 0; z < t.nz; ++z)
    for (int y = 0; y < t.ny; ++y) {
      const std::size_t from = (std::size_t(box.from[Z] + z - m.z0) * shape.ny + box.from[Y] + y) * shape.nx + box.from[X];
      std::uint8_t* row = &t.phase[t.index(0, y, z)];
      for (int x = 0; x < t.nx; ++x) row[x] = std::uint8_t((m.bits[(from + x) >> 6] >> ((from + x) & 63)) & 1);
    }
  return t;
}

// Own tiles of size `tile` and the boxes around them, `halo` voxels wider on each side (clipped).
struct TileGrid {
  std::array<int, 3> size{}, tile{}, count{}, halo{};
  VoxelBox own(const std::array<int, 3>& k) const {
    VoxelBox b;
    for (int a = 0; a < 3; ++a) b.from[a] = k[a] * tile[a], b.to[a] = std::min(size[a], b.from[a] + tile[a]);
    return b;
  }
  VoxelBox grown(const VoxelBox& o, const std::array<int, 3>& by) const {
    VoxelBox b;
    for (int a = 0; a < 3; ++a) b.from[a] = std::max(0, o.from[a] - by[a]), b.to[a] = std::min(size[a], o.to[a] + by[a]);
    return b;
  }
};

std::size_t boxVoxels(const VoxelBox& b) {
  return std::size_t(b.to[X] - b.from[X]) * std::size_t(b.to[Y] - b.from[Y]) * std::size_t(b.to[Z] - b.from[Z]);
}

// Peak bytes of a grid: the mask of the slices a tile needs, and the largest tile's work (or the
// slices being read into the mask).
std::size_t gridBytes(const TileGrid& g, std::size_t bytesPerVoxel) {
  std::array<std::size_t, 3> box{};
  for (int a = 0; a < 3; ++a) box[a] = std::size_t(std::min(g.size[a], g.tile[a] + 2 * g.halo[a]));
  const std::size_t plane = std::size_t(g.size[X]) * g.size[Y];
  return plane * box[Z] / 8 + std::max(box[X] * box[Y] * box[Z] * bytesPerVoxel, plane);
}

// The fewest tiles within the budget (more tiles along the axis whose tiles are longest first),
// or the forced size.
TileGrid chooseGrid(const LabelVolume& shape, const std::array<int, 3>& halo, std::size_t bytesPerVoxel,
                    std::size_t budget, const std::array<int, 3>& forced, const std::string& phaseName) {
  TileGrid g;
  g.size = {shape.nx, shape.ny, shape.nz};
  g.halo = halo;
  std::array<int, 3> parts{1, 1, 1};
  auto fill = [&] {
    for (int a = 0; a < 3; ++a) {
      g.tile[a] = forced[a] > 0 ? std::min(forced[a], g.size[a]) : (g.size[a] + parts[a] - 1) / parts[a];
      g.count[a] = (g.size[a] + g.tile[a] - 1) / g.tile[a];
    }
  };
  fill();
  if (forced != std::array<int, 3>{0, 0, 0}) return g;
  while (gridBytes(g, bytesPerVoxel) > budget) {
    int a = 0;
    for (int b = 1; b < 3; ++b)
      if (g.tile[b] > g.tile[a]) a = b;
    if (g.tile[a] == 1)
      throw Error("local thickness of " + phaseName + ": a tile of one voxel with its halo of " +
                  std::to_string(halo[X]) + " x " + std::to_string(halo[Y]) + " x " + std::to_string(halo[Z]) +
                  " voxels on each side needs " + mib(gridBytes(g, bytesPerVoxel)) + ", more than the " +
                  mib(budget) + " allowed (--memory-limit / measure.memory_limit_gb); raise the limit or turn "
                  "local thickness off (--no-sizes / measure.sizes = false)");
    // The next count along a that shortens its tiles.
    const int t = g.tile[a];
    while ((g.size[a] + parts[a] - 1) / parts[a] == t) ++parts[a];
    fill();
  }
  return g;
}

template <typename Visit>
void forEachTile(const TileGrid& g, Visit visit) {
  for (int kz = 0; kz < g.count[Z]; ++kz)
    for (int ky = 0; ky < g.count[Y]; ++ky)
      for (int kx = 0; kx < g.count[X]; ++kx) visit(g.own({kx, ky, kz}));
}

VoxelBox relative(const VoxelBox& b, const VoxelBox& to) {
  VoxelBox r;
  for (int a = 0; a < 3; ++a) r.from[a] = b.from[a] - to.from[a], r.to[a] = b.to[a] - to.from[a];
  return r;
}

}  // namespace

TiledThickness localThicknessTiled(const LabelSource& source, int phase, double startHaloUm, double step,
                                   const TiledThicknessOptions& o) {
  const LabelVolume& shape = source.shape();
  const std::string name = phase < shape.phases() ? shape.phaseNames[phase] : std::to_string(phase);
  const double longest = longestSideUm(shape);
  const std::size_t plane = std::size_t(shape.nx) * shape.ny;
  const std::size_t readBuffer = std::max(plane, o.memoryBytes / 8);
  auto within = [&](double um) {  // voxels along each axis that `um` spans: ceil(um / h_a)
    std::array<int, 3> h{};
    for (int a = 0; a < 3; ++a) h[a] = int(std::min<double>(shape.size(a), std::ceil(um / shape.voxelUm[a])));
    return h;
  };
  PhaseBits mask;
  auto maskFor = [&](const VoxelBox& box) -> const PhaseBits& {
    if (!mask.covers(phase, box.from[Z], box.to[Z])) {
      mask = PhaseBits{};  // freed before the next is read
      // The z-range of the whole row of tiles (the grid's boxes all span the same slices).
      mask = readPhaseBits(source, phase, box.from[Z], box.to[Z], readBuffer);
    }
    return mask;
  };
  TiledThickness r;
  // 1. R, tile by tile, each with its halo doubled until its largest distance fits in it. The
  // distances need the mask and 4 bytes a voxel; tiles sized for the first halo, and halved
  // (along their longest side) when a doubled halo no longer fits.
  const double halo = std::max(startHaloUm, *std::max_element(shape.voxelUm.begin(), shape.voxelUm.end()));
  const TileGrid first = chooseGrid(shape, within(halo), 5, o.memoryBytes, o.tile, name);
  std::function<double(const VoxelBox&, double)> largestIn = [&](const VoxelBox& own, double h) -> double {
    const VoxelBox box = first.grown(own, within(h));
    const std::size_t need = boxVoxels(box) * 5 + plane * std::size_t(box.to[Z] - box.from[Z]) / 8;  // and its mask
    if (need > o.memoryBytes) {
      int a = 0;
      for (int b = 1; b < 3; ++b)
        if (own.to[b] - own.from[b] > own.to[a] - own.from[a]) a = b;
      if (own.to[a] - own.from[a] == 1)
        throw Error("local thickness of " + name + ": finding its largest inscribed radius needs a halo of more than " +
                    std::to_string(h) + " µm, a tile of one voxel with it " + mib(need) + ", more than the " +
                    mib(o.memoryBytes) + " allowed (--memory-limit / measure.memory_limit_gb); raise the limit or " +
                    "turn local thickness off (--no-sizes / measure.sizes = false)");
      VoxelBox lower = own, upper = own;
      lower.to[a] = upper.from[a] = (own.from[a] + own.to[a]) / 2;
      return std::max(largestIn(lower, h), largestIn(upper, h));
    }
    double largest = 0;
    {  // the tile is freed before a wider one is cut
      const LabelVolume tile = cutTile(maskFor(box), shape, box);
      largest = std::min(longest, largestDistanceInTile(tile.phase, tile, relative(own, box)));
    }
    if (largest <= h || boxVoxels(box) == shape.voxels()) return ++r.radiusTiles, largest;  // exact: see the header
    return largestIn(own, 2 * h);
  };
  forEachTile(first, [&](const VoxelBox& own) { r.largestRadiusUm = std::max(r.largestRadiusUm, largestIn(own, halo)); });
  // 2. Each tile with a halo of 2 ceil(R / h_a) + 1, balls centred within ceil(R / h_a) of it.
  const std::array<int, 3> reach = within(r.largestRadiusUm);
  for (int a = 0; a < 3; ++a) r.haloVoxels[a] = std::min(shape.size(a), 2 * reach[a] + 1);
  const TileGrid second = chooseGrid(shape, r.haloVoxels, kThicknessBytesPerVoxel, o.memoryBytes, o.tile, name);
  r.tileVoxels = second.tile;
  forEachTile(second, [&](const VoxelBox& own) {
    const VoxelBox box = second.grown(own, r.haloVoxels);
    const LabelVolume tile = cutTile(maskFor(box), shape, box);
    const VoxelBox ownHere = relative(own, box);
    const auto thickness = localThicknessInTile(tile, longest, relative(second.grown(own, reach), box));
    addThicknessHistogram(thickness, tile.phase, tile, ownHere, step, r.histogram);
    if (o.onTile) o.onTile(box.from, tile, ownHere, thickness);
    ++r.tiles;
  });
  return r;
}

}  // namespace fibseg::measure
