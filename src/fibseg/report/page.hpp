#pragma once
// What every report section shares: the page being built (sections plus the notes about what was
// left out), the run's phases and colours, run.json lookups and the figure helpers.
#include <nlohmann/json.hpp>

#include <array>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "fibseg/report/html.hpp"

namespace fibseg::report::detail {
namespace fs = std::filesystem;
// ordered_json keeps run.json in the order it was written (stage timings in pipeline order).
using json = nlohmann::ordered_json;

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

ReportPhases phasesOf(const std::optional<nlohmann::json>& run);

struct Section {
  std::string id, title, body;
};

// Collects the page section by section, and the notes about what was left out.
class Page {
 public:
  explicit Page(fs::path folder) : folder_(std::move(folder)) {}
  const fs::path& folder() const { return folder_; }
  void add(Section section) { sections_.push_back(std::move(section)); }
  /// The first section of the page (the summary, built last because it lists every note).
  void addFirst(Section section) { sections_.insert(sections_.begin(), std::move(section)); }
  const std::vector<std::string>& notes() const { return notes_; }
  /// The folder named on the page: the one the run ends in (run.json "output_folder"), not the
  /// staging folder the page is built in.
  void setShownFolder(fs::path folder) { shownFolder_ = std::move(folder); }
  fs::path shownFolder() const;
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
  fs::path folder_, shownFolder_;
  std::vector<Section> sections_;
  std::vector<std::string> notes_;
};

std::string td(const std::string& text);
std::string tdNum(double v, int decimals = 3);

/// The first value named `key` anywhere in `j` (breadth first, so top-level keys win).
const json* findKey(const json& j, const std::string& key);
/// The first of `keys` that `run` holds as a number.
std::optional<double> findNumber(const json* run, const std::vector<std::string>& keys);
/// run.json, or nullopt with a visible note in `noteHtml` saying why not.
std::optional<json> readRunJson(Page& page, std::string& noteHtml);

/// A figure of the PNG `relative` (inside the output folder), or a note saying it is missing and
/// what that means (`consequence`). `toUri` converts the file (default: embedded as it is).
/// `zStretch` != 1 draws the image's rows that many times taller than wide (orthogonal views:
/// one row per slice, slices thicker or thinner than a pixel is wide).
std::string figure(Page& page, const std::string& relative, const std::string& caption, const std::string& id,
                   const std::string& consequence, const std::function<std::string(const fs::path&)>& toUri = nullptr,
                   double zStretch = 1);
/// Preview label PNGs painted in the phase colours, as a data URI.
std::string colouredLabelsUri(const fs::path& path, const ReportPhases& phases);
/// The colour legend of the phases.
std::string legend(const ReportPhases& phases);
/// How much taller than a pixel is wide one slice is, from run.json; 1 (with a note) if unknown.
double depthScale(const std::optional<json>& run, std::string& text);
/// run.json "method": "classifier" (trained model) rather than the classical Otsu + Gabor path.
bool classifierRun(const std::optional<json>& run);

}  // namespace fibseg::report::detail
