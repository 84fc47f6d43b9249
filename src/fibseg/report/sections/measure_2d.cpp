// The "Microstructure metrics" section of a single slice (metrics.json with "dimensions": 2).
#include <limits>

#include "fibseg/core/text.hpp"
#include "fibseg/report/html.hpp"
#include "fibseg/report/sections/measure.hpp"
#include "fibseg/report/sections/metric_cells.hpp"
#include "fibseg/report/svg_plot.hpp"

namespace fibseg::report {
using json = nlohmann::ordered_json;

namespace {
using detail::cellOf;
using detail::colourOf;
using detail::how;
}  // namespace

std::string sliceMetricsBody(const json& m, const std::vector<std::pair<std::string, std::string>>& colours) {
  const auto pixel = m.value("pixel_size_um", std::vector<double>{});
  const json& method = m.at("method");
  std::string body = "<p class=\"summary\" id=\"metrics-summary\">A single slice, measured in 2D; pixel " +
                     (pixel.size() == 2 ? formatNumber(pixel[0], 4) + " × " + formatNumber(pixel[1], 4) + " µm"
                                        : std::string("size unknown")) +
                     ". Every number here is in metrics.json; tables in metrics.csv, slab_fractions.csv and "
                     "slab_interfaces.csv.</p>";
  body += "<table id=\"metrics-table\"><tr><th>phase</th><th>area fraction</th><th>boundary length per area "
          "(µm⁻¹)</th><th>specific perimeter (µm⁻¹)</th><th>surface per volume if isotropic (µm⁻¹)</th></tr>";
  for (const auto& [name, ph] : m.at("phases").items())
    body += "<tr><td>" + escapeHtml(name) + "</td>" + cellOf(ph.value("area_fraction", json(nullptr)), 4) +
            cellOf(ph.value("boundary_length_per_area_per_um", json(nullptr)), 4) +
            cellOf(ph.value("specific_perimeter_per_um", json(nullptr)), 4) +
            cellOf(ph.value("surface_area_per_volume_if_isotropic_per_um", json(nullptr)), 4) + "</tr>";
  body += "</table><table id=\"interfaces-table\"><tr><th>interface</th><th>length per area (µm⁻¹)</th></tr>";
  for (const auto& [name, in] : m.at("interfaces").items())
    body += "<tr><td>" + escapeHtml(name) + "</td>" + cellOf(in.value("length_per_area_per_um", json(nullptr)), 4) + "</tr>";
  body += "</table>";
  body += how("boundary lengths by " + method.value("lengths", std::string("?")) + "; specific perimeter: " +
              method.value("specific_perimeter", std::string()) + "; " +
              method.value("surface_area_per_volume_if_isotropic", std::string()));
  if (m.contains("not_computed")) {
    body += "<ul id=\"not-computed\">";
    for (const auto& [name, why] : m["not_computed"].items())
      body += "<li>" + escapeHtml(name) + ": " + escapeHtml(why.is_string() ? why.get<std::string>() : "") + "</li>";
    body += "</ul>";
  }

  const json& slabs = m.at("slabs");
  const json& rows = slabs.at("rows");
  if (rows.empty()) return body;
  const std::string axis = slabs.value("axis", std::string("y"));
  std::vector<double> centre;
  for (const auto& r : rows) centre.push_back(0.5 * (r.value("from_um", 0.0) + r.value("to_um", 0.0)));
  auto plotOf = [&](const std::string& title, const std::string& yLabel, const std::string& key, bool phaseColours) {
    Plot p{title, "position along " + axis + " (µm, slab centre)", yLabel};
    int i = 0;
    const json first = rows[0].value(key, json::object());
    for (const auto& [name, v] : first.items()) {
      PlotSeries s{name, phaseColours ? colourOf(colours, name, i) : colourOf({}, "", i), {}, {}, PlotStyle::Line};
      for (std::size_t r = 0; r < rows.size(); ++r) {
        const json cell = rows[r].value(key, json::object()).value(name, json(nullptr));
        s.x.push_back(centre[r]);
        s.y.push_back(cell.is_number() ? cell.get<double>() : std::numeric_limits<double>::quiet_NaN());
      }
      p.series.push_back(s);
      ++i;
    }
    return renderSvg(p);
  };
  body += "<h3>Across the image (" + std::to_string(rows.size()) + " slabs along " + escapeHtml(axis) + ")</h3>";
  body += plotOf("Phase area fraction per slab", "area fraction", "area_fraction", true);
  body += plotOf("Interface length per unit area per slab", "length per area (µm⁻¹)", "interface_length_per_area_per_um", false);
  body += how(slabs.value("statistics", std::string()));
  if (rows[0].contains("active_material_boundary_share")) {
    body += plotOf("Share of the active material's boundary touching each phase, per slab", "share",
                   "active_material_boundary_share", true);
    body += how(slabs.value("active_material_boundary_share", std::string()));
  }
  body += "<details><summary>Table per slab</summary><table id=\"slab-table\"><tr><th>slab</th><th>from–to (µm)</th>";
  for (const auto& [name, v] : rows[0]["area_fraction"].items()) body += "<th>" + escapeHtml(name) + "</th>";
  for (const auto& [name, v] : rows[0]["interface_length_per_area_per_um"].items())
    body += "<th>" + escapeHtml(name) + " (µm⁻¹)</th>";
  body += "</tr>";
  for (const auto& r : rows) {
    body += "<tr><td class=\"num\">" + std::to_string(r.value("slab", 0)) + "</td><td class=\"num\">" +
            formatNumber(r.value("from_um", 0.0), 3) + "–" + formatNumber(r.value("to_um", 0.0), 3) + "</td>";
    for (const auto& [name, v] : r["area_fraction"].items()) body += cellOf(v, 4);
    for (const auto& [name, v] : r["interface_length_per_area_per_um"].items()) body += cellOf(v, 4);
    body += "</tr>";
  }
  return body + "</table></details>";
}

}  // namespace fibseg::report
