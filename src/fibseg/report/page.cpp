// The shared pieces of the report page (page.hpp).
#include "fibseg/report/page.hpp"

#include <opencv2/imgcodecs.hpp>

#include <fstream>

#include "fibseg/core/error.hpp"
#include "fibseg/io/png.hpp"
#include "fibseg/report/page_assets.hpp"

namespace fibseg::report::detail {

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

std::string Page::html() const {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  const fs::path shown = shownFolder();
  out += "<title>fibseg report: " + escapeHtml(shown.filename().string()) + "</title>";
  out += "<script>" + std::string(errorCaptureScript()) + "</script>";
  out += "<style>" + std::string(pageStyle()) + "</style></head><body>\n";
  out += "<h1>fibseg report</h1><p>Output folder: <code id=\"output-folder\">" + escapeHtml(shown.string()) + "</code></p>";
  out += "<pre id=\"selftest-result\" hidden></pre>";
  out += "<nav><ol>";
  for (const auto& s : sections_) out += "<li><a href=\"#" + s.id + "\">" + escapeHtml(s.title) + "</a></li>";
  out += "</ol></nav>\n";
  // The summary lists the notes itself (summary.cpp); a page without one lists them here.
  const bool summaryFirst = !sections_.empty() && sections_.front().id == "summary";
  if (!notes_.empty() && !summaryFirst) {
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

fs::path Page::shownFolder() const {
  if (!shownFolder_.empty()) return shownFolder_;
  std::error_code ec;
  const fs::path absolute = fs::absolute(folder_, ec).lexically_normal();
  return ec ? folder_ : absolute;
}

std::string td(const std::string& text) { return "<td>" + escapeHtml(text) + "</td>"; }
std::string tdNum(double v, int decimals) { return "<td class=\"num\">" + formatNumber(v, decimals) + "</td>"; }


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

// `zStretch` != 1 draws the image's rows that many times taller than wide (orthogonal views:
// one row per slice, slices thicker or thinner than a pixel is wide).
std::string figure(Page& page, const std::string& relative, const std::string& caption, const std::string& id,
                   const std::string& consequence, const std::function<std::string(const fs::path&)>& toUri, double zStretch) {
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

// run.json "method": "classifier" (trained model) rather than the classical Otsu + Gabor path.
bool classifierRun(const std::optional<json>& run) {
  if (!run) return false;
  const json* method = findKey(*run, "method");
  return method && method->is_string() && method->get<std::string>() == "classifier";
}

}  // namespace fibseg::report::detail
