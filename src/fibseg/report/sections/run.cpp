// Sections "Run" (everything in run.json) and "Timings".
#include "fibseg/report/sections/sections.hpp"

#include <algorithm>

namespace fibseg::report::detail {

namespace {

std::string scalarText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return formatNumber(v.get<double>(), 4);
  return v.dump();
}

// Flattens run.json into "a.b.c = value" rows; long arrays are summarised.
void flatten(const json& j, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& rows) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) flatten(v, prefix.empty() ? k : prefix + "." + k, rows);
  } else if (j.is_array()) {
    const bool scalars = std::all_of(j.begin(), j.end(), [](const json& e) { return e.is_primitive(); });
    if (scalars && j.size() <= 16) {
      std::string s;
      for (const auto& e : j) s += (s.empty() ? "" : ", ") + scalarText(e);
      rows.emplace_back(prefix, "[" + s + "]");
    } else if (scalars) {
      rows.emplace_back(prefix, "[" + std::to_string(j.size()) + " values]");
    } else {
      for (std::size_t i = 0; i < j.size(); ++i) flatten(j[i], prefix + "[" + std::to_string(i) + "]", rows);
    }
  } else {
    rows.emplace_back(prefix, scalarText(j));
  }
}

// Timings as {stage: seconds} or [{stage|name, seconds|s}, ...].
std::vector<std::pair<std::string, double>> timingsOf(const json& run) {
  std::vector<std::pair<std::string, double>> timings;
  const json* t = findKey(run, "timings_s");
  if (!t) t = findKey(run, "timings");
  if (!t) return timings;
  if (t->is_object()) {
    for (const auto& [k, v] : t->items())
      if (v.is_number()) timings.emplace_back(k, v.get<double>());
  } else if (t->is_array()) {
    for (const auto& e : *t) {
      if (!e.is_object()) continue;
      std::string name = e.value("stage", e.value("name", std::string()));
      for (const char* key : {"seconds", "s", "time_s"})
        if (e.contains(key) && e[key].is_number()) timings.emplace_back(name, e[key].get<double>());
    }
  }
  return timings;
}

}  // namespace

void addRunSection(Page& page, const std::optional<json>& run, const std::string& runNote) {
  std::string body;
  if (!run) {
    body = runNote;
  } else {
    body += "<p class=\"summary\" id=\"run-summary\">";
    if (auto v = findNumber(&*run, {"slices"})) body += formatNumber(*v) + " slices";
    const auto w = findNumber(&*run, {"image_width", "width"}), h = findNumber(&*run, {"image_height", "height"});
    if (w && h) body += " of " + formatNumber(*w) + " &times; " + formatNumber(*h) + " px";
    if (auto v = findNumber(&*run, {"bit_depth"})) body += ", " + formatNumber(*v) + "-bit";
    if (auto v = findNumber(&*run, {"pixel_size_nm"})) body += ", pixel size " + formatNumber(*v, 3) + " nm";
    body += ".</p>";
    std::vector<std::pair<std::string, std::string>> rows;
    flatten(*run, "", rows);
    body += "<details><summary>Everything in run.json (" + std::to_string(rows.size()) + " values)</summary><table id=\"run-table\"><tr><th>value</th><th>content</th></tr>";
    for (const auto& [k, v] : rows) body += "<tr>" + td(k) + td(v) + "</tr>";
    body += "</table></details>";
  }
  page.add({"run", "Run", body});

  std::string timing;
  if (!run) {
    timing = runNote;
  } else if (auto timings = timingsOf(*run); timings.empty()) {
    timing = page.note("run.json has no timings_s: stage timings are not shown.");
  } else {
    // A "total" entry is the wall time of the whole run, not one more stage.
    std::optional<double> reportedTotal;
    std::vector<std::pair<std::string, double>> stages;
    for (const auto& [name, s] : timings) {
      if (name == "total") reportedTotal = s;
      else stages.emplace_back(name, s);
    }
    double sum = 0, longest = 0;
    for (const auto& [name, s] : stages) sum += s, longest = std::max(longest, s);
    const double total = reportedTotal.value_or(sum);
    timing += "<table id=\"timings-table\"><tr><th>stage</th><th>seconds</th><th>share</th><th></th></tr>";
    for (const auto& [name, s] : stages) {
      const double share = total > 0 ? s / total : 0;
      const double barWidth = longest > 0 ? 240.0 * s / longest : 0;
      timing += "<tr>" + td(name) + tdNum(s, 3) + "<td class=\"num\">" + formatNumber(100 * share, 1) +
                " %</td><td><span class=\"bar\" style=\"width:" + formatNumber(barWidth, 1) + "px\"></span></td></tr>";
    }
    timing += "<tr><th>total</th>" + tdNum(total, 3) + "<td></td><td></td></tr></table>";
  }
  page.add({"timings", "Timings", timing});
}

}  // namespace fibseg::report::detail
