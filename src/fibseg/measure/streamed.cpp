#include "fibseg/measure/streamed.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "fibseg/core/error.hpp"

namespace fibseg::measure {

void addPhaseCounts(const LabelVolume& b, int zOffset, int nzTotal, int slabAxis, int slabs, int zFrom, int zTo,
                    PhaseCounts& c) {
  const int phases = b.phases();
  const int n = slabAxis == Z ? nzTotal : b.size(slabAxis);
  if (c.total.empty()) {
    if (slabs < 1 || slabs > n)
      throw Error("measure.slabs = " + std::to_string(slabs) + ": expected 1 to " + std::to_string(n) +
                  " (the volume's size along " + axisName(slabAxis) + ")");
    c.total.assign(phases, 0);
    c.perSlice.assign(nzTotal, std::vector<long long>(phases, 0));
    c.perSlabSlice.assign(slabs, std::vector<std::vector<long long>>(nzTotal, std::vector<long long>(phases, 0)));
  }
  std::vector<int> slabOfCoord(n);
  for (int i = 0; i < n; ++i) slabOfCoord[i] = slabOf(i, n, slabs);
  for (int z = zFrom; z < zTo; ++z) {
    for (int y = 0; y < b.ny; ++y) {
      const std::uint8_t* row = &b.phase[b.index(0, y, z - zOffset)];
      for (int x = 0; x < b.nx; ++x) {
        const int p = row[x];
        const int coord = slabAxis == X ? x : slabAxis == Y ? y : z;
        ++c.perSlice[z][p];
        ++c.perSlabSlice[slabOfCoord[coord]][z][p];
      }
    }
    for (int p = 0; p < phases; ++p) c.total[p] += c.perSlice[z][p];  // whole slices in z order, as countPhases
  }
}

std::array<double, 3> ChordRuns::meanChordUm(int p, const std::array<double, 3>& h) const {
  std::array<double, 3> m{};
  for (int a = 0; a < 3; ++a) m[a] = runs[p][a] ? double(voxels[p]) / runs[p][a] * h[a] : 0.0;
  return m;
}

void addChordRuns(const LabelVolume& b, int zOffset, int zFrom, int zTo, ChordRuns& r) {
  for (int z = zFrom; z < zTo; ++z) {
    const int lz = z - zOffset;
    for (int y = 0; y < b.ny; ++y)
      for (int x = 0; x < b.nx; ++x) {
        const std::size_t i = b.index(x, y, lz);
        const int p = b.phase[i];
        ++r.voxels[p];
        if (x == 0 || b.phase[i - 1] != p) ++r.runs[p][X];
        if (y == 0 || b.phase[i - b.nx] != p) ++r.runs[p][Y];
        if (z == 0 || b.phase[i - b.stride(Z)] != p) ++r.runs[p][Z];
      }
  }
}

std::uint64_t StreamedConnectivity::find(std::uint64_t i) const {
  while (parent_[i] != i) i = parent_[i] = parent_[parent_[i]];
  return i;
}

void StreamedConnectivity::addBlock(const LabelVolume& b, int zOffset) {
  if (zOffset != nextZ_) throw Error("streamed connectivity: blocks must come in z order");
  nextZ_ += b.nz;
  // The block's clusters: union-find over voxels of the same phase (one pass for all phases).
  const std::size_t n = b.voxels();
  std::vector<std::uint32_t> local(n);
  std::iota(local.begin(), local.end(), 0u);
  auto findLocal = [&](std::uint32_t i) {
    while (local[i] != i) i = local[i] = local[local[i]];
    return i;
  };
  auto unite = [&](std::uint32_t a, std::uint32_t c) {
    a = findLocal(a), c = findLocal(c);
    if (a != c) local[std::max(a, c)] = std::min(a, c);
  };
  for (int z = 0; z < b.nz; ++z)
    for (int y = 0; y < b.ny; ++y)
      for (int x = 0; x < b.nx; ++x) {
        const std::size_t i = b.index(x, y, z);
        const auto p = b.phase[i];
        if (x > 0 && b.phase[i - 1] == p) unite(std::uint32_t(i), std::uint32_t(i - 1));
        if (y > 0 && b.phase[i - b.nx] == p) unite(std::uint32_t(i), std::uint32_t(i - b.nx));
        if (z > 0 && b.phase[i - b.stride(Z)] == p) unite(std::uint32_t(i), std::uint32_t(i - b.stride(Z)));
      }
  // Global ids for the roots (in voxel order), then each voxel's id, faces and counts.
  const std::uint64_t base = parent_.size();
  std::vector<std::uint32_t> id(n);
  std::uint64_t clusters = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t r = findLocal(std::uint32_t(i));
    id[i] = r == i ? std::uint32_t(clusters++) : id[r];  // a root precedes its members
  }
  parent_.resize(base + clusters);
  std::iota(parent_.begin() + base, parent_.end(), base);
  faces_.resize(base + clusters, 0);
  phase_.resize(base + clusters, 0);
  voxels_.resize(base + clusters, 0);
  const int nzTotal = shape_.nz;
  for (int z = 0; z < b.nz; ++z)
    for (int y = 0; y < b.ny; ++y)
      for (int x = 0; x < b.nx; ++x) {
        const std::size_t i = b.index(x, y, z);
        const std::uint64_t c = base + id[i];
        phase_[c] = b.phase[i];
        ++voxels_[c];
        const int at[3] = {x, y, zOffset + z}, size[3] = {b.nx, b.ny, nzTotal};
        for (int a = 0; a < 3; ++a) {
          if (at[a] == 0) faces_[c] |= std::uint8_t(1u << (2 * a));
          if (at[a] == size[a] - 1) faces_[c] |= std::uint8_t(2u << (2 * a));
        }
      }
  // Join across the face with the previous block's last slice.
  const std::size_t plane = std::size_t(b.nx) * b.ny;
  if (!lastIds_.empty())
    for (std::size_t i = 0; i < plane; ++i)
      if (lastPhase_[i] == b.phase[i]) {
        const std::uint64_t a = find(lastIds_[i]), c = find(base + id[i]);
        if (a != c) parent_[std::max(a, c)] = std::min(a, c);
      }
  lastIds_.resize(plane);
  lastPhase_.assign(b.phase.end() - plane, b.phase.end());
  for (std::size_t i = 0; i < plane; ++i) lastIds_[i] = base + id[n - plane + i];
}

