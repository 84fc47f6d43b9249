#include "fibseg/mpi/percolating_domain.hpp"

#include <algorithm>
#include <limits>
#include <numeric>
#include <string>

#include "fibseg/core/error.hpp"

namespace fibseg::mpi {
namespace {

constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
// Touch bits of a cluster: the two faces normal to the axis, and the two faces this slab
// shares with its neighbour ranks (a cluster touching one of those may join another slab's).
constexpr std::uint8_t kInlet = 1, kOutlet = 2, kSlabBottom = 4, kSlabTop = 8;

std::uint32_t findRoot(std::vector<std::uint32_t>& parent, std::uint32_t i) {
  while (parent[i] != i) i = parent[i] = parent[parent[i]];
  return i;
}
// The smaller index becomes the root, so a cluster's root is its first voxel in memory order.
void join(std::vector<std::uint32_t>& parent, std::uint32_t a, std::uint32_t b) {
  a = findRoot(parent, a), b = findRoot(parent, b);
  if (a != b) parent[std::max(a, b)] = std::min(a, b);
}

struct LocalClusters {
  std::vector<std::uint32_t> label;  // per voxel: cluster number or kNone
  std::vector<std::uint8_t> touches;  // per cluster
};

LocalClusters labelSlab(const Slab& slab, int phase, int axis) {
  const auto& v = slab.volume;
  if (v.voxels() >= kNone) throw Error("mpi: a slab of " + std::to_string(v.voxels()) + " voxels; use more ranks");
  const int size[3] = {v.nx, v.ny, slab.nzTotal};
  std::vector<std::uint32_t> parent(v.voxels(), kNone);
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) {
        const auto i = std::uint32_t(v.index(x, y, z));
        if (v.phase[i] != phase) continue;
        parent[i] = i;
        if (x > 0 && parent[i - 1] != kNone) join(parent, i, i - 1);
        if (y > 0 && parent[i - v.nx] != kNone) join(parent, i, std::uint32_t(i - v.nx));
        if (z > 0 && parent[i - v.stride(2)] != kNone) join(parent, i, std::uint32_t(i - v.stride(2)));
      }
  LocalClusters c;
  c.label.assign(v.voxels(), kNone);
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) {
        const auto i = std::uint32_t(v.index(x, y, z));
        if (parent[i] == kNone) continue;
        const std::uint32_t root = findRoot(parent, i);  // <= i: labelled already
        if (root == i) {
          c.label[i] = std::uint32_t(c.touches.size());
          c.touches.push_back(0);
        } else {
          c.label[i] = c.label[root];
        }
        const int at[3] = {x, y, slab.z0 + z};
        std::uint8_t& t = c.touches[c.label[i]];
        if (at[axis] == 0) t |= kInlet;
        if (at[axis] == size[axis] - 1) t |= kOutlet;
        if (z == 0 && !slab.first()) t |= kSlabBottom;
        if (z == v.nz - 1 && !slab.last()) t |= kSlabTop;
      }
  return c;
}

int checkedCount(std::size_t n, const char* what) {
  if (n > std::size_t(std::numeric_limits<int>::max()))
    throw Error(std::string("mpi: too many ") + what + " on one slab face for one message; use more ranks");
  return int(n);
}

// Rank 0: the percolating flag of every face cluster of every rank, from their touch bits and
// the pairs of face clusters that meet across slab faces. Ids arrive ascending (rank order, each
// rank's ascending), so a cluster's place in `ids` is found by binary search.
std::vector<std::uint8_t> joinFaceClusters(const std::vector<std::uint64_t>& ids, const std::vector<std::uint8_t>& touches,
                                           const std::vector<std::uint64_t>& pairs) {
  std::vector<std::uint32_t> parent(ids.size());
  std::iota(parent.begin(), parent.end(), 0u);
  const auto place = [&](std::uint64_t id) {
    const auto it = std::lower_bound(ids.begin(), ids.end(), id);
    if (it == ids.end() || *it != id) throw Error("mpi: a face cluster missing from the gathered list (internal)");
    return std::uint32_t(it - ids.begin());
  };
  for (std::size_t k = 0; k + 1 < pairs.size(); k += 2) join(parent, place(pairs[k]), place(pairs[k + 1]));
  std::vector<std::uint8_t> rootTouches(ids.size(), 0);
  for (std::size_t k = 0; k < ids.size(); ++k) rootTouches[findRoot(parent, std::uint32_t(k))] |= touches[k];
  std::vector<std::uint8_t> percolating(ids.size());
  for (std::size_t k = 0; k < ids.size(); ++k) {
    const auto t = rootTouches[findRoot(parent, std::uint32_t(k))];
    percolating[k] = (t & kInlet) && (t & kOutlet);
  }
  return percolating;
}

template <class T>
std::vector<T> gatherToRoot(const std::vector<T>& mine, MPI_Datatype type, MPI_Comm comm, std::vector<int>& counts,
                            std::vector<int>& offsets) {
  int rank = 0, ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  const int n = checkedCount(mine.size(), "clusters");
  counts.assign(ranks, 0);
  MPI_Gather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, comm);
  offsets.assign(ranks, 0);
  std::size_t total = 0;
  for (int r = 0; r < ranks; ++r) offsets[r] = checkedCount(total, "clusters"), total += std::size_t(counts[r]);
  std::vector<T> all(rank == 0 ? total : 0);
  MPI_Gatherv(mine.data(), n, type, all.data(), counts.data(), offsets.data(), type, 0, comm);
  return all;
}

}  // namespace

