// The page in its order; each section is its own file (sections/*.cpp).
#include "fibseg/report/report.hpp"

#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/core/text.hpp"
#include "fibseg/report/sections/measure.hpp"
#include "fibseg/report/sections/sections.hpp"

namespace fibseg::report {
namespace fs = std::filesystem;
using namespace detail;

std::string buildReportHtml(const fs::path& outputFolder) {
  std::error_code ec;
  if (!fs::is_directory(outputFolder, ec))
    throw Error("report: output folder " + outputFolder.string() +
                " does not exist or is not a folder; expected the folder written by `fibseg run`");
  Page page(outputFolder);
  std::string runNote;
  const auto run = readRunJson(page, runNote);
  if (run && run->contains("output_folder") && (*run)["output_folder"].is_string())
    page.setShownFolder((*run)["output_folder"].get<std::string>());  // not the staging folder
  addRunSection(page, run, runNote);
  addParametersSection(page);
  addDriftSection(page, run);
  addOrthoAlignmentSection(page, run);
  addBrightnessSection(page);
  addHistogramSection(page, run);
  addGaborSection(page, run);

  std::optional<Fractions> fractions;
  std::string fractionsProblem;
  const fs::path fractionsPath = outputFolder / "phase_fractions.csv";
  if (!fs::exists(fractionsPath)) {
    fractionsProblem = page.missing("phase_fractions.csv", "phase fractions per slice are not shown");
  } else {
    try {
      fractions = readFractions(fractionsPath);
    } catch (const std::exception& e) {
      fractionsProblem = page.note("phase_fractions.csv could not be read (" + std::string(e.what()) +
                                   "): phase fractions are not shown.");
    }
  }
  const ReportPhases phases = phasesOf(run);
  addOverlaySection(page, fractions, phases);
  addFractionsSection(page, fractions, fractionsProblem, phases);
  addOrthoLabelsSection(page, run, phases);
  addUncertaintySection(page);
  std::vector<std::pair<std::string, std::string>> colours;
  for (std::size_t p = 0; p < phases.names.size(); ++p) colours.emplace_back(toLower(phases.names[p]), phases.hex(int(p)));
  auto measured = measureSection(outputFolder, colours);
  for (const auto& n : measured.notes) page.note(n);
  page.add({"metrics", "Microstructure metrics", measured.body});
  addSummarySection(page, run, phases);  // first on the page; built last, as it lists every note
  return page.html();
}

void writeReport(const fs::path& outputFolder) {
  const std::string html = buildReportHtml(outputFolder);
  writeTextFile(outputFolder / "report.html", html);
}

}  // namespace fibseg::report
