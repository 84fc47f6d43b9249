#include "fibseg/report/report.hpp"

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <regex>
#include <sstream>

#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/core/text.hpp"
#include "fibseg/io/png.hpp"
#include "fibseg/report/csv_table.hpp"
#include "fibseg/report/html.hpp"
#include "fibseg/report/measure_section.hpp"
#include "fibseg/report/page_assets.hpp"
#include "fibseg/report/svg_plot.hpp"

namespace fibseg::report {
namespace fs = std::filesystem;
// ordered_json keeps run.json in the order it was written (stage timings in pipeline order).
using json = nlohmann::ordered_json;

namespace {

// The run's phases (run.json "phases": phases.names and phases.colours); without them the
// classical three in their default colours.
struct ReportPhases {
  std::vector<std::string> names;
  std::vector<std::array<int, 3>> rgb;
  std::string hex(int p) const {
    char text[8];
    // A near-white phase is invisible on a white plot background: plots show it grey.
    const auto& c = rgb[p];
    if (c[0] > 230 && c[1] > 230 && c[2] > 230) return "#9a9a9a";
    std::snprintf(text, sizeof text, "#%02x%02x%02x", c[0], c[1], c[2]);
    return text;
  }
};

ReportPhases phasesOf(const std::optional<nlohmann::json>& run) {
  ReportPhases phases;
  if (run && run->contains("phases") && (*run)["phases"].is_array()) {
    for (const auto& p : (*run)["phases"]) {
      phases.names.push_back(p.value("name", std::string("?")));
      const auto c = p.value("colour", std::vector<int>{0, 0, 0});
      phases.rgb.push_back({c.size() > 0 ? c[0] : 0, c.size() > 1 ? c[1] : 0, c.size() > 2 ? c[2] : 0});
    }
  }
  if (phases.names.empty()) {
    phases.names = {"pore", "SE", "CAM"};
    phases.rgb = {{247, 247, 247}, {239, 138, 98}, {98, 138, 239}};
  }
  return phases;
}

struct Section {
  std::string id, title, body;
};

// Collects the page section by section, and the notes about what was left out.
class Page {
 public:
  explicit Page(fs::path folder) : folder_(std::move(folder)) {}
  const fs::path& folder() const { return folder_; }
  void add(Section section) { sections_.push_back(std::move(section)); }
  /// A visible note for a left-out piece, also listed at the top of the page.
  std::string note(const std::string& text) {
    notes_.push_back(text);
    return "<p class=\"note\">" + escapeHtml(text) + "</p>";
  }
  std::string missing(const std::string& relative, const std::string& consequence) {
    return note(relative + " is not in the output folder: " + consequence + ".");
  }
  std::string html() const;

