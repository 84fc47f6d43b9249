#pragma once
// The report's sections, one file each (sections/*.cpp); report.cpp puts them in page order.
// Each adds itself to the page, or a visible note saying which file is missing and why.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fibseg/report/page.hpp"

namespace fibseg::report::detail {

struct Fractions {
  std::vector<std::string> phases;                      // the CSV's phase columns, in order
  std::map<long long, std::vector<double>> perSlice;    // percent
  std::optional<std::vector<double>> total;             // percent
};

/// phase_fractions.csv; throws fibseg::Error naming the file when it cannot be read.
Fractions readFractions(const fs::path& path);

void addRunSection(Page& page, const std::optional<json>& run, const std::string& runNote);  // run.json, timings
void addParametersSection(Page& page);                                                        // parameters_used.toml
void addDriftSection(Page& page, const std::optional<json>& run);                            // transforms.csv
void addOrthoAlignmentSection(Page& page, const std::optional<json>& run);
void addBrightnessSection(Page& page);                                                        // brightness.csv
void addHistogramSection(Page& page, const std::optional<json>& run);                        // preview/histogram.csv
void addGaborSection(Page& page, const std::optional<json>& run);
void addFractionsSection(Page& page, const std::optional<Fractions>& f, const std::string& problem,
                         const ReportPhases& phases);
void addOverlaySection(Page& page, const std::optional<Fractions>& fractions, const ReportPhases& phases);
void addOrthoLabelsSection(Page& page, const std::optional<json>& run, const ReportPhases& phases);
void addUncertaintySection(Page& page);  // uncertainty_regions.csv (output.uncertainty_pngs), else nothing
/// The 3D views (view3d_labels.png, view3d_grey.png) with a line on the depth scale.
std::string view3dFigures(Page& page, const std::optional<json>& run);
/// The first screen (summary.cpp); added last, placed first: it lists every note of the page.
void addSummarySection(Page& page, const std::optional<json>& run, const ReportPhases& phases);

}  // namespace fibseg::report::detail
