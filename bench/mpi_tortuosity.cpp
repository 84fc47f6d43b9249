// The distributed tortuosity solve (src/fibseg/mpi/) timed against the serial one, for
// bench/README.md "Measure, large volumes" / "MPI":
//   mpirun --allow-run-as-root -np N build/bench/mpi_tortuosity VOLUME.tif PHASES PHASE AXIS [REPEATS] [--serial]
// e.g. mpirun -np 2 build/bench/mpi_tortuosity electrode.tiff pore=0,nmc=85,cbd=170 pore z 3 --serial
// Each repeat is the whole solve (domain labelling, matrix, preconditioner setup, PCG); rank 0
// prints wall and its own CPU time. --serial (one rank only: other ranks would spin in MPI while
// waiting and take the serial solver's cores): then measure::tortuosity on the whole volume (its
// TBB threads) in the same process, same repeats.
#include <HYPRE_utilities.h>
#include <mpi.h>

#include <cstdio>
#include <ctime>
#include <sys/resource.h>
#include <string>

#include "fibseg/measure/label_file.hpp"
#include "fibseg/measure/tortuosity.hpp"
#include "fibseg/mpi/distributed_tortuosity.hpp"

using namespace fibseg;

namespace {
double peakRssMiB() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}
double cpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}
}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  HYPRE_Init();
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  if (argc < 5) {
    if (rank == 0) std::fprintf(stderr, "usage: mpi_tortuosity VOLUME.tif PHASES PHASE AXIS [REPEATS] [--serial]\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  const std::string volume = argv[1], phaseName = argv[3], axisText = argv[4];
  const int repeats = argc > 5 && argv[5][0] != '-' ? std::stoi(argv[5]) : 1;
  const bool serial = std::string(argv[argc - 1]) == "--serial";
  if (serial && ranks > 1) {
    if (rank == 0) std::fprintf(stderr, "mpi_tortuosity: --serial needs -np 1 (waiting ranks spin on the cores)\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  const auto phases = measure::parsePhaseValues(argv[2]);
  int phase = -1;
  for (std::size_t p = 0; p < phases.size(); ++p)
    if (phases[p].name == phaseName) phase = int(p);
  const int axis = axisText == "x" ? 0 : axisText == "y" ? 1 : 2;
  const auto info = measure::probeLabelFile(volume, std::nullopt);
  const auto [first, end] = mpi::slabRange(info.pages, rank, ranks);
  const auto slab = mpi::readLabelSlab(volume, phases, std::nullopt, first, end - first);
  const double voxels = double(info.width) * info.height * info.pages;
  for (int k = 0; k < repeats; ++k) {
    MPI_Barrier(MPI_COMM_WORLD);
    const double wall = MPI_Wtime(), cpu = cpuSeconds();
    mpi::DistributedSolveInfo stats;
    const auto t = mpi::distributedTortuosity(slab, phase, axis, {}, MPI_COMM_WORLD, &stats);
    const double w = MPI_Wtime() - wall, c = cpuSeconds() - cpu;
    if (rank == 0)
      std::printf("hypre %d ranks: tau %.6f spread %.2e iterations %d | wall %.2f s (setup %.2f, solve %.2f) "
                  "%.1f ns/voxel | rank 0 CPU %.2f s, peak RSS %.0f MiB\n",
                  ranks, t.tau.value_or(-1), t.fluxSpread, t.iterations, w, stats.setupSeconds, stats.solveSeconds,
                  1e9 * w / voxels, c, peakRssMiB());
  }
  if (serial && rank == 0) {
    const auto whole = measure::readLabelVolume(volume, phases, std::nullopt);
    for (int k = 0; k < repeats; ++k) {
      const double cpu = cpuSeconds(), wall = MPI_Wtime();
      const auto t = measure::tortuosity(whole, phase, axis, {});
      const double w = MPI_Wtime() - wall;
      std::printf("serial: tau %.6f spread %.2e iterations %d | wall %.2f s %.1f ns/voxel | CPU %.2f s\n",
                  t.tau.value_or(-1), t.fluxSpread, t.iterations, w, 1e9 * w / voxels, cpuSeconds() - cpu);
    }
  }
  HYPRE_Finalize();
  MPI_Finalize();
}
