// Section "Summary", the report's first screen: what was done, what to worry about (every
// warning of run.json, and the pieces left out of the page), the 3D views, and the phase
// fractions with the headline metrics. The sections after it are the detail.
#include <fstream>

#include "fibseg/core/text.hpp"
#include "fibseg/measure/metrics_2d.hpp"
#include "fibseg/report/csv_table.hpp"
#include "fibseg/report/sections/sections.hpp"

namespace fibseg::report::detail {

namespace {

std::optional<json> readMetrics(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  try {
    return json::parse(in);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string text(const json& run, const char* key, const std::string& fallback = "") {
  const json* v = findKey(run, key);
  return v && v->is_string() ? v->get<std::string>() : fallback;
}

std::string methodName(const std::string& method) {
  if (method == "notebook") return "the original notebook's method (CLAHE, non-local means + Otsu, Gabor pores)";
  if (method == "classifier") return "the trained pixel classifier";
  if (method == "classical") return "the classical path (Otsu for CAM, Gabor filter for pores)";
  return method.empty() ? "an unrecorded method" : method;
}

// One sentence per stage, from run.json.
std::string whatWasDone(const json& run, const Page& page) {
  std::string html = "<ul id=\"summary-done\">";
  const auto slices = findNumber(&run, {"slices"});
  std::string input = slices ? formatNumber(*slices) + (*slices == 1 ? " slice" : " slices") : std::string("slices");
  const auto w = findNumber(&run, {"image_width"}), h = findNumber(&run, {"image_height"});
  if (w && h) input += " of " + formatNumber(*w) + " &times; " + formatNumber(*h) + " px";
  if (auto bits = findNumber(&run, {"bit_depth"})) input += ", " + formatNumber(*bits) + "-bit";
  if (auto p = findNumber(&run, {"pixel_size_nm"}); p && *p > 0) input += ", pixel size " + formatNumber(*p, 3) + " nm";
  html += "<li>Read " + input + ".</li>";
  if (slices && *slices == 1) {
    html += "<li>A single slice: nothing to align.</li>";
  } else if (slices) {
    const auto bridged = findNumber(&run, {"bridged_slices"});
    html += "<li>Aligned the slices" +
            (bridged ? std::string(" (") + formatNumber(*bridged) + " of " + formatNumber(*slices - 1) +
                           " slice pairs bridged)"
                     : std::string()) +
            " and corrected their brightness.</li>";
  }
  html += "<li>Segmented with " + escapeHtml(methodName(text(run, "method"))) + ".</li>";
  if (const json* m = findKey(run, "measure"); m && m->is_object()) {
    if (m->contains("failed"))
      html += "<li class=\"warn\">The measure stage <b>failed</b>: " + escapeHtml((*m)["failed"].get<std::string>()) +
              ". The segmentation and every other output are kept.</li>";
    else if (m->contains("skipped"))
      html += "<li>The measure stage was skipped: " + escapeHtml((*m)["skipped"].get<std::string>()) + ".</li>";
    else {
      const auto metrics = readMetrics(page.folder() / "metrics.json");
      html += std::string("<li>Measured the microstructure") +
              (metrics && measure::isMetrics2d(*metrics)
                   ? " of the single slice in 2D (area fractions, boundary lengths, profiles; tortuosity, "
                     "connectivity and local thickness need 3D)"
                   : "") +
              ": metrics.json, metrics.csv, metrics_pybamm.json.</li>";
    }
  }
  if (auto total = findNumber(&run, {"total"})) html += "<li>In " + formatNumber(*total, 1) + " s.</li>";
  html += "<li>Outputs in <code>" + escapeHtml(page.shownFolder().string()) + "</code>.</li>";
  return html + "</ul>";
}

// run.json "warnings" (every warning of the run); an older run.json without it gives what its
// fields and transforms.csv say.
std::vector<std::string> warningsOf(const json& run, const fs::path& folder) {
  std::vector<std::string> warnings;
  if (run.contains("warnings") && run["warnings"].is_array()) {
    for (const auto& w : run["warnings"])
      if (w.is_string()) warnings.push_back(w.get<std::string>());
    return warnings;
  }
  try {
    if (fs::exists(folder / "transforms.csv")) {
      const auto t = CsvTable::read(folder / "transforms.csv");
      for (std::size_t r = 0; r < t.rows(); ++r)
        if (t.hasColumn("flagged") && t.flag(r, "flagged"))
          warnings.push_back("slice " + t.text(r, "slice") + " (" + t.text(r, "name") +
                             ") bridged: its step is guessed from its neighbours (see Drift)");
    }
  } catch (const std::exception&) {
    // The Drift section says what is wrong with the file.
  }
  if (const std::string w = text(run, "alignment_warning"); !w.empty()) warnings.push_back(w);
  if (const json* m = findKey(run, "measure"); m && m->is_object()) {
    if (m->contains("failed")) warnings.push_back("the measure stage failed: " + (*m)["failed"].get<std::string>());
    else if (m->contains("skipped")) warnings.push_back("the measure stage was skipped: " + (*m)["skipped"].get<std::string>());
  }
  return warnings;
}

std::string cellNumber(const json& v, int decimals) {
  return v.is_number() ? "<td class=\"num\">" + formatNumber(v.get<double>(), decimals) + "</td>" : "<td>–</td>";
}

// Phase fractions (the segmentation's, from run.json) and the headline metrics of metrics.json.
std::string headline(const json& run, const Page& page, const ReportPhases& phases) {
  const auto metrics = readMetrics(page.folder() / "metrics.json");
  const bool twoD = metrics && measure::isMetrics2d(*metrics);
  const bool threeD = metrics && !twoD && metrics->contains("phases");
  std::string axis = "y";
  if (metrics && metrics->contains("options")) axis = (*metrics)["options"].value("slab_axis", std::string("y"));
  std::string html = "<table id=\"summary-metrics\"><tr><th>phase</th><th>fraction</th>";
  if (threeD)
    html += "<th>specific surface (µm⁻¹)</th><th>τ along " + escapeHtml(axis) + "</th><th>local thickness d50 (µm)</th>";
  if (twoD) html += "<th>boundary length per area (µm⁻¹)</th><th>specific perimeter (µm⁻¹)</th>";
  html += "</tr>";
  const json* fractions = findKey(run, "phase_fractions");
  for (std::size_t p = 0; p < phases.names.size(); ++p) {
    const std::string key = toLower(phases.names[p]);
    html += "<tr><td><span class=\"swatch\" style=\"background:" + phases.hex(int(p)) + "\"></span>" +
            escapeHtml(phases.names[p]) + "</td>";
    const json f = fractions && fractions->is_object() ? fractions->value(key, json(nullptr)) : json(nullptr);
    html += f.is_number() ? "<td class=\"num\">" + formatNumber(100 * f.get<double>(), 2) + " %</td>" : "<td>–</td>";
    const json ph = metrics && metrics->contains("phases") ? (*metrics)["phases"].value(key, json::object()) : json::object();
    if (threeD) {
      html += cellNumber(ph.value("specific_surface_area_per_um", json(nullptr)), 4);
      html += ph.contains("tortuosity_factor") ? cellNumber(ph["tortuosity_factor"].value(axis, json(nullptr)), 3)
                                               : "<td>not computed</td>";
      html += cellNumber(ph.value("size_distribution", json::object()).value("local_thickness_d50_um", json(nullptr)), 4);
    }
    if (twoD) {
      html += cellNumber(ph.value("boundary_length_per_area_per_um", json(nullptr)), 4);
      html += cellNumber(ph.value("specific_perimeter_per_um", json(nullptr)), 4);
    }
    html += "</tr>";
  }
  html += "</table>";
  if (metrics && metrics->contains("interfaces") && !(*metrics)["interfaces"].empty()) {
    const char* key = twoD ? "length_per_area_per_um" : "area_per_volume_per_um";
    html += std::string("<p>Interfaces, ") + (twoD ? "length per area" : "area per volume") + " (µm⁻¹):";
    bool first = true;
    for (const auto& [name, in] : (*metrics)["interfaces"].items()) {
      const json v = in.value(key, json(nullptr));
      html += std::string(first ? " " : ", ") + escapeHtml(name) + " " + (v.is_number() ? formatNumber(v.get<double>(), 4) : "–");
      first = false;
    }
    html += ".</p>";
  }
  if (twoD && metrics->contains("not_computed")) {
    html += "<p>Not computed for a single slice:";
    for (const auto& [name, why] : (*metrics)["not_computed"].items())
      html += " " + escapeHtml(name) + " (" + escapeHtml(why.is_string() ? why.get<std::string>() : "") + ");";
    html += "</p>";
  }
  if (!metrics) html += "<p>No metrics.json: the headline metrics are in the Microstructure metrics section when measured.</p>";
  return html;
}

}  // namespace

void addSummarySection(Page& page, const std::optional<json>& run, const ReportPhases& phases) {
  // The figures first: a missing one adds its note, which the list of left-out pieces then holds.
  const std::string views = view3dFigures(page, run);
  std::string body;
  if (run) {
    body += "<h3>What was done</h3>" + whatWasDone(*run, page);
  } else {
    body += "<h3>What was done</h3><p class=\"note\">run.json is missing or unreadable: what the run did is not known "
            "here (see the Run section).</p>";
  }
  const std::vector<std::string> warnings = run ? warningsOf(*run, page.folder()) : std::vector<std::string>{};
  body += "<h3>What to worry about</h3>";
  if (warnings.empty() && page.notes().empty()) {
    body += "<p id=\"summary-warnings\">Nothing: no warning, no slice bridged, every phase found, no stage skipped.</p>";
  } else {
    body += "<ul id=\"summary-warnings\">";
    for (const auto& w : warnings) body += "<li class=\"warn\">" + escapeHtml(w) + "</li>";
    body += "</ul>";
  }
  if (!page.notes().empty()) {
    body += "<details id=\"left-out\"><summary>" + std::to_string(page.notes().size()) +
            " piece(s) left out of this report</summary><ul>";
    for (const auto& n : page.notes()) body += "<li>" + escapeHtml(n) + "</li>";
    body += "</ul></details>";
  }
  body += "<h3>3D views</h3>" + views;
  body += "<h3>Phase fractions and headline metrics</h3>" +
          (run ? headline(*run, page, phases) : std::string("<p>run.json is missing: no fractions.</p>"));
  page.addFirst({"summary", "Summary", body});
}

}  // namespace fibseg::report::detail
