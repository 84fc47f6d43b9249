// Sections "Drift between slices" (transforms.csv) and the orthogonal views before and after alignment.
#include "fibseg/report/sections/sections.hpp"

#include <cmath>

#include "fibseg/core/error.hpp"
#include "fibseg/report/csv_table.hpp"
#include "fibseg/report/svg_plot.hpp"

namespace fibseg::report::detail {

void addDriftSection(Page& page, const std::optional<json>& run) {
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
    if (const json* offset = run ? findKey(*run, "registration_comparison_offset_px") : nullptr;
        offset && offset->is_array() && offset->size() == 2 && ((*offset)[0] != 0.0 || (*offset)[1] != 0.0))
      body += "<p id=\"drift-offset\">Every comparison of two slices carried the same offset, whatever slices it "
              "spanned: (" + formatNumber((*offset)[0].get<double>(), 3) + ", " + formatNumber((*offset)[1].get<double>(), 3) +
              ") px (significant at 3 sigma; apparent motion of structure that changes from slice to slice). The "
              "registration removed it, so it does not add up along the stack.</p>";
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

}  // namespace fibseg::report::detail
