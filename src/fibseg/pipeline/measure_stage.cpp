#include "fibseg/pipeline/measure_stage.hpp"

#include <cstdio>

#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/measure/metrics_2d.hpp"
#include "fibseg/pipeline/measure_slice_stage.hpp"

namespace fibseg::pipeline {
namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

const std::vector<std::string>& metricsFileNames() {
  static const std::vector<std::string> names{"metrics.json", "metrics.csv", "metrics_pybamm.json",
                                              "slab_fractions.csv", "slab_interfaces.csv"};
  return names;
}

void writeMetricsFiles(const fs::path& folder, const json& metrics) {
  writeTextFile(folder / "metrics.json", metrics.dump(2) + "\n");
  writeTextFile(folder / "metrics.csv", measure::metricsCsv(metrics));
  writeTextFile(folder / "metrics_pybamm.json", measure::pybammParameters(metrics).dump(2) + "\n");
  writeTextFile(folder / "slab_fractions.csv", measure::slabFractionsCsv(metrics));
  writeTextFile(folder / "slab_interfaces.csv", measure::slabInterfacesCsv(metrics));
}

json measureLabelFile(const fs::path& labels, const std::vector<measure::PhaseValue>& phases,
                      std::optional<std::array<double, 3>> voxelUm, const measure::MetricsOptions& options,
                      const fs::path& folder) {
  const auto info = measure::probeLabelFile(labels, voxelUm);
  if (info.pages < 2)  // a single slice or 2D image: its 2D metrics (measure_slice_stage.hpp)
    return measureLabelSlice(labels, phases, voxelUm, options, folder, info.voxelSource);
  measure::LabelVolume probe;
  probe.nx = info.width, probe.ny = info.height, probe.nz = info.pages;
  probe.phaseNames.resize(phases.size());
  const std::size_t need = probe.voxels() + measure::metricsMemoryBytes(probe, options);
  const std::size_t have = measure::availableMemoryBytes();
  if (have && need > have)
    throw Error(labels.string() + " (" + std::to_string(info.width) + " x " + std::to_string(info.height) + " x " +
                std::to_string(info.pages) + " voxels): measuring needs about " + std::to_string(need >> 20) +
                " MiB, " + std::to_string(have >> 20) +
                " MiB available; turn off measure.tortuosity / measure.sizes (--no-tortuosity, --no-sizes), "
                "measure a crop, or use a larger machine");
  const measure::LabelVolume volume = measure::readLabelVolume(labels, phases, voxelUm);
  json metrics = measure::measureMetrics(volume, options);
  json out;
  out["voxel_size_source"] = info.voxelSource;
  for (const auto& [k, v] : metrics.items()) out[k] = v;
  writeMetricsFiles(folder, out);
  return out;
}

std::string metricsSummaryLine(const json& m) {
  if (measure::isMetrics2d(m)) return measure::metrics2dSummaryLine(m);
  const std::string axis = m.at("options").at("slab_axis");
  std::string line = "measure:";
  char text[160];
  bool first = true;
  for (const auto& [name, ph] : m.at("phases").items()) {
    std::snprintf(text, sizeof text, "%s %s %.3f", first ? "" : ",", name.c_str(), ph.at("volume_fraction").get<double>());
    line += text;
    first = false;
    if (ph.contains("tortuosity_factor")) {
      const auto& t = ph["tortuosity_factor"][axis];
      if (t.is_number()) std::snprintf(text, sizeof text, " (tau_%s %.2f)", axis.c_str(), t.get<double>());
      else std::snprintf(text, sizeof text, " (tau_%s null)", axis.c_str());
      line += text;
    }
  }
  line += ";";
  first = true;
  for (const auto& [name, in] : m.at("interfaces").items()) {
    std::snprintf(text, sizeof text, "%s %s %.3f", first ? "" : ",", name.c_str(),
                  in.at("area_per_volume_per_um").get<double>());
    line += text;
    first = false;
  }
  return line + " µm^-1 (interface area per volume)";
}

}  // namespace fibseg::pipeline
