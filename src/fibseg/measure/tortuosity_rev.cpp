#include "fibseg/measure/tortuosity_rev.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace fibseg::measure {

std::vector<int> revEdges(const LabelVolume& shape, int smallestEdge, int largestEdge) {
  // At most half the smallest side: a cube as large as the volume is the full solve (and the
  // positions would all be the same cube).
  int side = std::min({shape.nx, shape.ny, shape.nz}) / 2;
  if (largestEdge > 0) side = std::min(side, largestEdge);
  std::vector<int> edges;
  for (int e = std::max(2, smallestEdge); e <= side; e *= 2) edges.push_back(e);
  if (edges.empty()) edges.push_back(std::max(2, side));
  return edges;
}

SolveCost revSolveCost(const LabelVolume& shape, const RevOptions& o, bool withFull) {
  SolveCost cost;
  std::string edges;
  for (int edge : revEdges(shape, o.smallestEdge, o.largestEdge)) {
    edge = std::min({edge, shape.nx, shape.ny, shape.nz});  // as revCubes makes them
    cost.voxels += double(o.positions) * edge * edge * edge;
    edges += (edges.empty() ? "" : ", ") + std::to_string(edge) + "^3";
  }
  cost.how = "by REV: " + std::to_string(o.positions) + " cubes of each edge (" + edges + ")";
  if (withFull) cost.voxels += double(shape.voxels()), cost.how += ", and the whole volume beside them";
  return cost;
}

RevCubes revCubes(const LabelSource& source, const RevOptions& o) {
  const LabelVolume& shape = source.shape();
  RevCubes cubes;
  std::mt19937 rng(o.seed);  // the same origins for every phase and axis, run after run
  for (int edge : revEdges(shape, o.smallestEdge, o.largestEdge)) {
    edge = std::min({edge, shape.nx, shape.ny, shape.nz});
    cubes.edges.push_back(edge);
    for (int k = 0; k < o.positions; ++k) {
      std::array<int, 3> at{};
      for (int a = 0; a < 3; ++a) at[a] = int(std::uniform_int_distribution<int>(0, shape.size(a) - edge)(rng));
      cubes.origins.push_back(at);
      cubes.edgeOf.push_back(int(cubes.edges.size()) - 1);
      cubes.cubes.push_back(makeVolume(edge, edge, edge, shape.phaseNames, shape.voxelUm));
    }
  }
  // Each slice read once (a large volume's slices are large) and copied into every cube it crosses.
  for (int z = 0; z < shape.nz; ++z) {
    bool needed = false;
    for (std::size_t c = 0; c < cubes.cubes.size(); ++c)
      needed = needed || (z >= cubes.origins[c][2] && z < cubes.origins[c][2] + cubes.cubes[c].nz);
    if (!needed) continue;
    const LabelVolume slice = source.readSlices(z, z + 1);
    for (std::size_t c = 0; c < cubes.cubes.size(); ++c) {
      auto& cube = cubes.cubes[c];
      const auto& at = cubes.origins[c];
      if (z < at[2] || z >= at[2] + cube.nz) continue;
      for (int y = 0; y < cube.ny; ++y)
        std::copy_n(&slice.phase[slice.index(at[0], at[1] + y, 0)], cube.nx, &cube.phase[cube.index(0, y, z - at[2])]);
    }
  }
  return cubes;
}

RevResult tortuosityRev(const RevCubes& cubes, int phase, int axis) {
  RevResult r;
  for (std::size_t k = 0; k < cubes.edges.size(); ++k) {
    RevEdge e;
    e.edge = cubes.edges[k];
    double sum = 0, squares = 0;
    int solved = 0;
    for (std::size_t c = 0; c < cubes.cubes.size(); ++c) {
      if (cubes.edgeOf[c] != int(k)) continue;
      e.origins.push_back(cubes.origins[c]);
      const auto t = tortuosity(cubes.cubes[c], phase, axis, {});
      e.tau.push_back(t.tau);
      if (t.tau) sum += *t.tau, squares += *t.tau * *t.tau, ++solved;
    }
    if (solved) {
      e.mean = sum / solved;
      e.std = std::sqrt(std::max(0.0, squares / solved - *e.mean * *e.mean));
    }
    r.edges.push_back(e);
  }
  r.tau = r.edges.back().mean;
  if (!r.tau) r.reason = "the phase percolates along this axis in none of the largest REV cubes";
  return r;
}

RevResult tortuosityRev(const LabelSource& source, int phase, int axis, const RevOptions& o) {
  return tortuosityRev(revCubes(source, o), phase, axis);
}

}  // namespace fibseg::measure
