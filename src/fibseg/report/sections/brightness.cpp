// Section "Brightness per slice": brightness.csv before and after correction.
#include "fibseg/report/sections/sections.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "fibseg/core/error.hpp"
#include "fibseg/report/csv_table.hpp"
#include "fibseg/report/svg_plot.hpp"

namespace fibseg::report::detail {

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

}  // namespace fibseg::report::detail
