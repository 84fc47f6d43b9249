#pragma once
// The report's "Microstructure metrics" section, from the measure stage's metrics.json: a table
// of the metrics per phase and interface, the profiles along the thickness (phase fractions,
// interface areas per volume, the active material's surface shares, per slab, mean and std over
// the slices), the size histograms, the PyBaMM parameters, and under each figure one line on
// how it was computed (the areas line is the estimator's own text from metrics.json).
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace fibseg::report {

struct MeasureSection {
  std::string body;                // HTML
  std::vector<std::string> notes;  // pieces left out (listed at the top of the page)
};

/// The body for a single slice's metrics.json ("dimensions": 2, measure_2d.cpp): area fractions,
/// boundary lengths, the profiles across the image, what was not computed and why.
std::string sliceMetricsBody(const nlohmann::ordered_json& metrics,
                             const std::vector<std::pair<std::string, std::string>>& phaseColours);

/// `phaseColours`: (phase key as in metrics.json, lower case; CSS colour) for the plots.
/// A folder without metrics.json gives a body saying why (run.json's measure.skipped, if any).
MeasureSection measureSection(const std::filesystem::path& folder,
                              const std::vector<std::pair<std::string, std::string>>& phaseColours);

}  // namespace fibseg::report
