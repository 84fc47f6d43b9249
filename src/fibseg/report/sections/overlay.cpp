// Section "Segmentation over the grey slices": the slice viewer (its script is in page_assets.cpp).
#include "fibseg/report/sections/sections.hpp"

#include <regex>

namespace fibseg::report::detail {

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

}  // namespace fibseg::report::detail
