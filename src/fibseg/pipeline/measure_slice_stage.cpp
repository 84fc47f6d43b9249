#include "fibseg/pipeline/measure_slice_stage.hpp"

#include "fibseg/core/atomic_file.hpp"
#include "fibseg/measure/metrics_2d.hpp"

namespace fibseg::pipeline {
namespace fs = std::filesystem;
using nlohmann::ordered_json;  // key order kept: metrics.json and run.json read as written

void writeSliceMetricsFiles(const fs::path& folder, const ordered_json& metrics) {
  writeTextFile(folder / "metrics.json", metrics.dump(2) + "\n");
  writeTextFile(folder / "metrics.csv", measure::metricsCsv(metrics));
  writeTextFile(folder / "metrics_pybamm.json", measure::pybammParameters2d(metrics).dump(2) + "\n");
  writeTextFile(folder / "slab_fractions.csv", measure::slabFractionsCsv2d(metrics));
  writeTextFile(folder / "slab_interfaces.csv", measure::slabInterfacesCsv2d(metrics));
}

ordered_json measureLabelSlice(const fs::path& labels, const std::vector<measure::PhaseValue>& phases,
                               std::optional<std::array<double, 3>> voxelUm, const measure::MetricsOptions& options,
                               const fs::path& folder, const std::string& voxelSource) {
  const measure::LabelVolume slice = measure::readLabelVolume(labels, phases, voxelUm);
  const ordered_json metrics = measure::measureMetrics2d(slice, options);
  ordered_json out;
  out["voxel_size_source"] = voxelSource;
  for (const auto& [k, v] : metrics.items()) out[k] = v;
  writeSliceMetricsFiles(folder, out);
  return out;
}

}  // namespace fibseg::pipeline
