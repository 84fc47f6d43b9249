#include "fibseg/mpi/measure_over_mpi.hpp"

#include <HYPRE_utilities.h>
#include <mpi.h>

#include <cstdio>
#include <iostream>

#include "fibseg/core/error.hpp"
#include "fibseg/mpi/distributed_tortuosity.hpp"
#include "fibseg/pipeline/measure_stage.hpp"

namespace fibseg::mpi {
namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

// MPI and hypre for the lifetime of the job; finalised only if started here.
struct Session {
  bool startedMpi = false;
  Session() {
    int ready = 0;
    MPI_Initialized(&ready);
    if (!ready) {
      MPI_Init(nullptr, nullptr);
      startedMpi = true;
    }
    HYPRE_Init();
  }
  ~Session() {
    HYPRE_Finalize();
    if (startedMpi) MPI_Finalize();
  }
};

constexpr int kStop = -1;

json runJob(const MeasureJob& job, std::ostream& log, MPI_Comm comm) {
  int rank = 0, ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  const auto info = measure::probeLabelFile(job.volume, job.voxelUm);
  if (info.pages < ranks)
    throw Error(job.volume.string() + ": " + std::to_string(info.pages) + " slices for " + std::to_string(ranks) +
                " MPI ranks; each rank needs at least one slice (use fewer ranks)");
  Slab slab;
  if (job.metrics.tortuosity) {
    const auto [first, end] = slabRange(info.pages, rank, ranks);
    slab = readLabelSlab(job.volume, job.phases, job.voxelUm, first, end - first);
  }
  const auto solve = [&](int phase, int axis, json* record) {
    DistributedSolveInfo stats;
    const auto t = distributedTortuosity(slab, phase, axis, {}, comm, &stats);
    if (record) {
      (*record)[measure::axisName(axis)] = {{"iterations", t.iterations},
                                            {"setup_s", stats.setupSeconds},
                                            {"solve_s", stats.solveSeconds},
                                            {"relative_residual", stats.relativeResidual},
                                            {"flux_spread", t.fluxSpread}};
      char line[200];
      std::snprintf(line, sizeof line, "mpi: tau_%s of %s on %d ranks: %s, %d PCG iterations, setup %.2f s, solve %.2f s",
                    measure::axisName(axis), job.phases[phase].name.c_str(), ranks,
                    t.tau ? std::to_string(*t.tau).c_str() : ("null (" + t.reason + ")").c_str(), t.iterations,
                    stats.setupSeconds, stats.solveSeconds);
      log << line << std::endl;
    }
    return t;
  };

  if (rank != 0) {  // solve what rank 0 names until it says stop
    for (;;) {
      int order[2];
      MPI_Bcast(order, 2, MPI_INT, 0, comm);
      if (order[0] == kStop) return json();
      solve(order[0], order[1], nullptr);
    }
  }
  json solves = json::object();
  measure::MetricsOptions options = job.metrics;
  options.tortuositySolver = [&](int phase, int axis) {
    int order[2] = {phase, axis};
    MPI_Bcast(order, 2, MPI_INT, 0, comm);
    return solve(phase, axis, &solves[job.phases[phase].name]);
  };
  json metrics = pipeline::measureLabelFile(job.volume, job.phases, job.voxelUm, options, job.out);
  int stop[2] = {kStop, kStop};
  MPI_Bcast(stop, 2, MPI_INT, 0, comm);
  if (job.metrics.tortuosity) {
    metrics["tortuosity_solver"] = {
        {"method", "hypre Struct PCG preconditioned by PFMG over MPI (fibseg measure --mpi), each rank a z slab"},
        {"ranks", ranks},
        {"solves", solves}};
    pipeline::writeMetricsFiles(job.out, metrics);
  }
  return metrics;
}

}  // namespace

std::optional<json> measureOverMpi(const MeasureJob& job, std::ostream& log) {
  Session session;
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  try {
    json metrics = runJob(job, log, MPI_COMM_WORLD);
    if (rank != 0) return std::nullopt;
    return metrics;
  } catch (const std::exception& e) {
    std::cerr << "error (MPI rank " << rank << " of " << ranks << "): " << e.what() << std::endl;
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  return std::nullopt;
}

}  // namespace fibseg::mpi
