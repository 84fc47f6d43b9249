// Section "Gabor response and pore mask of one slice".
#include "fibseg/report/sections/sections.hpp"

#include <opencv2/core.hpp>

#include "fibseg/io/png.hpp"

namespace fibseg::report::detail {

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

}  // namespace fibseg::report::detail
