#include "fibseg/pipeline/run_outcome.hpp"

#include <cstdio>

#include "fibseg/pipeline/measure_stage.hpp"
#include "fibseg/report/csv_table.hpp"

namespace fibseg::pipeline {
namespace fs = std::filesystem;
using nlohmann::ordered_json;  // key order kept: metrics.json and run.json read as written

ordered_json measureFailure(const std::string& why, const fs::path& staging, std::ostream& log) {
  std::error_code ec;
  for (const auto& name : metricsFileNames()) fs::remove(staging / name, ec);  // no half set of metrics
  log << "error: the measure stage failed: " << why
      << "\n       the segmentation and every other output are kept; no metrics files were written "
         "(`fibseg run --strict` exits non-zero for this)\n";
  return {{"failed", why},
          {"kept", "every output but the metrics files: labels.tif, segmented/, phase_fractions.csv, report.html"}};
}

std::vector<std::string> runWarnings(const ordered_json& run, const fs::path& staging) {
  std::vector<std::string> warnings;
  // Bridged slices by name: transforms.csv has them (flagged = 1); the count alone says less.
  try {
    if (fs::exists(staging / "transforms.csv")) {
      const auto t = report::CsvTable::read(staging / "transforms.csv");
      for (std::size_t r = 0; r < t.rows(); ++r)
        if (t.hasColumn("flagged") && t.flag(r, "flagged"))
          warnings.push_back("slice " + t.text(r, "slice") + " (" + t.text(r, "name") +
                             ") bridged: no trusted comparison measured its step; it is guessed from its neighbours");
    }
  } catch (const std::exception& e) {
    warnings.push_back(std::string("transforms.csv could not be read for bridged slices: ") + e.what());
  }
  if (const std::string w = run.value("alignment_warning", ""); !w.empty()) warnings.push_back(w);
  if (run.contains("not_carried_over") && run["not_carried_over"].is_array())
    for (const auto& w : run["not_carried_over"]) warnings.push_back(w.get<std::string>());
  if (run.contains("phase_fractions") && run["phase_fractions"].is_object())
    for (const auto& [phase, f] : run["phase_fractions"].items())
      if (f.is_number() && f.get<double>() == 0)
        warnings.push_back("phase " + phase + " not found: no pixel of any slice was given it");
  if (run.contains("measure") && run["measure"].is_object()) {
    const auto& m = run["measure"];
    if (m.contains("failed"))
      warnings.push_back("the measure stage failed (" + m["failed"].get<std::string>() +
                         "): no metrics; the segmentation and every other output are kept");
    else if (m.contains("skipped"))
      warnings.push_back("the measure stage was skipped: " + m["skipped"].get<std::string>());
  }
  if (run.contains("pixel_size_nm") && run["pixel_size_nm"].is_number() && run["pixel_size_nm"].get<double>() <= 0)
    warnings.push_back("pixel size unknown (no metadata, input.pixel_size_nm = 0): sizes are in pixels");
  return warnings;
}

ordered_json withWarnings(ordered_json run, const fs::path& staging, const fs::path& outputFolder) {
  run["output_folder"] = fs::absolute(outputFolder).lexically_normal().string();
  run["warnings"] = runWarnings(run, staging);
  return run;
}

}  // namespace fibseg::pipeline
