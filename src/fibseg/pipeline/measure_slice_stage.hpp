#pragma once
// The measure stage for a label TIFF of one page (a single slice or a 2D image): reads it,
// measures it in 2D (measure/metrics_2d.hpp) and writes the same five files as the 3D stage,
// their columns those of a slice (area fractions, interface lengths per area).
#include <array>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "fibseg/measure/label_file.hpp"
#include "fibseg/measure/metrics.hpp"

namespace fibseg::pipeline {

/// metrics.json, metrics.csv, metrics_pybamm.json, slab_fractions.csv, slab_interfaces.csv of a slice.
void writeSliceMetricsFiles(const std::filesystem::path& folder, const nlohmann::ordered_json& metrics);

/// Reads the one-page `labels`, measures it and writes the metrics files into `folder`.
nlohmann::ordered_json measureLabelSlice(const std::filesystem::path& labels,
                                         const std::vector<measure::PhaseValue>& phases,
                                         std::optional<std::array<double, 3>> voxelUm,
                                         const measure::MetricsOptions& options, const std::filesystem::path& folder,
                                         const std::string& voxelSource);

}  // namespace fibseg::pipeline
