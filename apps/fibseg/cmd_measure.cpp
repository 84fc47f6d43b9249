// `fibseg measure VOLUME.tif --out DIR`: microstructure metrics of a label volume (fractions,
// surface and interface areas, connectivity, tortuosity factors, sizes, profiles along the
// thickness) into DIR: metrics.json, metrics.csv, metrics_pybamm.json, slab_fractions.csv,
// slab_interfaces.csv. The same numbers as the last stage of `fibseg run` (measureMetrics).
#include <filesystem>
#include <iostream>

#include "commands.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/core/text.hpp"
#include "fibseg/measure/multiphase_diffusion.hpp"
#include "fibseg/pipeline/measure_stage.hpp"
#ifdef FIBSEG_HAVE_MPI
#include "fibseg/mpi/measure_over_mpi.hpp"
#endif

namespace fibseg::cli {
namespace fs = std::filesystem;

namespace {
struct MeasureOptions {
  std::string volume, out, phases = "pore=0,se=1,cam=2";
  std::vector<double> voxel;
  measure::MetricsOptions metrics;
  std::string slabAxis = "y";
  std::string tortuosity;  // --tortuosity PHASE[:AXES],... | all | none
  std::string diffusivities;
  bool mpi = false;
};

void measureVolume(MeasureOptions o) {
  std::optional<std::array<double, 3>> voxel;
  if (!o.voxel.empty()) {
    if (o.voxel.size() != 3) throw Error("--voxel-size: expected X,Y,Z in µm");
    voxel = std::array<double, 3>{o.voxel[0], o.voxel[1], o.voxel[2]};
  }
  const std::string axis = toLower(o.slabAxis);
  if (axis != "x" && axis != "y" && axis != "z") throw Error("--slab-axis " + o.slabAxis + ": expected x, y or z");
  o.metrics.slabAxis = axis == "x" ? measure::X : axis == "y" ? measure::Y : measure::Z;
  if (!o.tortuosity.empty())
    o.metrics.tortuositySelection = measure::parseTortuositySelection(o.tortuosity, "--tortuosity");
  o.metrics.log = [](const std::string& line) { std::cout << line << std::endl; };
  const auto phases = measure::parsePhaseValues(o.phases);
  o.metrics.diffusivities = measure::parseDiffusivities(o.diffusivities, "--diffusivities");
  fs::create_directories(o.out);
  nlohmann::ordered_json metrics;
  if (o.mpi) {
#ifdef FIBSEG_HAVE_MPI
    const auto m = mpi::measureOverMpi({o.volume, o.out, phases, voxel, o.metrics}, std::cout);
    if (!m) return;  // not rank 0: rank 0 writes and reports
    metrics = *m;
#else
    throw Error("--mpi: this fibseg was built without MPI and hypre (install libopenmpi-dev and libhypre-dev, rebuild)");
#endif
  } else {
    metrics = pipeline::measureLabelFile(o.volume, phases, voxel, o.metrics, o.out);
  }
  std::cout << pipeline::metricsSummaryLine(metrics) << "\n";
  std::string files;
  for (const auto& name : pipeline::metricsFileNames()) files += (files.empty() ? "" : ", ") + name;
  std::cout << "wrote " << files << " in " << o.out << " (voxel size " << metrics.at("voxel_size_um").dump()
            << " µm: " << metrics.at("voxel_size_source").get<std::string>() << ")\n";
}
}  // namespace

void addMeasureCommand(CLI::App& app) {
  auto o = std::make_shared<MeasureOptions>();
  auto* cmd = app.add_subcommand("measure", "Microstructure metrics of a label volume into DIR/metrics.json and tables");
  cmd->add_option("volume", o->volume, "label TIFF (one page per slice) or OME-Zarr store (labels.zarr)")->required();
  cmd->add_option("--out", o->out, "output folder")->required();
  cmd->add_option("--phases", o->phases, "name=grey level,... (default pore=0,se=1,cam=2)");
  cmd->add_option("--voxel-size", o->voxel, "X,Y,Z in µm (default: file metadata, else 1)")->delimiter(',');
  cmd->add_flag("!--no-tortuosity", o->metrics.tortuosity, "skip the tortuosity factors");
  cmd->add_option("--tortuosity", o->tortuosity,
                  "solve only these: PHASE[:AXES],... (e.g. pore:z,se), all or none; named solves run even where "
                  "the volume is too short to be representative (default: every phase and axis where it is not)");
  cmd->add_option("--tortuosity-min-chords", o->metrics.tortuosityMinChords,
                  "solve tau only where the volume spans this many mean chords of the phase (default 10; 0 = always)");
  cmd->add_option("--memory-limit", o->metrics.memoryLimitGb,
                  "GB the measurement may use; larger volumes are measured in blocks of slices (default: half "
                  "the memory available)");
  cmd->add_option("--tortuosity-mode", o->metrics.tortuosityMode,
                  "full, rev (sub-volume cubes of growing edge: tau mean +- std per edge) or auto (default: full "
                  "when the solve fits the memory limit)");
  cmd->add_option("--rev-positions", o->metrics.rev.positions, "REV cubes per edge (default 5)");
  cmd->add_option("--block-slices", o->metrics.blockSlices, "force blocks of this many slices (testing)");
  cmd->add_flag("!--no-sizes", o->metrics.sizes, "skip local thickness");
  cmd->add_option("--slabs", o->metrics.slabs, "slabs along the thickness axis (default 10)");
  cmd->add_option("--slab-axis", o->slabAxis, "thickness axis: x, y (image rows, default) or z");
  cmd->add_option("--electrolyte", o->metrics.electrolytePhase, "the ion-conducting phase's name (default se)");
  cmd->add_option("--active-material", o->metrics.activeMaterialPhase, "the active material's name (default cam)");
  cmd->add_option("--electrode", o->metrics.electrode, "positive (default) or negative: PyBaMM name prefix");
  cmd->add_option("--diffusivities", o->diffusivities,
                  "relative diffusivity per phase, e.g. \"pore=1, cbd=0.1\": the multi-phase D_eff and tau");
  cmd->add_flag("!--no-electrode-tortuosity", o->metrics.electrodeTortuosity, "skip the electrode tortuosity factor");
  cmd->add_flag("!--no-particles", o->metrics.particles, "skip the active material's particles by watershed");
  cmd->add_flag("!--keep-boundary-particles", o->metrics.particlesRemoveBoundary,
                "keep the particles touching the volume's faces");
  cmd->add_flag("!--no-triple-phase-boundaries", o->metrics.triplePhaseBoundaries, "skip the TPB densities");
  cmd->add_flag("--mpi", o->mpi, "solve the tortuosity factors across MPI ranks (mpirun -np N / srun; rank 0 writes)");
  cmd->callback([o] { measureVolume(*o); });
}

}  // namespace fibseg::cli
