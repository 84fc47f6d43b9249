#include "fibseg/report/svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "fibseg/report/html.hpp"

namespace fibseg::report {

std::vector<double> niceTicks(double lo, double hi, int count, double minStep) {
  std::vector<double> ticks;
  if (!(hi > lo) || count < 1) {
    ticks.push_back(lo);
    return ticks;
  }
  // The 1, 2, 5 x 10^k step nearest (in ratio) to an even split into `count` parts.
  const double raw = (hi - lo) / count;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (std::fabs(std::log(m * magnitude / raw)) < std::fabs(std::log(step / raw))) step = m * magnitude;
  step = std::max(step, minStep);
  const long long first = static_cast<long long>(std::ceil(lo / step - 1e-9));
  const long long last = static_cast<long long>(std::floor(hi / step + 1e-9));
  for (long long k = first; k <= last; ++k) ticks.push_back(k == 0 ? 0.0 : static_cast<double>(k) * step);
  return ticks;
}

namespace {

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  bool valid() const { return lo <= hi; }
};

std::string num(double v) { return formatNumber(v, 2); }

}  // namespace

std::string renderSvg(const Plot& plot) {
  const double left = 64, right = 16, top = plot.title.empty() ? 26 : 42, bottom = 44;
  const double w = plot.width, h = plot.height;
  const double plotW = w - left - right, plotH = h - top - bottom;

  Range xr, yr;
  bool hasBars = false;
  double xStep = std::numeric_limits<double>::infinity();
  for (const auto& s : plot.series) {
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      xr.add(s.x[i]);
      yr.add(s.y[i]);
      if (i > 0 && s.x[i] != s.x[i - 1]) xStep = std::min(xStep, std::fabs(s.x[i] - s.x[i - 1]));
    }
    if (s.style == PlotStyle::Bars) hasBars = true;
  }
  for (const auto& v : plot.verticalLines) xr.add(v.x);
  if (!std::isfinite(xStep)) xStep = 1;
  if (!xr.valid()) xr.lo = 0, xr.hi = 1;
  if (!yr.valid()) yr.lo = 0, yr.hi = 1;
  if (hasBars) yr.lo = std::min(yr.lo, 0.0), xr.hi += xStep;
  if (!plot.shadedX.empty()) xr.hi = std::max(xr.hi, xr.lo + xStep);
  if (yr.hi == yr.lo) yr.lo -= 1, yr.hi += 1;
  if (xr.hi == xr.lo) xr.lo -= 0.5, xr.hi += 0.5;
  if (!hasBars && !plot.yMin && !plot.yMax) {
    const double pad = (yr.hi - yr.lo) * 0.05;
    yr.lo -= pad, yr.hi += pad;
  }
  if (plot.yMin) yr.lo = *plot.yMin;
  if (plot.yMax) yr.hi = *plot.yMax;
  if (plot.xMin) xr.lo = *plot.xMin;
  if (plot.xMax) xr.hi = *plot.xMax;

  auto px = [&](double x) { return left + (x - xr.lo) / (xr.hi - xr.lo) * plotW; };
  auto py = [&](double y) { return top + (1 - (y - yr.lo) / (yr.hi - yr.lo)) * plotH; };

  std::string svg = "<svg class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + num(w) + " " +
                    num(h) + "\" role=\"img\" font-family=\"sans-serif\" font-size=\"11\">";
  svg += "<title>" + escapeHtml(plot.title) + "</title>";
  if (!plot.title.empty())
    svg += "<text x=\"" + num(left) + "\" y=\"16\" font-size=\"13\" font-weight=\"bold\">" + escapeHtml(plot.title) + "</text>";

  // Shaded x positions (flagged slices) under everything else.
  for (double x : plot.shadedX) {
    const double x0 = px(x - xStep / 2), x1 = px(x + xStep / 2);
    svg += "<rect class=\"shaded\" x=\"" + num(x0) + "\" y=\"" + num(top) + "\" width=\"" + num(std::max(1.5, x1 - x0)) +
           "\" height=\"" + num(plotH) + "\" fill=\"#f4b6b6\" opacity=\"0.6\"><title>flagged: " + num(x) + "</title></rect>";
  }

  // Axes, grid and ticks.
  svg += "<g stroke=\"#ddd\" stroke-width=\"1\">";
  const auto yTicks = niceTicks(yr.lo, yr.hi, 5);
  for (double t : yTicks) svg += "<line x1=\"" + num(left) + "\" x2=\"" + num(left + plotW) + "\" y1=\"" + num(py(t)) + "\" y2=\"" + num(py(t)) + "\"/>";
  svg += "</g><g fill=\"#333\">";
  for (double t : yTicks)
    svg += "<text x=\"" + num(left - 6) + "\" y=\"" + num(py(t) + 4) + "\" text-anchor=\"end\">" + formatNumber(t, 4) + "</text>";
  const auto xTicks = niceTicks(xr.lo, xr.hi, 8, plot.integerX ? 1.0 : 0.0);
  for (double t : xTicks)
    svg += "<text x=\"" + num(px(t)) + "\" y=\"" + num(top + plotH + 16) + "\" text-anchor=\"middle\">" + formatNumber(t, 4) + "</text>";
  svg += "<text x=\"" + num(left + plotW / 2) + "\" y=\"" + num(h - 6) + "\" text-anchor=\"middle\">" + escapeHtml(plot.xLabel) + "</text>";
  svg += "<text transform=\"translate(14," + num(top + plotH / 2) + ") rotate(-90)\" text-anchor=\"middle\">" + escapeHtml(plot.yLabel) + "</text>";
  svg += "</g>";
  svg += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(plotW) + "\" height=\"" + num(plotH) +
         "\" fill=\"none\" stroke=\"#888\"/>";
  if (yr.lo < 0 && yr.hi > 0)
    svg += "<line x1=\"" + num(left) + "\" x2=\"" + num(left + plotW) + "\" y1=\"" + num(py(0)) + "\" y2=\"" + num(py(0)) + "\" stroke=\"#888\"/>";

  // Data.
  for (const auto& s : plot.series) {
    const std::size_t n = std::min(s.x.size(), s.y.size());
    const std::string name = escapeHtml(s.name);
    if (s.style == PlotStyle::Bars) {
      svg += "<g class=\"series\" data-name=\"" + name + "\" fill=\"" + s.colour + "\">";
      for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(s.y[i])) continue;
        const double x0 = px(s.x[i]), x1 = px(s.x[i] + xStep);
        const double y0 = py(std::max(s.y[i], yr.lo)), yBase = py(std::max(0.0, yr.lo));
        svg += "<rect x=\"" + num(x0) + "\" y=\"" + num(std::min(y0, yBase)) + "\" width=\"" + num(std::max(0.5, x1 - x0)) +
               "\" height=\"" + num(std::fabs(yBase - y0)) + "\"/>";
      }
      svg += "</g>";
    } else if (s.style == PlotStyle::Points) {
      svg += "<g class=\"series\" data-name=\"" + name + "\" fill=\"none\" stroke=\"" + s.colour + "\" stroke-width=\"2\">";
      for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(s.y[i])) continue;
        svg += "<circle cx=\"" + num(px(s.x[i])) + "\" cy=\"" + num(py(s.y[i])) + "\" r=\"4\"><title>" + name + ": " +
               formatNumber(s.x[i], 3) + ", " + formatNumber(s.y[i], 3) + "</title></circle>";
      }
      svg += "</g>";
    } else {
      // One polyline per run of finite values, so a NaN leaves a visible gap.
      svg += "<g class=\"series\" data-name=\"" + name + "\" fill=\"none\" stroke=\"" + s.colour +
             "\" stroke-width=\"1.6\"" + (s.dashed ? " stroke-dasharray=\"5,3\"" : "") + "><title>" + name + "</title>";
      std::string points;
      auto flush = [&] {
        if (!points.empty()) svg += "<polyline points=\"" + points + "\"/>";
        points.clear();
      };
      for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(s.y[i])) {
          flush();
          continue;
        }
        points += num(px(s.x[i])) + "," + num(py(s.y[i])) + " ";
      }
      flush();
      if (n == 1 && std::isfinite(s.y[0]))
        svg += "<circle cx=\"" + num(px(s.x[0])) + "\" cy=\"" + num(py(s.y[0])) + "\" r=\"2\" fill=\"" + s.colour + "\"/>";
      svg += "</g>";
    }
  }
  for (const auto& v : plot.verticalLines) {
    svg += "<g class=\"vline\"><line x1=\"" + num(px(v.x)) + "\" x2=\"" + num(px(v.x)) + "\" y1=\"" + num(top) + "\" y2=\"" +
           num(top + plotH) + "\" stroke=\"" + v.colour + "\" stroke-width=\"2\" stroke-dasharray=\"6,3\"/>";
    svg += "<text x=\"" + num(px(v.x) + 4) + "\" y=\"" + num(top + 12) + "\" fill=\"" + v.colour + "\">" + escapeHtml(v.label) + "</text></g>";
  }

  // Legend along the top right.
  double lx = left + plotW;
  std::string legend;
  for (auto it = plot.series.rbegin(); it != plot.series.rend(); ++it) {
    if (it->name.empty()) continue;
    const double textWidth = 6.5 * static_cast<double>(it->name.size());
    lx -= textWidth + 22;
    legend += "<rect x=\"" + num(lx) + "\" y=\"" + num(top - 13) + "\" width=\"12\" height=\"8\" fill=\"" + it->colour + "\"/>";
    legend += "<text x=\"" + num(lx + 16) + "\" y=\"" + num(top - 5) + "\">" + escapeHtml(it->name) + "</text>";
  }
  svg += "<g class=\"legend\" fill=\"#333\">" + legend + "</g>";
  svg += "</svg>";
  return svg;
}

}  // namespace fibseg::report