std::vector<PhaseConnectivity> StreamedConnectivity::result() const {
  const int phases = shape_.phases();
  std::vector<std::uint8_t> joined(parent_.size(), 0);
  for (std::uint64_t c = 0; c < parent_.size(); ++c) joined[find(c)] |= faces_[c];
  std::vector<std::array<long long, 3>> perc(phases), dead(phases), iso(phases);
  std::vector<long long> all(phases, 0), count(phases, 0);
  for (std::uint64_t c = 0; c < parent_.size(); ++c) {
    const int p = phase_[c];
    const long long n = voxels_[c];
    const std::uint8_t f = joined[find(c)];
    count[p] += n;
    if (f == 0x3f) all[p] += n;
    for (int axis = 0; axis < 3; ++axis) {
      const int touches = ((f >> (2 * axis)) & 1) + ((f >> (2 * axis + 1)) & 1);
      (touches == 2 ? perc : touches == 1 ? dead : iso)[p][axis] += n;
    }
  }
  std::vector<PhaseConnectivity> out(phases);
  for (int p = 0; p < phases; ++p) {
    auto& r = out[p];
    r.voxels = count[p];
    if (count[p] == 0) continue;
    for (int axis = 0; axis < 3; ++axis) {
      r.percolating[axis] = double(perc[p][axis]) / count[p];
      r.deadEnd[axis] = double(dead[p][axis]) / count[p];
      r.isolated[axis] = double(iso[p][axis]) / count[p];
    }
    r.connectedToAllFaces = double(all[p]) / count[p];
  }
  return out;
}

std::size_t streamedBytesPerSlice(const LabelVolume& shape, bool sizes) {
  // Areas: labels + one float field per phase; connectivity: labels + 2 x 4-byte labels. The
  // local thickness comes after, in tiles of its own size (a slice of them needs its bit mask).
  const std::size_t plane = std::size_t(shape.nx) * shape.ny;
  const std::size_t perVoxel = std::max<std::size_t>(1 + 4 * shape.phases(), 9);
  return plane * perVoxel + (sizes ? plane / 8 : 0);
}

