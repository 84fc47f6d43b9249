#pragma once
// `mpirun -np N fibseg measure VOLUME --out DIR --mpi`: every metric as `fibseg measure` gives
// it, with each tortuosity factor solved across the N ranks (distributedTortuosity). Every rank
// reads only its own z slab of the label TIFF for the solves; rank 0 also computes the other
// metrics (measureLabelFile, with the solves handed to the ranks) and writes the files. The
// other ranks wait for rank 0 to name each (phase, axis) to solve, so the selection and order
// of solves are the measure stage's own.
#include <array>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <nlohmann/json.hpp>
#include <vector>

#include "fibseg/measure/label_file.hpp"
#include "fibseg/measure/metrics.hpp"

namespace fibseg::mpi {

struct MeasureJob {
  std::filesystem::path volume, out;
  std::vector<measure::PhaseValue> phases;
  std::optional<std::array<double, 3>> voxelUm;
  measure::MetricsOptions metrics;
};

/// Initialises MPI (and hypre) unless already done, runs the job, finalises. Returns the metrics
/// on rank 0 and nothing on the others. An error on any rank is printed with the rank and ends
/// every rank (MPI_Abort), since the others would otherwise wait for it forever.
std::optional<nlohmann::ordered_json> measureOverMpi(const MeasureJob& job, std::ostream& log);

}  // namespace fibseg::mpi
