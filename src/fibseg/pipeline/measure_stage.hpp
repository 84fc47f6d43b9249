#pragma once
// The measure stage's I/O: a label TIFF in (read page by page into one byte per voxel, refused
// before any work when it and the metrics' working memory would not fit), the metrics files out.
// The numbers themselves come from measure::measureMetrics, shared with `fibseg measure` and
// the Python binding.
#include <array>
#include <filesystem>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fibseg/measure/label_file.hpp"
#include "fibseg/measure/label_source.hpp"
#include "fibseg/measure/metrics.hpp"

namespace fibseg::pipeline {

/// The files measureLabelFile writes into its folder, in the order written.
const std::vector<std::string>& metricsFileNames();

/// metrics.json, metrics.csv, metrics_pybamm.json, slab_fractions.csv, slab_interfaces.csv.
void writeMetricsFiles(const std::filesystem::path& folder, const nlohmann::ordered_json& metrics);

/// Reads `labels` (grey levels named by `phases`), measures it and writes the metrics files
/// into `folder`: whole when it fits memoryLimitBytes, else in blocks of slices (the same
/// numbers; a full tortuosity solve that does not fit is null with the reason). Throws
/// fibseg::Error naming the file when even one block would not fit.
nlohmann::ordered_json measureLabelFile(const std::filesystem::path& labels, const std::vector<measure::PhaseValue>& phases,
                                        std::optional<std::array<double, 3>> voxelUm,
                                        const measure::MetricsOptions& options, const std::filesystem::path& folder);

/// The same on a volume read through `source` (a label TIFF, the run's labels.zarr, ...), named
/// `labels` in messages; 3D (2 or more slices).
nlohmann::ordered_json measureLabels(const measure::LabelSource& source, const std::string& labels,
                                     const std::string& voxelSource, const measure::MetricsOptions& options,
                                     const std::filesystem::path& folder);

/// The memory the measure stage may use: measure.memory_limit_gb, else half the memory available.
std::size_t memoryLimitBytes(const measure::MetricsOptions& options);

/// One line with the key figures: fractions, tortuosity along the thickness axis, interface
/// areas per volume ("measure: pore 0.109, se 0.386 (tau_y 2.31), ...").
std::string metricsSummaryLine(const nlohmann::ordered_json& metrics);

}  // namespace fibseg::pipeline
