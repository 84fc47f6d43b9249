#pragma once
// Plots as inline SVG: the page needs no plotting library and prints as sharply as it shows.
// Enough for the report's needs: lines, points and bars against one x and one y axis, vertical
// lines (thresholds) and shaded x positions (flagged slices).
#include <string>
#include <vector>
#include <optional>

namespace fibseg::report {

enum class PlotStyle { Line, Points, Bars };

struct PlotSeries {
  std::string name;    // legend and tooltip text
  std::string colour;  // any CSS colour
  std::vector<double> x, y;  // NaN y values leave a gap
  PlotStyle style = PlotStyle::Line;
  bool dashed = false;
};

struct VerticalLine {
  double x = 0;
  std::string label;
  std::string colour = "#c00";
};

struct Plot {
  std::string title, xLabel, yLabel;
  int width = 760, height = 260;  // SVG user units; the page scales it to its column
  std::vector<PlotSeries> series;
  std::vector<VerticalLine> verticalLines;
  std::vector<double> shadedX;  // x positions shaded as light red bands one x-step wide
  std::optional<double> yMin, yMax, xMin, xMax;  // fixed axis ends; otherwise from the data
  bool integerX = false;  // x is a slice number: no ticks at 2.5
};

/// An <svg> element (with role="img" and a <title>) drawing `plot`.
std::string renderSvg(const Plot& plot);

/// Round tick positions covering [lo, hi], about `count` of them (1, 2, 5 x 10^k steps, at
/// least `minStep` apart).
std::vector<double> niceTicks(double lo, double hi, int count, double minStep = 0);

}  // namespace fibseg::report