MeasuredParts measureStreamed(const LabelSource& source, int slabAxis, int slabs, double smoothingUm, bool sizes,
                              int blockSlices, double sizesMinChords, const TiledThicknessOptions& thicknessOptions,
                              bool triplePhaseBoundaries) {
  const LabelVolume& shape = source.shape();
  const int nz = shape.nz, phases = shape.phases();
  if (blockSlices < 1) throw Error("streamed metrics: block of " + std::to_string(blockSlices) + " slices");
  MeasuredParts r;
  r.blockSlices = std::min(blockSlices, nz);
  ChordRuns chords(phases);
  {  // scoped: the clusters' union-find is freed before the local thickness
  AreaLayers layers(phases, nz, slabs);
  StreamedConnectivity connectivity(shape);
  const int areaHalo = areaHaloSlices(shape, smoothingUm);
  TriplePhaseEdgeCounts tpbEdges;
  for (int z0 = 0; z0 < nz; z0 += r.blockSlices) {
    const int z1 = std::min(nz, z0 + r.blockSlices);
    ++r.blocks;
    // Cell layers z0 - 1 .. z1 - 2 (and the last block's z1 - 1): the slices they need, with the halo.
    const int czFrom = z0 - 1, czTo = z1 == nz ? nz : z1 - 1;
    const int from = std::max(0, czFrom - areaHalo + 1), to = std::min(nz, czTo + areaHalo);
    const LabelVolume block = source.readSlices(from, to);
    addPhaseCounts(block, from, nz, slabAxis, slabs, z0, z1, r.counts);
    addChordRuns(block, from, z0, z1, chords);
    addAreaLayers(block, from, nz, smoothingUm, slabAxis, slabs, czFrom, czTo, layers);
    if (triplePhaseBoundaries) addTriplePhaseEdges(block, from, nz, std::max(0, czFrom), czTo, {}, tpbEdges);
    if (from == z0 && to == z1) connectivity.addBlock(block, z0);
    else connectivity.addBlock(source.readSlices(z0, z1), z0);  // its own slices only
  }
  r.areas = finishAreas(layers, phases, nz, slabs);
  if (triplePhaseBoundaries) r.triplePhaseBoundaries = finishTriplePhaseBoundaries(shape, tpbEdges, -1);
  r.connectivity = connectivity.result();
  }
  r.sizes.resize(phases);
  r.sizesNullReason.resize(phases);
  std::vector<bool> thickness(phases, false);
  for (int p = 0; p < phases; ++p) {
    r.sizes[p].meanChordUm = chords.meanChordUm(p, shape.voxelUm);
    std::array<double, 3> inVoxels{};
    for (int a = 0; a < 3; ++a) inVoxels[a] = r.sizes[p].meanChordUm[a] / shape.voxelUm[a];
    if (sizes && chords.voxels[p] > 0) r.sizesNullReason[p] = sizesNotRepresentative(shape, inVoxels, sizesMinChords);
    thickness[p] = sizes && chords.voxels[p] > 0 && r.sizesNullReason[p].empty();
  }
  // Local thickness: in tiles along x, y and z with halos as wide as the largest inscribed
  // radius, found first (local_thickness_tiled.hpp).
  const double step = *std::min_element(shape.voxelUm.begin(), shape.voxelUm.end());
  for (int p = 0; p < phases; ++p) {
    if (!thickness[p]) continue;
    // The first halo: the phase's longest mean chord (about its feature size), 8 voxels at least.
    double startHalo = 8 * *std::max_element(shape.voxelUm.begin(), shape.voxelUm.end());
    for (double c : r.sizes[p].meanChordUm) startHalo = std::max(startHalo, c);
    const auto t = localThicknessTiled(source, p, startHalo, step, thicknessOptions);
    r.thicknessHaloSlices = std::max(r.thicknessHaloSlices, t.haloVoxels[Z]);
    for (int a = 0; a < 3; ++a) {
      r.thicknessHaloVoxels[a] = std::max(r.thicknessHaloVoxels[a], t.haloVoxels[a]);
      r.thicknessTileVoxels[a] = std::max(r.thicknessTileVoxels[a], t.tileVoxels[a]);
    }
    r.thicknessTiles += t.tiles;
    finishThickness(r.sizes[p], t.histogram, chords.voxels[p], step);
  }
  return r;
}

}  // namespace fibseg::measure
