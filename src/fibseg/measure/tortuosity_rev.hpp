#pragma once
// Tortuosity by representative volume elements (REV), for volumes whose full solve does not fit
// in memory: cubes of growing edge (64, 128, 256, ... voxels, up to the volume's smallest side)
// at several positions drawn uniformly through the volume with a fixed seed, each solved as the
// full solver does (its own boundary conditions, tau with the cube's own volume fraction); per
// edge the mean and population standard deviation over the cubes where the phase percolates.
// The means flattening out with the edge says the volume is representative; the largest edge's
// mean is the estimate. Only the cubes' slices are read (a LabelSource), one cube at a time.
#include <array>
#include <optional>
#include <vector>

#include "fibseg/measure/label_source.hpp"
#include "fibseg/measure/tortuosity.hpp"
#include "fibseg/measure/tortuosity_plan.hpp"

namespace fibseg::measure {

struct RevOptions {
  int smallestEdge = 64;  // voxels; edges double up to half the volume's smallest side
  int largestEdge = 0;    // and no more than this (0: no limit; the memory limit sets it)
  int positions = 5;      // cubes per edge
  unsigned seed = 1;
};

struct RevEdge {
  int edge = 0;
  std::vector<std::array<int, 3>> origins;  // x, y, z of each cube's first voxel
  std::vector<std::optional<double>> tau;   // per cube (null: not percolating)
  std::optional<double> mean, std;          // over the non-null
};

struct RevResult {
  std::vector<RevEdge> edges;
  std::optional<double> tau;  // the largest edge's mean
  std::string reason;         // why tau is null
};

/// The cube edges for a volume: doubling from smallestEdge up to half its smallest side and
/// largestEdge (> 0); that half side alone when smaller than smallestEdge.
std::vector<int> revEdges(const LabelVolume& shape, int smallestEdge, int largestEdge);

/// What one (phase, axis) solves by REV, for the time estimate: `positions` cubes of each edge,
/// and the whole volume when `withFull` (rev asked for where the full solve fits: both are solved).
SolveCost revSolveCost(const LabelVolume& shape, const RevOptions& options, bool withFull);

/// The cubes themselves (small: a few times the largest edge cubed), read once for every phase and axis.
struct RevCubes {
  std::vector<int> edges;
  std::vector<std::array<int, 3>> origins;
  std::vector<int> edgeOf;  // index into edges, per cube
  std::vector<LabelVolume> cubes;
};
RevCubes revCubes(const LabelSource& source, const RevOptions& options);
RevResult tortuosityRev(const RevCubes& cubes, int phase, int axis);
RevResult tortuosityRev(const LabelSource& source, int phase, int axis, const RevOptions& options);

}  // namespace fibseg::measure