DomainSlab percolatingDomain(const Slab& slab, int phase, int axis, MPI_Comm comm) {
  int rank = 0, ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  const auto& v = slab.volume;
  const std::size_t plane = std::size_t(v.nx) * v.ny;
  const int planeCount = checkedCount(plane, "voxels");
  const int down = slab.first() ? MPI_PROC_NULL : rank - 1, up = slab.last() ? MPI_PROC_NULL : rank + 1;

  LocalClusters c = labelSlab(slab, phase, axis);
  const std::uint64_t clusters = c.touches.size();
  std::uint64_t base = 0;  // this rank's first global cluster id
  MPI_Exscan(&clusters, &base, 1, MPI_UINT64_T, MPI_SUM, comm);
  if (rank == 0) base = 0;  // MPI_Exscan leaves rank 0's undefined
  std::uint64_t baseBelow = 0;
  MPI_Sendrecv(&base, 1, MPI_UINT64_T, up, 0, &baseBelow, 1, MPI_UINT64_T, down, 0, comm, MPI_STATUS_IGNORE);

  // The clusters of the slab below on its top plane, against ours on our bottom plane.
  std::vector<std::uint32_t> belowLabels(plane, kNone);
  MPI_Sendrecv(c.label.data() + (v.voxels() - plane), planeCount, MPI_UINT32_T, up, 1, belowLabels.data(), planeCount,
               MPI_UINT32_T, down, 1, comm, MPI_STATUS_IGNORE);
  std::vector<std::uint64_t> pairs;
  for (std::size_t i = 0; i < plane; ++i)
    if (belowLabels[i] != kNone && c.label[i] != kNone) pairs.push_back(baseBelow + belowLabels[i]), pairs.push_back(base + c.label[i]);
  {  // one pair per pair of clusters
    std::vector<std::pair<std::uint64_t, std::uint64_t>> p;
    for (std::size_t k = 0; k < pairs.size(); k += 2) p.emplace_back(pairs[k], pairs[k + 1]);
    std::sort(p.begin(), p.end());
    p.erase(std::unique(p.begin(), p.end()), p.end());
    pairs.clear();
    for (const auto& [a, b] : p) pairs.push_back(a), pairs.push_back(b);
  }

  std::vector<std::uint64_t> faceIds;
  std::vector<std::uint8_t> faceTouches;
  for (std::size_t k = 0; k < c.touches.size(); ++k)
    if (c.touches[k] & (kSlabBottom | kSlabTop)) faceIds.push_back(base + k), faceTouches.push_back(c.touches[k]);

  std::vector<int> counts, offsets, pairCounts, pairOffsets;
  const auto allIds = gatherToRoot(faceIds, MPI_UINT64_T, comm, counts, offsets);
  const auto allTouches = gatherToRoot(faceTouches, MPI_UINT8_T, comm, counts, offsets);
  const auto allPairs = gatherToRoot(pairs, MPI_UINT64_T, comm, pairCounts, pairOffsets);
  std::vector<std::uint8_t> allPercolating;
  if (rank == 0) allPercolating = joinFaceClusters(allIds, allTouches, allPairs);
  std::vector<std::uint8_t> facePercolating(faceIds.size());
  MPI_Scatterv(allPercolating.data(), counts.data(), offsets.data(), MPI_UINT8_T, facePercolating.data(),
               int(faceIds.size()), MPI_UINT8_T, 0, comm);

  std::vector<std::uint8_t> percolating(c.touches.size());
  for (std::size_t k = 0, f = 0; k < c.touches.size(); ++k)
    percolating[k] = (c.touches[k] & (kSlabBottom | kSlabTop)) ? facePercolating[f++]
                                                               : (c.touches[k] & kInlet) && (c.touches[k] & kOutlet);

  DomainSlab d;
  d.inDomain.resize(v.voxels());
  long long counted[2] = {0, 0};
  for (std::size_t i = 0; i < v.voxels(); ++i) {
    d.inDomain[i] = c.label[i] != kNone && percolating[c.label[i]];
    counted[0] += c.label[i] != kNone;
    counted[1] += d.inDomain[i];
  }
  long long total[2] = {0, 0};
  MPI_Allreduce(counted, total, 2, MPI_LONG_LONG, MPI_SUM, comm);
  d.phaseVoxels = total[0], d.domainVoxels = total[1];
  d.below.assign(plane, 0);
  d.above.assign(plane, 0);
  MPI_Sendrecv(d.inDomain.data() + (v.voxels() - plane), planeCount, MPI_UINT8_T, up, 2, d.below.data(), planeCount,
               MPI_UINT8_T, down, 2, comm, MPI_STATUS_IGNORE);
  MPI_Sendrecv(d.inDomain.data(), planeCount, MPI_UINT8_T, down, 3, d.above.data(), planeCount, MPI_UINT8_T, up, 3,
               comm, MPI_STATUS_IGNORE);
  return d;
}

}  // namespace fibseg::mpi
