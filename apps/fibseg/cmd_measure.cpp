// `fibseg measure VOLUME.tif --out DIR`: microstructure metrics of a label volume (fractions,
// surface and interface areas, connectivity, tortuosity factors, sizes) into DIR/metrics.json.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/measure/connectivity.hpp"
#include "fibseg/measure/fractions.hpp"
#include "fibseg/measure/label_file.hpp"
#include "fibseg/measure/sizes.hpp"
#include "fibseg/measure/surface_area.hpp"
#include "fibseg/measure/tortuosity.hpp"

namespace fibseg::cli {
namespace fs = std::filesystem;

namespace {
struct MeasureOptions {
  std::string volume, out, phases = "pore=0,se=1,cam=2";
  std::vector<double> voxel;
  bool tortuosity = true, sizes = true;
};

nlohmann::json orNull(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

void measureVolume(const MeasureOptions& o) {
  using namespace measure;
  std::optional<std::array<double, 3>> voxel;
  if (!o.voxel.empty()) {
    if (o.voxel.size() != 3) throw Error("--voxel-size: expected X,Y,Z in µm");
    voxel = std::array<double, 3>{o.voxel[0], o.voxel[1], o.voxel[2]};
  }
  const auto phases = parsePhaseValues(o.phases);
  const auto info = probeLabelFile(o.volume, voxel);
  if (info.pages < 2) throw Error(o.volume + ": one page; fibseg measure needs a 3D volume (2 or more pages)");
  LabelVolume probe;
  probe.nx = info.width, probe.ny = info.height, probe.nz = info.pages;
  probe.phaseNames.resize(phases.size());
  const std::size_t need = probe.voxels() + surfaceAreaMemoryBytes(probe) +
                           (o.tortuosity ? tortuosityMemoryBytes(probe) : 0);
  const std::size_t have = availableMemoryBytes();
  if (have && need > have)
    throw Error(o.volume + ": measuring needs about " + std::to_string(need >> 20) + " MiB, " +
                std::to_string(have >> 20) + " MiB available");
  const LabelVolume v = readLabelVolume(o.volume, phases, voxel);
  const auto counts = countPhases(v, Y, 1);
  const auto fractions = volumeFractions(counts, v.voxels());
  const auto areas = surfaceAreas(v, *std::min_element(v.voxelUm.begin(), v.voxelUm.end()), Y, 1);
  const auto conn = connectivity(v);
  const double volumeUm3 = v.voxels() * v.voxelVolumeUm3();
  nlohmann::json j;
  j["voxel_size_um"] = v.voxelUm;
  j["voxel_size_source"] = info.voxelSource;
  j["size_voxels"] = {v.nx, v.ny, v.nz};
  for (int p = 0; p < v.phases(); ++p) {
    auto& ph = j["phases"][v.phaseNames[p]];
    ph["volume_fraction"] = fractions[p];
    ph["specific_surface_area_per_um"] = areas.phaseTotalUm2[p] / volumeUm3;
    for (int a = 0; a < 3; ++a) {
      ph["percolating_fraction"][axisName(a)] = conn[p].percolating[a];
      ph["dead_end_fraction"][axisName(a)] = conn[p].deadEnd[a];
      ph["isolated_fraction"][axisName(a)] = conn[p].isolated[a];
      if (o.tortuosity) {
        const auto t = tortuosity(v, p, a, {});
        ph["tortuosity_factor"][axisName(a)] = orNull(t.tau);
        ph["tortuosity_factor_percolating"][axisName(a)] = orNull(t.tauPercolating);
        ph["effective_diffusivity"][axisName(a)] = orNull(t.relativeDiffusivity);
        ph["macmullin_number"][axisName(a)] = orNull(t.macmullin);
        if (!t.tau) ph["tortuosity_null_reason"][axisName(a)] = t.reason;
      }
    }
    const auto s = sizeDistribution(v, p, o.sizes);
    auto& sd = ph["size_distribution"];
    for (int a = 0; a < 3; ++a) sd["mean_chord_um"][axisName(a)] = s.meanChordUm[a];
    if (o.sizes) {
      sd["local_thickness_d10_um"] = s.d10;
      sd["local_thickness_d50_um"] = s.d50;
      sd["local_thickness_d90_um"] = s.d90;
      sd["local_thickness_histogram"] = {{"diameter_um", s.diameterUm}, {"voxels", s.voxels}};
    }
  }
  for (std::size_t k = 0; k < areas.pairs.size(); ++k) {
    const auto [a, b] = areas.pairs[k];
    j["interfaces"][v.phaseNames[a] + "|" + v.phaseNames[b]]["area_per_volume_per_um"] =
        areas.interfaceTotalUm2[k] / volumeUm3;
  }
  j["method"]["areas"] = "gradient (coarea) method: integral of |grad f| of each phase's indicator smoothed by a "
                         "Gaussian of one voxel; interface a|b = (A_a + A_b - A_(a u b)) / 2";
  fs::create_directories(o.out);
  AtomicFile file(fs::path(o.out) / "metrics.json");
  {
    std::ofstream out(file.temporaryPath());
    out << j.dump(2) << "\n";
    if (!out) throw Error(file.targetPath().string() + ": could not write");
  }
  file.commit();
  std::cout << "wrote " << (fs::path(o.out) / "metrics.json").string() << "\n";
}
}  // namespace

void addMeasureCommand(CLI::App& app) {
  auto o = std::make_shared<MeasureOptions>();
  auto* cmd = app.add_subcommand("measure", "Microstructure metrics of a label volume into DIR/metrics.json");
  cmd->add_option("volume", o->volume, "label TIFF (one page per slice)")->required();
  cmd->add_option("--out", o->out, "output folder")->required();
  cmd->add_option("--phases", o->phases, "name=grey level,... (default pore=0,se=1,cam=2)");
  cmd->add_option("--voxel-size", o->voxel, "X,Y,Z in µm (default: file metadata, else 1)")->delimiter(',');
  cmd->add_flag("!--no-tortuosity", o->tortuosity, "skip the tortuosity factors");
  cmd->add_flag("!--no-sizes", o->sizes, "skip local thickness");
  cmd->callback([o] { measureVolume(*o); });
}

}  // namespace fibseg::cli