 private:
  fs::path folder_;
  std::vector<Section> sections_;
  std::vector<std::string> notes_;
};

std::string Page::html() const {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  out += "<title>fibseg report: " + escapeHtml(folder_.filename().string()) + "</title>";
  out += "<script>" + std::string(errorCaptureScript()) + "</script>";
  out += "<style>" + std::string(pageStyle()) + "</style></head><body>\n";
  std::error_code ec;
  const fs::path shown = fs::absolute(folder_, ec).lexically_normal();
  out += "<h1>fibseg report</h1><p>Output folder: <code>" + escapeHtml((ec ? folder_ : shown).string()) + "</code></p>";
  out += "<pre id=\"selftest-result\" hidden></pre>";
  out += "<nav><ol>";
  for (const auto& s : sections_) out += "<li><a href=\"#" + s.id + "\">" + escapeHtml(s.title) + "</a></li>";
  out += "</ol></nav>\n";
  if (!notes_.empty()) {
    out += "<details id=\"left-out\"><summary>" + std::to_string(notes_.size()) +
           " piece(s) left out of this report</summary><ul>";
    for (const auto& n : notes_) out += "<li>" + escapeHtml(n) + "</li>";
    out += "</ul></details>\n";
  }
  for (const auto& s : sections_)
    out += "<section id=\"" + s.id + "\"><h2>" + escapeHtml(s.title) + "</h2>\n" + s.body + "</section>\n";
  out += "<script>" + std::string(viewerScript()) + "</script>\n</body></html>\n";
  return out;
}

std::string td(const std::string& text) { return "<td>" + escapeHtml(text) + "</td>"; }
std::string tdNum(double v, int decimals = 3) { return "<td class=\"num\">" + formatNumber(v, decimals) + "</td>"; }

// ---- run.json ----

// The first value named `key` anywhere in `j` (breadth first, so top-level keys win).
const json* findKey(const json& j, const std::string& key) {
  std::vector<const json*> queue{&j};
  for (std::size_t i = 0; i < queue.size(); ++i) {
    const json& node = *queue[i];
    if (node.is_object()) {
      if (auto it = node.find(key); it != node.end()) return &*it;
      for (const auto& [k, v] : node.items()) queue.push_back(&v);
    }
  }
  return nullptr;
}

std::optional<double> findNumber(const json* run, const std::vector<std::string>& keys) {
  if (!run) return std::nullopt;
  for (const auto& key : keys)
    if (const json* v = findKey(*run, key); v && v->is_number()) return v->get<double>();
  return std::nullopt;
}

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

std::optional<json> readRunJson(Page& page, std::string& noteHtml) {
  const fs::path path = page.folder() / "run.json";
  if (!fs::exists(path)) {
    noteHtml = page.missing("run.json", "run summary, timings and Otsu thresholds are not shown");
    return std::nullopt;
  }
  try {
    std::ifstream in(path, std::ios::binary);
    return json::parse(in);
  } catch (const std::exception& e) {
    noteHtml = page.note("run.json could not be read (" + std::string(e.what()) + "): run summary, timings and "
                         "Otsu thresholds are not shown.");
    return std::nullopt;
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
    body += "<details open><summary>Everything in run.json</summary><table id=\"run-table\"><tr><th>value</th><th>content</th></tr>";
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

// ---- parameters_used.toml ----

void addParametersSection(Page& page) {
  const fs::path path = page.folder() / "parameters_used.toml";
  std::string body;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    page.add({"parameters", "Parameters used", page.missing("parameters_used.toml", "the parameters are not listed")});
    return;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  // `[section]` headers and `key = value  # origin` lines; anything else stays in the raw view.
  static const std::regex sectionLine(R"(^\s*\[([^\]]+)\]\s*(#.*)?$)");
  std::string section, rows, changedRows;
  int count = 0, changed = 0;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_match(line, m, sectionLine)) {
      section = m[1];
      continue;
    }
    const auto eq = line.find('=');
    const auto first = line.find_first_not_of(" \t");
    if (eq == std::string::npos || first == std::string::npos || line[first] == '#') continue;
    std::string key = line.substr(first, eq - first);
    key.erase(key.find_last_not_of(" \t") + 1);
    std::string rest = line.substr(eq + 1), value, origin;
    bool quoted = false;
    std::size_t i = 0;
    for (; i < rest.size(); ++i) {
      if (rest[i] == '"' && (i == 0 || rest[i - 1] != '\\')) quoted = !quoted;
      if (rest[i] == '#' && !quoted) break;
    }
    value = rest.substr(0, i);
    if (i < rest.size()) origin = rest.substr(i + 1);
    auto trim = [](std::string s) {
      const auto b = s.find_first_not_of(" \t\r");
      if (b == std::string::npos) return std::string();
      return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
    };
    value = trim(value);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    origin = trim(origin);
    const std::string row = "<tr>" + td(section.empty() ? key : section + "." + key) + td(value) + td(origin) + "</tr>";
    rows += row;
    if (origin != "default") changedRows += row, ++changed;
    ++count;
  }
  const std::string header = "<tr><th>parameter</th><th>value</th><th>from</th></tr>";
  if (count > 0) {
    // What the user chose matters most; the defaults are one click away.
    body += "<p class=\"summary\" id=\"parameters-summary\">" + std::to_string(count) + " parameters, " +
            std::to_string(changed) + " not at their default.</p>";
    if (changed > 0) body += "<table id=\"parameters-changed\">" + header + changedRows + "</table>";
    body += "<details><summary>All " + std::to_string(count) + " parameters</summary><table id=\"parameters-table\">" +
            header + rows + "</table></details>";
  } else
    body += page.note("parameters_used.toml has no 'name = value' lines; shown as written below.");
  body += "<details" + std::string(count > 0 ? "" : " open") + "><summary>parameters_used.toml as written</summary><pre>" +
          escapeHtml(text) + "</pre></details>";
  page.add({"parameters", "Parameters used", body});
}

// ---- images ----

// `zStretch` != 1 draws the image's rows that many times taller than wide (orthogonal views:
// one row per slice, slices thicker or thinner than a pixel is wide).
std::string figure(Page& page, const std::string& relative, const std::string& caption, const std::string& id,
                   const std::string& consequence, const std::function<std::string(const fs::path&)>& toUri = nullptr,
                   double zStretch = 1) {
  const fs::path path = page.folder() / relative;
  if (!fs::exists(path)) return page.missing(relative, consequence);
  try {
    const std::string uri = toUri ? toUri(path) : pngFileDataUri(path);
    std::string style;
    if (zStretch != 1) {
      const auto header = io::probePng(path);
      style = " style=\"aspect-ratio: " + std::to_string(header.width) + " / " +
              formatNumber(header.height * zStretch, 3) + "\"";
    }
    return "<figure id=\"" + id + "\"><img src=\"" + uri + "\"" + style + " alt=\"" + escapeHtml(caption) + "\"><figcaption>" +
           escapeHtml(caption) + " (" + escapeHtml(relative) + ")</figcaption></figure>";
  } catch (const std::exception& e) {
    return page.note(relative + " could not be shown (" + e.what() + ").");
  }
}

// Preview labels hold phase indices; for three phases spread grey levels (0/128/255) too.
int phaseOfGrey(int v, int phases) {
  if (v < phases) return v;
  return phases == 3 ? (v < 64 ? 0 : (v < 192 ? 1 : 2)) : -1;
}

// Label images hold phase indices, which look black; paint them in the phase colours.
std::string colouredLabelsUri(const fs::path& path, const ReportPhases& phases) {
  const cv::Mat labels = io::readPngGrey(path);
  if (labels.depth() != CV_8U) throw Error(path.string() + ": 16-bit labels; expected 8-bit phase indices");
  const int n = static_cast<int>(phases.names.size());
  cv::Mat coloured(labels.size(), CV_8UC3);
  for (int y = 0; y < labels.rows; ++y)
    for (int x = 0; x < labels.cols; ++x) {
      const int p = phaseOfGrey(labels.at<uchar>(y, x), n);
      coloured.at<cv::Vec3b>(y, x) = p < 0 ? cv::Vec3b(0, 0, 0) : cv::Vec3b(phases.rgb[p][2], phases.rgb[p][1], phases.rgb[p][0]);
    }
  std::vector<uchar> bytes;
  if (!cv::imencode(".png", coloured, bytes)) throw Error(path.string() + ": cannot encode coloured labels");
  return pngDataUri(std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
}

std::string legend(const ReportPhases& phases) {
  std::string html = "<p>Colours:";
  for (std::size_t p = 0; p < phases.names.size(); ++p) {
    char rgb[40];
    std::snprintf(rgb, sizeof rgb, "rgb(%d,%d,%d)", phases.rgb[p][0], phases.rgb[p][1], phases.rgb[p][2]);
    html += " <span class=\"swatch\" style=\"background:" + std::string(rgb) + "\"></span>" + escapeHtml(phases.names[p]);
  }
  return html + "</p>";
}

// ---- transforms.csv ----

void addDriftSection(Page& page) {
  const std::string relative = "transforms.csv";
  const fs::path path = page.folder() / relative;
  if (!fs::exists(path)) {
    page.add({"drift", "Drift between slices", page.missing(relative, "the drift plot is not shown")});
    return;
  }
  std::string body;
  try {
    const CsvTable t = CsvTable::read(path);
    t.requireColumns({"slice", "dx", "dy"});
    PlotSeries dx{"dx (px)", "#1f77b4"}, dy{"dy (px)", "#d62728"}, peak{"peak", "#2ca02c"};
    PlotSeries flaggedDx{"flagged", "#c00000", {}, {}, PlotStyle::Points}, flaggedDy{"", "#c00000", {}, {}, PlotStyle::Points};
    PlotSeries flaggedPeak{"flagged", "#c00000", {}, {}, PlotStyle::Points};
    std::vector<double> flaggedSlices;
    std::string flaggedRows;
    double largest = 0, largestSlice = 0;
    for (std::size_t r = 0; r < t.rows(); ++r) {
      const double s = t.number(r, "slice"), x = t.number(r, "dx"), y = t.number(r, "dy");
      dx.x.push_back(s), dx.y.push_back(x), dy.x.push_back(s), dy.y.push_back(y);
      // The registration confidence: the peak's significance where transforms.csv has it (1 = what
      // chance gives), else the older peak height.
      const double p = t.hasColumn("quality") ? t.number(r, "quality") : t.hasColumn("peak") ? t.number(r, "peak") : std::nan("");
      peak.x.push_back(s), peak.y.push_back(p);
      if (std::hypot(x, y) > largest) largest = std::hypot(x, y), largestSlice = s;
      if (t.hasColumn("flagged") && t.flag(r, "flagged")) {
        flaggedSlices.push_back(s);
        flaggedDx.x.push_back(s), flaggedDx.y.push_back(x), flaggedDy.x.push_back(s), flaggedDy.y.push_back(y);
        flaggedPeak.x.push_back(s), flaggedPeak.y.push_back(p);
        flaggedRows += "<tr>" + tdNum(s, 0) + td(t.hasColumn("name") ? t.text(r, "name") : "") + tdNum(x, 2) + tdNum(y, 2) +
                       (std::isnan(p) ? td("") : tdNum(p, 3)) + "</tr>";
      }
    }
    if (t.rows() == 0) throw Error(path.string() + ": no rows; expected one row per slice");
    body += "<p class=\"summary\" id=\"drift-summary\">" + std::to_string(t.rows()) +
            " slices. Shift of a slice's content relative to slice 0; aligning moves each slice back by it. "
            "Largest shift: <b>" + formatNumber(largest, 2) + " px</b> at slice " + formatNumber(largestSlice, 0) +
            ". Last slice: dx " + formatNumber(dx.y.back(), 2) + " px, dy " + formatNumber(dy.y.back(), 2) +
            " px. Bridged slices (no trusted comparison with earlier slices; their step is guessed from "
            "the neighbours): <b>" + std::to_string(flaggedSlices.size()) + "</b>." +
            (4 * flaggedSlices.size() > t.rows() - 1 && t.rows() > 1
                 ? " <b>More than a quarter of the pairs are bridged: the stack is probably not aligned.</b> Set a "
                   "registration region on structure that stays (align.register_*), or a wider band-pass for "
                   "noisy images (align.bandpass_fine)."
                 : "") +
            "</p>";
    Plot shifts{"Shift per slice", "slice", "shift (px)"};
    shifts.series = {dx, dy};
    if (!flaggedSlices.empty()) shifts.series.push_back(flaggedDx), shifts.series.push_back(flaggedDy);
    shifts.shadedX = flaggedSlices;
    shifts.integerX = true;
    body += renderSvg(shifts);
    if (t.hasColumn("peak") || t.hasColumn("quality")) {
      Plot peaks{t.hasColumn("quality") ? "Peak significance per slice against the previous slice (registration "
                                          "confidence; 1 = what chance gives)"
                                        : "Correlation peak strength per slice (registration confidence)",
                 "slice", t.hasColumn("quality") ? "quality" : "peak"};
      peaks.series = {peak};
      if (!flaggedSlices.empty()) peaks.series.push_back(flaggedPeak);
      peaks.shadedX = flaggedSlices;
      peaks.integerX = true;
      peaks.height = 200;
      body += renderSvg(peaks);
    } else {
      body += page.note("transforms.csv has no 'peak' column: the registration confidence plot is not shown.");
    }
    if (!flaggedSlices.empty())
      body += "<table id=\"flagged-table\"><tr><th>bridged slice</th><th>name</th><th>dx</th><th>dy</th><th>quality</th></tr>" +
              flaggedRows + "</table>";
    if (!t.hasColumn("flagged")) body += page.note("transforms.csv has no 'flagged' column: flagged slices are not marked.");
  } catch (const std::exception& e) {
    body = page.note("transforms.csv could not be read (" + std::string(e.what()) + "): the drift plot is not shown.");
  }
  page.add({"drift", "Drift between slices", body});
}

// How much taller than a pixel is wide one slice is, from run.json; 1 (with a note) if unknown.
double depthScale(const std::optional<json>& run, std::string& text) {
  const auto pixel = findNumber(run ? &*run : nullptr, {"pixel_size_nm"});
  const auto thickness = findNumber(run ? &*run : nullptr, {"slice_thickness_nm"});
  if (pixel && thickness && *pixel > 0 && *thickness > 0) {
    const double scale = std::clamp(*thickness / *pixel, 0.05, 20.0);
    text = "Depth drawn to scale: one slice " + formatNumber(*thickness, 2) + " nm, one pixel " + formatNumber(*pixel, 2) + " nm.";
    return scale;
  }
  text = "Depth not to scale (pixel size or slice thickness unknown): one image row per slice.";
  return 1;
}

void addOrthoAlignmentSection(Page& page, const std::optional<json>& run) {
  std::string scaleText;
  const double z = depthScale(run, scaleText);
  std::string body =
      "<p>Re-slices across the stack (slice number runs downwards). Before alignment, drift shows as slanted "
      "or jagged edges; after alignment they should be straight. " + escapeHtml(scaleText) + "</p><div class=\"figures\">";
  body += figure(page, "preview/ortho_xz_raw.png", "XZ before alignment", "ortho-xz-raw", "the XZ view before alignment is not shown", nullptr, z);
  body += figure(page, "preview/ortho_xz_aligned.png", "XZ after alignment", "ortho-xz-aligned", "the XZ view after alignment is not shown", nullptr, z);
  body += "</div><div class=\"figures\">";
  body += figure(page, "preview/ortho_yz_raw.png", "YZ before alignment", "ortho-yz-raw", "the YZ view before alignment is not shown", nullptr, z);
  body += figure(page, "preview/ortho_yz_aligned.png", "YZ after alignment", "ortho-yz-aligned", "the YZ view after alignment is not shown", nullptr, z);
  body += "</div>";
  page.add({"ortho-alignment", "Orthogonal views before and after alignment", body});
}

// ---- brightness.csv ----

void addBrightnessSection(Page& page) {
  const std::string relative = "brightness.csv";
  const fs::path path = page.folder() / relative;
  if (!fs::exists(path)) {
    page.add({"brightness", "Brightness per slice", page.missing(relative, "the brightness plots are not shown")});
    return;
  }
  std::string body;
  try {
    const CsvTable t = CsvTable::read(path);
    t.requireColumns({"slice", "median_before", "p05_before", "p95_before", "median_after", "p05_after", "p95_after"});
    if (t.rows() == 0) throw Error(path.string() + ": no rows; expected one row per slice");
    auto column = [&](const std::string& name) {
      std::vector<double> v;
      for (std::size_t r = 0; r < t.rows(); ++r) v.push_back(t.number(r, name));
      return v;
    };
    const auto slices = column("slice");
    const auto medianBefore = column("median_before"), medianAfter = column("median_after");
    auto spread = [](const std::vector<double>& v) {
      const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
      return *hi - *lo;
    };
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const char* c : {"p05_before", "p95_before", "p05_after", "p95_after", "median_before", "median_after"})
      for (double v : column(c))
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    const double pad = std::max(1.0, (hi - lo) * 0.05);
    body += "<p class=\"summary\" id=\"brightness-summary\">Spread of the slice medians (largest minus smallest): "
            "before <b>" + formatNumber(spread(medianBefore), 2) + "</b>, after <b>" + formatNumber(spread(medianAfter), 2) +
            "</b> grey levels. Equalisation should flatten the median line; the 5th&ndash;95th percentile band shows "
            "the contrast of each slice.</p><div class=\"figures\">";
    for (const std::string when : {"before", "after"}) {
      Plot p{"Brightness " + when + " correction", "slice", "grey level"};
      p.width = 540;
      p.integerX = true;
      p.series = {{"p95", "#9ecae1", slices, column("p95_" + when)},
                  {"median", "#08519c", slices, column("median_" + when)},
                  {"p05", "#6baed6", slices, column("p05_" + when), PlotStyle::Line, true}};
      p.yMin = lo - pad, p.yMax = hi + pad;  // same scale before and after, so they compare by eye
      body += "<div>" + renderSvg(p) + "</div>";
    }
    body += "</div>";
  } catch (const std::exception& e) {
    body = page.note("brightness.csv could not be read (" + std::string(e.what()) + "): the brightness plots are not shown.");
  }
  page.add({"brightness", "Brightness per slice", body});
}

// ---- preview/histogram.csv ----

// run.json "method": "classifier" (trained model) rather than the classical Otsu + Gabor path.
bool classifierRun(const std::optional<json>& run) {
  if (!run) return false;
  const json* method = findKey(*run, "method");
  return method && method->is_string() && method->get<std::string>() == "classifier";
}

std::vector<double> otsuThresholds(const std::optional<json>& run) {
  std::vector<double> thresholds;
  if (!run) return thresholds;
  for (const char* key : {"otsu_thresholds", "otsu_threshold"}) {
    const json* v = findKey(*run, key);
    if (!v) continue;
    if (v->is_number()) thresholds.push_back(v->get<double>());
    if (v->is_array())
      for (const auto& e : *v)
        if (e.is_number()) thresholds.push_back(e.get<double>());
    if (v->is_object())  // e.g. {"pore": 61, "cam": 140}
      for (const auto& [k, e] : v->items())
        if (e.is_number()) thresholds.push_back(e.get<double>());
    if (!thresholds.empty()) break;
  }
  return thresholds;
}

void addHistogramSection(Page& page, const std::optional<json>& run) {
  const std::string relative = "preview/histogram.csv";
  const fs::path path = page.folder() / relative;
  if (!fs::exists(path)) {
    page.add({"histogram", "Otsu histogram and threshold", page.missing(relative, "the grey-level histogram is not shown")});
    return;
  }
  std::string body;
  try {
    const CsvTable t = CsvTable::read(path);
    t.requireColumns({"grey", "count"});
    if (t.rows() == 0) throw Error(path.string() + ": no rows; expected grey,count rows");
    // At most 256 bars: a 16-bit histogram (which lists only the grey levels present) is summed
    // into equal ranges of grey levels between the darkest and the brightest present.
    double darkest = std::numeric_limits<double>::infinity(), brightest = -darkest, pixels = 0;
    for (std::size_t r = 0; r < t.rows(); ++r) {
      const double g = t.number(r, "grey");
      darkest = std::min(darkest, g), brightest = std::max(brightest, g);
    }
    const double binWidth = std::max(1.0, std::ceil((brightest - darkest + 1) / 256.0));
    const std::size_t bins = static_cast<std::size_t>(std::floor((brightest - darkest) / binWidth)) + 1;
    PlotSeries bars{"pixels", "#777", std::vector<double>(bins), std::vector<double>(bins, 0.0), PlotStyle::Bars};
    for (std::size_t b = 0; b < bins; ++b) bars.x[b] = darkest + static_cast<double>(b) * binWidth;
    for (std::size_t r = 0; r < t.rows(); ++r) {
      const double count = t.number(r, "count");
      bars.y[static_cast<std::size_t>(std::floor((t.number(r, "grey") - darkest) / binWidth))] += count;
      pixels += count;
    }
    const auto thresholds = otsuThresholds(run);
    Plot p{"Grey-level histogram of the aligned, corrected stack", "grey level", "pixels"};
    p.series = {bars};
    body += "<p class=\"summary\" id=\"histogram-summary\">" + formatNumber(pixels, 0) + " pixels counted" +
            (binWidth > 1 ? " (bars of " + formatNumber(binWidth, 0) + " grey levels)" : std::string()) + ". ";
    std::optional<Plot> perSlice;
    if (thresholds.empty() && classifierRun(run)) {
      body += "This run was segmented by the trained classifier, which uses no Otsu threshold.</p>";
    } else if (thresholds.empty()) {
      body += "</p>" + page.note("run.json gives no otsu_thresholds: the threshold is not marked on the histogram.");
    } else if (thresholds.size() <= 3) {
      std::string list;
      for (std::size_t i = 0; i < thresholds.size(); ++i) {
        p.verticalLines.push_back({thresholds[i], "Otsu " + formatNumber(thresholds[i], 2)});
        list += (i ? ", " : "") + formatNumber(thresholds[i], 2);
      }
      body += "Otsu threshold(s): <b>" + list + "</b> (dashed red line): pixels brighter than the threshold are "
              "taken as active material (CAM); pores and SE are told apart below it.</p>";
    } else {
      // One threshold per slice: the histogram shows their median and range, a plot each slice's.
      std::vector<double> sorted = thresholds;
      std::sort(sorted.begin(), sorted.end());
      const double median = sorted[sorted.size() / 2];
      p.verticalLines.push_back({sorted.front(), "min", "#e08080"});
      p.verticalLines.push_back({median, "median Otsu " + formatNumber(median, 2)});
      p.verticalLines.push_back({sorted.back(), "max", "#e08080"});
      body += "Otsu thresholds per slice (" + std::to_string(thresholds.size()) + "): median <b>" +
              formatNumber(median, 2) + "</b>, from <b>" + formatNumber(sorted.front(), 2) + "</b> to <b>" +
              formatNumber(sorted.back(), 2) + "</b>: pixels brighter than their slice's threshold are taken as "
              "active material (CAM).</p>";
      perSlice = Plot{"Otsu threshold per slice", "slice", "grey level"};
      perSlice->integerX = true;
      perSlice->height = 200;
      PlotSeries series{"threshold", "#c00"};
      for (std::size_t z = 0; z < thresholds.size(); ++z) series.x.push_back(static_cast<double>(z)), series.y.push_back(thresholds[z]);
      perSlice->series = {series};
    }
    body += renderSvg(p);
    if (perSlice) body += renderSvg(*perSlice);
  } catch (const std::exception& e) {
    body = page.note("preview/histogram.csv could not be read (" + std::string(e.what()) + "): the histogram is not shown.");
  }
  page.add({"histogram", "Otsu histogram and threshold", body});
}

// ---- chosen slice: Gabor response and pore mask ----

void addGaborSection(Page& page, const std::optional<json>& run) {
  const std::string title = "Gabor response and pore mask of one slice";
  if (classifierRun(run) && !fs::exists(page.folder() / "preview/gabor_response.png") &&
      !fs::exists(page.folder() / "preview/pore_mask.png")) {
    page.add({"gabor", title, "<p id=\"gabor-summary\">This run was segmented by the trained classifier: there is no "
                              "Gabor filter step to show.</p>"});
    return;
  }
  std::string body;
  const auto slice = findNumber(run ? &*run : nullptr, {"preview_slice", "chosen_slice", "gabor_slice"});
  body += "<p class=\"summary\" id=\"gabor-summary\">" +
          (slice ? "Slice <b>" + formatNumber(*slice, 0) + "</b>: " : std::string("The chosen slice: ")) +
          "the Gabor filter response, computed on the inverted slice with the active material set to 0 so "
          "that dark pores respond strongly (shown stretched to black&ndash;white), and the pore mask: "
          "response above the pore threshold (white = pore).";
  const fs::path mask = page.folder() / "preview/pore_mask.png";
  if (fs::exists(mask)) {
    try {
      const cv::Mat m = io::readPngGrey(mask);
      body += " Pore area in the mask: <b>" + formatNumber(100.0 * cv::countNonZero(m) / static_cast<double>(m.total()), 2) + " %</b>.";
    } catch (const std::exception&) {
      // figure() below reports the unreadable file.
    }
  }
  body += "</p><div class=\"figures\">";
  body += figure(page, "preview/gabor_response.png", "Gabor response", "gabor-response", "the Gabor response is not shown");
  body += figure(page, "preview/pore_mask.png", "Pore mask", "pore-mask", "the pore mask is not shown");
  body += "</div>";
  page.add({"gabor", title, body});
}

// ---- phase_fractions.csv ----

struct Fractions {
  std::vector<std::string> phases;                      // the CSV's phase columns, in order
  std::map<long long, std::vector<double>> perSlice;    // percent
  std::optional<std::vector<double>> total;             // percent
};

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

// Names shown for the CSV's columns: the run's names when they match, else the column heads.
std::vector<std::string> displayNames(const Fractions& f, const ReportPhases& phases) {
  if (phases.names.size() != f.phases.size()) return f.phases;
  return phases.names;
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

// ---- segmentation overlay viewer ----

void addOverlaySection(Page& page, const std::optional<Fractions>& fractions, const ReportPhases& phases) {
  const fs::path preview = page.folder() / "preview";
  static const std::regex greyName(R"(grey_(\d+)\.png)");
  std::map<long long, std::string> greyFiles;
  std::error_code ec;
  if (fs::is_directory(preview, ec))
    for (const auto& e : fs::directory_iterator(preview, ec)) {
      std::smatch m;
      const std::string name = e.path().filename().string();
      if (std::regex_match(name, m, greyName)) greyFiles[std::stoll(m[1])] = name;
    }
  const std::string title = "Segmentation over the grey slices";
  if (greyFiles.empty()) {
    page.add({"overlay", title, page.missing("preview/grey_NNNN.png", "the segmentation viewer is not shown")});
    return;
  }
  json data;
  data["slices"] = json::array();
  data["grey"] = json::array();
  data["labels"] = json::array();
  data["fractions"] = json::object();
  data["names"] = phases.names;
  data["colours"] = phases.rgb;
  std::vector<long long> withoutLabels;
  std::string problems;
  for (const auto& [slice, greyName] : greyFiles) {
    std::string grey;
    try {
      grey = pngFileDataUri(preview / greyName);
    } catch (const std::exception& e) {
      problems += page.note("preview/" + greyName + " could not be shown (" + e.what() + ").");
      continue;
    }
    const std::string digits = greyName.substr(5, greyName.size() - 9);  // NNNN as written
    const fs::path labels = preview / ("labels_" + digits + ".png");
    json labelUri = nullptr;
    if (fs::exists(labels)) {
      try {
        labelUri = pngFileDataUri(labels);
      } catch (const std::exception& e) {
        problems += page.note("preview/labels_" + digits + ".png could not be shown (" + e.what() + ").");
      }
    } else {
      withoutLabels.push_back(slice);
    }
    data["slices"].push_back(slice);
    data["grey"].push_back(grey);
    data["labels"].push_back(labelUri);
    if (fractions) {
      if (auto it = fractions->perSlice.find(slice); it != fractions->perSlice.end()) {
        json values = json::array();
        for (double v : it->second) values.push_back(std::stod(formatNumber(v, 2)));
        data["fractions"][std::to_string(slice)] = values;
      }
    }
  }
  const std::size_t n = data["slices"].size();
  if (n == 0) {
    page.add({"overlay", title, problems});
    return;
  }
  std::string body = "<p class=\"summary\" id=\"overlay-summary\">" + std::to_string(n) +
                     " preview slices. Move the slice slider to step through the stack and the opacity slider "
                     "to fade the labels over the grey image.</p>" + legend(phases) + problems;
  if (!withoutLabels.empty())
    body += page.note(std::to_string(withoutLabels.size()) + " preview slice(s) have no labels_NNNN.png (first: slice " +
                      std::to_string(withoutLabels.front()) + "); they are shown grey only.");
  body += "<div class=\"controls\"><label>Slice <input type=\"range\" id=\"slice-slider\" min=\"0\" max=\"" +
          std::to_string(n - 1) + "\" value=\"0\" step=\"1\"></label><span id=\"slice-label\"></span>"
          "<label>Label opacity <input type=\"range\" id=\"opacity-slider\" min=\"0\" max=\"100\" value=\"45\" step=\"1\"></label>"
          "<span id=\"opacity-label\"></span><span id=\"slice-fractions\"></span></div>"
          "<canvas id=\"overlay-canvas\" width=\"1\" height=\"1\"></canvas>";
  std::string dump = data.dump();
  // "</" cannot appear in base64 or numbers, but never let data end the <script> element.
  for (std::size_t at = dump.find("</"); at != std::string::npos; at = dump.find("</", at + 3)) dump.replace(at, 2, "<\\/");
  body += "<script type=\"application/json\" id=\"overlay-data\">" + dump + "</script>";
  page.add({"overlay", title, body});
}

void addOrthoLabelsSection(Page& page, const std::optional<json>& run, const ReportPhases& phases) {
  std::string scaleText;
  const double z = depthScale(run, scaleText);
  std::string body = "<p>Re-slices of the labelled volume (slice number runs downwards): phases should continue "
                     "smoothly from slice to slice. " + escapeHtml(scaleText) + "</p>" + legend(phases) + "<div class=\"figures\">";
  body += figure(page, "preview/ortho_xz_labels.png", "XZ of the labels", "ortho-xz-labels", "the XZ view of the labels is not shown", [&](const fs::path& path) { return colouredLabelsUri(path, phases); }, z);
  body += figure(page, "preview/ortho_yz_labels.png", "YZ of the labels", "ortho-yz-labels", "the YZ view of the labels is not shown", [&](const fs::path& path) { return colouredLabelsUri(path, phases); }, z);
  body += "</div>";
  page.add({"ortho-labels", "Orthogonal views of the labelled volume", body});
}

void add3dViewSection(Page& page, const std::optional<json>& run) {
  std::string depth = "one slice spacing drawn as one pixel (pixel size or slice thickness unknown)";
  if (run && run->value("pixel_size_nm", 0.0) > 0 && run->value("slice_thickness_nm", 0.0) > 0)
    depth = "depth drawn to scale: slice spacing " + formatNumber(run->value("slice_thickness_nm", 0.0), 4) +
            " nm, pixel " + formatNumber(run->value("pixel_size_nm", 0.0), 4) + " nm";
  std::string body = "<p>The volume as a block seen from the front, above and right: the first slice in front, the "
                     "top row of every slice on top, the right-hand column of every slice on the side (depth "
                     "recedes up and to the right; " + escapeHtml(depth) + ").</p><div class=\"figures\">";
  body += figure(page, "view3d_labels.png", "3D view of the labelled volume", "view3d-labels", "the 3D view of the labels is not shown");
  body += figure(page, "view3d_grey.png", "3D view of the aligned greyscale stack", "view3d-grey", "the 3D view of the greyscale stack is not shown");
  body += "</div>";
  page.add({"view3d", "3D view", body});
}

}  // namespace

std::string buildReportHtml(const fs::path& outputFolder) {
  std::error_code ec;
  if (!fs::is_directory(outputFolder, ec))
    throw Error("report: output folder " + outputFolder.string() +
                " does not exist or is not a folder; expected the folder written by `fibseg run`");
  Page page(outputFolder);
  std::string runNote;
  const auto run = readRunJson(page, runNote);
  addRunSection(page, run, runNote);
  addParametersSection(page);
  addDriftSection(page);
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
  add3dViewSection(page, run);
  std::vector<std::pair<std::string, std::string>> colours;
  for (std::size_t p = 0; p < phases.names.size(); ++p) colours.emplace_back(toLower(phases.names[p]), phases.hex(int(p)));
  auto measured = measureSection(outputFolder, colours);
  for (const auto& n : measured.notes) page.note(n);
  page.add({"metrics", "Microstructure metrics", measured.body});
  return page.html();
}

void writeReport(const fs::path& outputFolder) {
  const std::string html = buildReportHtml(outputFolder);
  writeTextFile(outputFolder / "report.html", html);
}

}  // namespace fibseg::report
