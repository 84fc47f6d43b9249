// Section "Otsu histogram and threshold": preview/histogram.csv and run.json's thresholds.
#include "fibseg/report/sections/sections.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "fibseg/core/error.hpp"
#include "fibseg/report/csv_table.hpp"
#include "fibseg/report/svg_plot.hpp"

namespace fibseg::report::detail {

namespace {

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

}  // namespace

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

}  // namespace fibseg::report::detail
