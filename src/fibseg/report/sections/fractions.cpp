// Section "Phase fractions per slice": phase_fractions.csv.
#include "fibseg/report/sections/sections.hpp"

#include <algorithm>

#include "fibseg/core/error.hpp"
#include "fibseg/report/csv_table.hpp"
#include "fibseg/report/svg_plot.hpp"

namespace fibseg::report::detail {

namespace {

// Names shown for the CSV's columns: the run's names when they match, else the column heads.
std::vector<std::string> displayNames(const Fractions& f, const ReportPhases& phases) {
  if (phases.names.size() != f.phases.size()) return f.phases;
  return phases.names;
}

}  // namespace

// Fractions may be written as 0..1 or as percent; the page always shows percent. Every column
// but "slice" is a phase (phases.names, in lower case).
Fractions readFractions(const fs::path& path) {
  const CsvTable t = CsvTable::read(path);
  t.requireColumns({"slice"});
  Fractions f;
  for (const auto& column : t.header())
    if (column != "slice") f.phases.push_back(column);
  if (f.phases.size() < 2) throw Error(path.string() + ": fewer than two phase columns beside 'slice'");
  double largest = 0;
  std::vector<std::pair<std::string, std::vector<double>>> rows;
  for (std::size_t r = 0; r < t.rows(); ++r) {
    std::vector<double> v;
    for (const auto& phase : f.phases) v.push_back(t.number(r, phase));
    for (double x : v) largest = std::max(largest, x);
    rows.emplace_back(t.text(r, "slice"), v);
  }
  const double scale = largest <= 1.0 + 1e-9 ? 100.0 : 1.0;
  for (auto& [slice, v] : rows) {
    for (double& x : v) x *= scale;
    std::string lowered = slice;
    std::transform(lowered.begin(), lowered.end(), lowered.begin(), ::tolower);
    if (lowered == "total") {
      f.total = v;
    } else {
      try {
        f.perSlice[std::stoll(slice)] = v;
      } catch (const std::exception&) {
        throw Error(path.string() + ": slice '" + slice + "'; expected a slice number or 'total'");
      }
    }
  }
  return f;
}

void addFractionsSection(Page& page, const std::optional<Fractions>& f, const std::string& problem,
                         const ReportPhases& phases) {
  std::string body;
  if (!f) {
    page.add({"fractions", "Phase fractions per slice", problem});
    return;
  }
  const auto names = displayNames(*f, phases);
  const bool runColours = phases.names.size() == f->phases.size();
  const std::size_t n = names.size();
  if (f->total) {
    const auto& t = *f->total;
    body += "<p class=\"summary\" id=\"fractions-summary\">Whole volume:";
    for (std::size_t p = 0; p < n; ++p)
      body += std::string(p ? "," : "") + " " + escapeHtml(names[p]) + " <b>" + formatNumber(t[p], 2) + " %</b>";
    body += ".</p>";
  } else {
    body += page.note("phase_fractions.csv has no 'total' row: whole-volume fractions are not shown.");
  }
  if (!f->perSlice.empty()) {
    static const char* const kFallback[] = {"#9a9a9a", "#ef8a62", "#628aef", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"};
    std::vector<PlotSeries> series;
    for (std::size_t p = 0; p < n; ++p)
      series.push_back({names[p], runColours ? phases.hex(static_cast<int>(p)) : kFallback[p % 8]});
    for (const auto& [s, v] : f->perSlice)
      for (std::size_t p = 0; p < n; ++p) {
        series[p].x.push_back(static_cast<double>(s));
        series[p].y.push_back(v[p]);
      }
    Plot p{"Phase fractions per slice", "slice", "area fraction (%)"};
    p.integerX = true;
    p.series = series;
    body += renderSvg(p);
    body += "<details><summary>Table per slice</summary><table id=\"fractions-table\"><tr><th>slice</th>";
    for (const auto& name : names) body += "<th>" + escapeHtml(name) + " %</th>";
    body += "</tr>";
    for (const auto& [s, v] : f->perSlice) {
      body += "<tr>" + tdNum(static_cast<double>(s), 0);
      for (double x : v) body += tdNum(x, 2);
      body += "</tr>";
    }
    body += "</table></details>";
  }
  page.add({"fractions", "Phase fractions per slice", body});
}

}  // namespace fibseg::report::detail
