#include "fibseg/report/sections/measure.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <limits>

#include "fibseg/core/text.hpp"
#include "fibseg/measure/metrics_2d.hpp"
#include "fibseg/report/html.hpp"
#include "fibseg/report/sections/metric_cells.hpp"
#include "fibseg/report/svg_plot.hpp"

namespace fibseg::report {
namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {
using detail::cellOf;
using detail::colourOf;
using detail::how;

const double kNaN = std::numeric_limits<double>::quiet_NaN();

double numberOr(const json& v, double fallback = kNaN) { return v.is_number() ? v.get<double>() : fallback; }
std::string meanStd(const json& v, int decimals) {
  if (!v.is_object() || !v.value("mean", json(nullptr)).is_number()) return "<td>–</td>";
  return "<td class=\"num\">" + formatNumber(v["mean"].get<double>(), decimals) + " ± " +
         formatNumber(numberOr(v["std"], 0), decimals) + "</td>";
}

std::optional<json> readJson(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  try {
    return json::parse(in);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string metricsTable(const json& m) {
  const std::string axis = m.at("options").value("slab_axis", std::string("y"));
  std::string t = "<table id=\"metrics-table\"><tr><th>phase</th><th>volume fraction</th><th>specific surface "
                  "(µm⁻¹)</th><th>percolating x / y / z</th><th>τ x</th><th>τ y</th><th>τ z</th><th>d50 (µm)</th>"
                  "<th>mean chord along " + axis + " (µm)</th></tr>";
  for (const auto& [name, ph] : m.at("phases").items()) {
    t += "<tr><td>" + escapeHtml(name) + "</td>" + cellOf(ph.value("volume_fraction", json(nullptr)), 4) +
         cellOf(ph.value("specific_surface_area_per_um", json(nullptr)), 4);
    std::string perc;
    for (const char* a : {"x", "y", "z"})
      perc += (perc.empty() ? "" : " / ") + formatNumber(numberOr(ph["percolating_fraction"][a], 0), 3);
    t += "<td class=\"num\">" + perc + "</td>";
    for (const char* a : {"x", "y", "z"})
      t += ph.contains("tortuosity_factor") ? cellOf(ph["tortuosity_factor"][a], 3) : "<td>not computed</td>";
    const json& sd = ph.value("size_distribution", json::object());
    t += cellOf(sd.value("local_thickness_d50_um", json(nullptr)), 3);
    t += cellOf(sd.value("mean_chord_um", json::object()).value(axis, json(nullptr)), 3) + "</tr>";
  }
  t += "</table><table id=\"interfaces-table\"><tr><th>interface</th><th>area per volume (µm⁻¹)</th></tr>";
  for (const auto& [name, in] : m.at("interfaces").items())
    t += "<tr><td>" + escapeHtml(name) + "</td>" + cellOf(in.value("area_per_volume_per_um", json(nullptr)), 4) + "</tr>";
  return t + "</table>";
}

std::string profiles(const json& m, const std::vector<std::pair<std::string, std::string>>& colours) {
  const json& slabs = m.at("slabs");
  const json& rows = slabs.at("rows");
  if (rows.empty()) return "";
  const std::string axis = slabs.value("axis", std::string("y"));
  const std::string am = m.at("options").value("active_material_phase", std::string("cam"));
  const std::string xLabel = "depth along " + axis + " (µm, slab centre)";
  std::vector<double> centre;
  for (const auto& r : rows) centre.push_back(0.5 * (numberOr(r["from_um"], 0) + numberOr(r["to_um"], 0)));
  auto plotOf = [&](const std::string& title, const std::string& yLabel, const std::string& key) {
    Plot p{title, xLabel, yLabel};
    int i = 0;
    const json first = rows[0].value(key, json::object());  // kept: items() does not own it
    for (const auto& [name, v] : first.items()) {
      PlotSeries s{name, key == "volume_fraction" ? colourOf(colours, name, i) : colourOf({}, "", i), {}, {}, PlotStyle::Line};
      for (std::size_t r = 0; r < rows.size(); ++r) {
        s.x.push_back(centre[r]);
        const json& cell = rows[r].value(key, json::object());
        s.y.push_back(cell.contains(name) ? numberOr(cell.at(name).value("mean", json(nullptr))) : kNaN);
      }
      p.series.push_back(s);
      ++i;
    }
    return renderSvg(p);
  };
  std::string body = "<h3>Along the thickness (" + std::to_string(rows.size()) + " slabs along " + escapeHtml(axis) +
                     ")</h3>";
  body += plotOf("Phase volume fraction per slab (mean over slices)", "volume fraction", "volume_fraction");
  body += how("voxels of each phase / voxels of each (slab, slice) cell; " + slabs.value("statistics", std::string()) +
              ". Slabs are disjoint bands, not the notebook's cumulative ones.");
  body += plotOf("Interface area per unit volume per slab (mean over slices)", "area per volume (µm⁻¹)",
                 "interface_area_per_volume_per_um");
  body += how("interface area in each (slab, slice) cell / the cell's volume; areas by " +
              m.at("method").value("areas", std::string("?")));
  if (rows[0].contains("active_material_surface_share")) {
    body += plotOf("Share of the " + am + " surface touching each phase, per slab", "share of the " + am + " surface",
                   "active_material_surface_share");
    body += how(slabs.value("active_material_surface_share", std::string()));
  }
  body += "<details open><summary>Table per slab (mean ± standard deviation over the slices)</summary>"
          "<table id=\"slab-table\"><tr><th>slab</th><th>from–to (µm)</th>";
  for (const auto& [name, v] : rows[0]["volume_fraction"].items()) body += "<th>" + escapeHtml(name) + "</th>";
  for (const auto& [name, v] : rows[0]["interface_area_per_volume_per_um"].items())
    body += "<th>" + escapeHtml(name) + " (µm⁻¹)</th>";
  if (rows[0].contains("active_material_surface_share"))
    for (const auto& [name, v] : rows[0]["active_material_surface_share"].items())
      body += "<th>" + escapeHtml(am) + " surface share " + escapeHtml(name) + "</th>";
  body += "</tr>";
  for (const auto& r : rows) {
    body += "<tr><td class=\"num\">" + std::to_string(r.value("slab", 0)) + "</td><td class=\"num\">" +
            formatNumber(numberOr(r["from_um"], 0), 3) + "–" + formatNumber(numberOr(r["to_um"], 0), 3) + "</td>";
    for (const auto& [name, v] : r["volume_fraction"].items()) body += meanStd(v, 4);
    for (const auto& [name, v] : r["interface_area_per_volume_per_um"].items()) body += meanStd(v, 4);
    if (r.contains("active_material_surface_share"))
      for (const auto& [name, v] : r["active_material_surface_share"].items()) body += meanStd(v, 3);
    body += "</tr>";
  }
  return body + "</table></details>";
}

std::string sizeHistograms(const json& m, const std::vector<std::pair<std::string, std::string>>& colours) {
  Plot p{"Local thickness distribution per phase", "local thickness (µm)", "share of the phase's volume"};
  int i = 0;
  for (const auto& [name, ph] : m.at("phases").items()) {
    const json& h = ph.value("size_distribution", json::object()).value("local_thickness_histogram", json(nullptr));
    if (!h.is_object()) continue;
    const auto d = h.value("diameter_um", std::vector<double>{});
    const auto n = h.value("voxels", std::vector<double>{});
    double total = 0;
    for (double v : n) total += v;
    if (d.empty() || d.size() != n.size() || total <= 0) continue;
    PlotSeries s{name, colourOf(colours, name, i++), {}, {}, PlotStyle::Line};
    for (std::size_t k = 0; k < d.size(); ++k) s.x.push_back(d[k]), s.y.push_back(n[k] / total);
    p.series.push_back(s);
  }
  if (p.series.empty()) return "";
  return "<h3>Sizes</h3>" + renderSvg(p) + how(m.at("method").value("sizes", std::string()));
}

// Is the volume representative? tau mean (+- std) of the REV cubes against their edge, per phase
// and axis, with the full volume's tau as a dashed level where it was solved too.
std::string revFigure(const json& m, const std::vector<std::pair<std::string, std::string>>& colours) {
  Plot p{"Tortuosity factor against sub-volume size (REV)", "cube edge (voxels)", "τ (mean ± std over the cubes)"};
  int i = 0;
  for (const auto& [name, ph] : m.at("phases").items()) {
    if (!ph.contains("tortuosity_rev")) continue;
    for (const auto& [axis, edges] : ph["tortuosity_rev"].items()) {
      const std::string colour = colourOf(colours, name, i++);
      PlotSeries mean{name + " τ_" + axis, colour, {}, {}, PlotStyle::Line};
      PlotSeries low{name + " τ_" + axis + " − std", colour, {}, {}, PlotStyle::Line, true};
      PlotSeries high{name + " τ_" + axis + " + std", colour, {}, {}, PlotStyle::Line, true};
      double lastEdge = 0;
      for (const auto& e : edges) {
        const double x = e.at("edge_voxels").get<double>(), mu = numberOr(e.at("tau_mean")), sd = numberOr(e.at("tau_std"));
        mean.x.push_back(x), mean.y.push_back(mu);
        low.x.push_back(x), low.y.push_back(mu - sd);
        high.x.push_back(x), high.y.push_back(mu + sd);
        lastEdge = x;
      }
      p.series.push_back(mean), p.series.push_back(low), p.series.push_back(high);
      const json full = ph.value("tortuosity_full", json::object()).value(axis, json(nullptr));
      if (full.is_number() && !edges.empty())
        p.series.push_back({name + " τ_" + axis + " full volume", colour,
                            {edges.front().at("edge_voxels").get<double>(), lastEdge},
                            {full.get<double>(), full.get<double>()}, PlotStyle::Points});
    }
  }
  if (p.series.empty()) return "";
  const json& sampling = m.value("tortuosity_rev_sampling", json::object());
  return "<h3>Representative volume</h3>" + renderSvg(p) +
         how(sampling.value("method", std::string()) + " (" + sampling.value("why", std::string()) + "; seed " +
             sampling.value("seed", json(0)).dump() + ")");
}

// Triple-phase boundary densities (metrics.json triple_phase_boundaries), one row per triple.
std::string triplePhaseBoundaryTable(const json& m) {
  if (!m.contains("triple_phase_boundaries") || m["triple_phase_boundaries"].empty()) return "";
  std::string t = "<h3>Triple-phase boundaries</h3><table id=\"tpb-table\"><tr><th>phases</th><th>TPB length per "
                  "volume (µm⁻²)</th><th>active (µm⁻²)</th><th>share of voxel edges</th></tr>";
  for (const auto& [name, tpb] : m["triple_phase_boundaries"].items())
    t += "<tr><td>" + escapeHtml(name) + "</td>" + cellOf(tpb.value("length_per_volume_per_um2", json(nullptr)), 4) +
         cellOf(tpb.value("active_length_per_volume_per_um2", json(nullptr)), 4) +
         cellOf(tpb.value("edge_fraction", json(nullptr)), 4) + "</tr>";
  return t + "</table>" + how(m.at("method").value("triple_phase_boundaries", std::string()));
}

// The multi-phase transport solve (metrics.json multiphase_diffusion).
std::string multiPhaseDiffusionTable(const json& m) {
  if (!m.contains("multiphase_diffusion")) return "";
  const json& d = m["multiphase_diffusion"];
  std::string given;
  const json diffusivities = d.value("diffusivities", json::object());  // kept: items() does not own it
  for (const auto& [name, value] : diffusivities.items())
    given += (given.empty() ? "" : ", ") + name + " = " + formatNumber(numberOr(value, 0), 4);
  std::string t = "<h3>Transport with a diffusivity per phase (" + escapeHtml(given) +
                  ")</h3><table id=\"multiphase-table\"><tr><th></th><th>x</th><th>y</th><th>z</th></tr>";
  for (const auto& [key, label] : {std::pair<std::string, std::string>{"effective_diffusivity", "D_eff / D"},
                                   {"tortuosity_factor", "τ = D_mean / D_eff"}}) {
    t += "<tr><td>" + escapeHtml(label) + "</td>";
    for (const char* a : {"x", "y", "z"}) t += cellOf(d.value(key, json::object()).value(a, json(nullptr)), 4);
    t += "</tr>";
  }
  return t + "</table>" + how(m.at("method").value("multiphase_diffusion", std::string()));
}

// Particles by particle (metrics.json phases.<phase>.particles).
std::string particleTable(const json& m) {
  std::string rows;
  for (const auto& [name, ph] : m.at("phases").items()) {
    if (!ph.contains("particles")) continue;
    const json& p = ph["particles"];
    rows += "<tr><td>" + escapeHtml(name) + "</td><td class=\"num\">" + std::to_string(p.value("count_kept", 0)) +
            " of " + std::to_string(p.value("count_initial", 0)) + "</td>" +
            cellOf(p.value("removed_volume_fraction", json(nullptr)), 3) +
            cellOf(p.value("equivalent_diameter_d10_um", json(nullptr)), 3) +
            cellOf(p.value("equivalent_diameter_d50_um", json(nullptr)), 3) +
            cellOf(p.value("equivalent_diameter_d90_um", json(nullptr)), 3) +
            cellOf(p.value("sauter_diameter_um", json(nullptr)), 3) + cellOf(p.value("sphericity_mean", json(nullptr)), 3) +
            "</tr>";
  }
  if (rows.empty()) return "";
  return "<h3>Particles</h3><table id=\"particles-table\"><tr><th>phase</th><th>particles kept</th><th>volume share "
         "removed at the faces</th><th>d10 (µm)</th><th>d50 (µm)</th><th>d90 (µm)</th><th>Sauter d32 (µm)</th><th>mean "
         "sphericity</th></tr>" +
         rows + "</table>" + how(m.at("method").value("particles", std::string()) +
                                 "; one row per particle in particles_<phase>.csv");
}

// Electrode tortuosity factor of the electrolyte (metrics.json phases.<electrolyte>.electrode_tortuosity_factor).
std::string electrodeTortuosityTable(const json& m) {
  std::string rows;
  for (const auto& [name, ph] : m.at("phases").items()) {
    if (!ph.contains("electrode_tortuosity_factor")) continue;
    for (const auto& [key, label] : {std::pair<std::string, std::string>{"electrode_tortuosity_factor", "τ_e"},
                                     {"electrode_macmullin_number", "MacMullin τ_e / ε"}}) {
      rows += "<tr><td>" + escapeHtml(name) + "</td><td>" + escapeHtml(label) + "</td>";
      for (const char* a : {"x", "y", "z"}) rows += cellOf(ph[key].value(a, json(nullptr)), 4);
      rows += "</tr>";
    }
  }
  if (rows.empty()) return "";
  return "<h3>Electrode tortuosity factor</h3><table id=\"electrode-tortuosity-table\"><tr><th>electrolyte</th><th>"
         "</th><th>x</th><th>y</th><th>z</th></tr>" +
         rows + "</table>" + how(m.at("method").value("electrode_tortuosity", std::string()));
}

std::string pybammTable(const fs::path& folder) {
  const auto pybamm = readJson(folder / "metrics_pybamm.json");
  if (!pybamm) return "";
  std::string t = "<h3>Battery-model parameters (metrics_pybamm.json)</h3><table id=\"pybamm-table\"><tr><th>PyBaMM "
                  "parameter</th><th>value</th><th>from</th></tr>";
  const json& fibseg = pybamm->value("fibseg", json::object());
  for (const auto& [name, v] : pybamm->items()) {
    if (name == "fibseg") continue;
    t += "<tr><td>" + escapeHtml(name) + "</td>" + cellOf(v, 4) + "<td>" +
         escapeHtml(fibseg.value("sources", json::object()).value(name, std::string())) + "</td></tr>";
  }
  const json missing = fibseg.value("not_available", json::object());
  for (const auto& [name, why] : missing.items())
    t += "<tr><td>" + escapeHtml(name) + "</td><td>–</td><td>not available: " +
         escapeHtml(why.is_string() ? why.get<std::string>() : "") + "</td></tr>";
  return t + "</table>";
}

}  // namespace

MeasureSection measureSection(const fs::path& folder, const std::vector<std::pair<std::string, std::string>>& colours) {
  MeasureSection section;
  const fs::path path = folder / "metrics.json";
  if (!fs::exists(path)) {
    std::string why = "metrics.json is not in the output folder";
    if (const auto run = readJson(folder / "run.json"); run && run->contains("measure") && (*run)["measure"].is_object()) {
      const json& measure = (*run)["measure"];
      if (measure.contains("skipped") && measure["skipped"].is_string())
        why += ": the measure stage was skipped (" + measure["skipped"].get<std::string>() + ")";
      else if (measure.contains("failed") && measure["failed"].is_string())
        why += ": the measure stage failed (" + measure["failed"].get<std::string>() +
               "); the segmentation and every other output are kept";
    }
    section.notes.push_back(why + "; the microstructure metrics are not shown.");
    section.body = "<p class=\"note\">" + escapeHtml(section.notes.back()) + "</p>";
    return section;
  }
  const auto m = readJson(path);
  if (!m || !m->contains("phases") || !m->contains("interfaces") || !m->contains("slabs") || !m->contains("method")) {
    section.notes.push_back("metrics.json could not be read or lacks phases/interfaces/slabs/method; the "
                            "microstructure metrics are not shown.");
    section.body = "<p class=\"note\">" + escapeHtml(section.notes.back()) + "</p>";
    return section;
  }
  try {
    if (measure::isMetrics2d(*m)) {
      section.body = sliceMetricsBody(*m, colours) + pybammTable(folder);
      return section;
    }
    const auto voxel = m->value("voxel_size_um", std::vector<double>{});
    std::string body = "<p class=\"summary\" id=\"metrics-summary\">Voxel size " +
                       (voxel.size() == 3 ? formatNumber(voxel[0], 4) + " × " + formatNumber(voxel[1], 4) + " × " +
                                                formatNumber(voxel[2], 4) + " µm (x × y × z)"
                                          : std::string("unknown")) +
                       ". Every number here is in metrics.json; tables in metrics.csv, slab_fractions.csv and "
                       "slab_interfaces.csv.</p>";
    body += metricsTable(*m);
    const json& method = (*m)["method"];
    body += how("specific surface and interface areas per unit volume of the whole volume, by " +
                method.value("areas", std::string("?")));
    body += how("percolating: " + method.value("connectivity", std::string()) + "; τ: " + method.value("tortuosity", std::string()));
    body += profiles(*m, colours);
    body += sizeHistograms(*m, colours);
    body += revFigure(*m, colours);
    body += triplePhaseBoundaryTable(*m);
    body += multiPhaseDiffusionTable(*m);
    body += particleTable(*m);
    body += electrodeTortuosityTable(*m);
    body += pybammTable(folder);
    section.body = body;
  } catch (const std::exception& e) {
    section.notes.push_back("metrics.json could not be shown (" + std::string(e.what()) + ").");
    section.body = "<p class=\"note\">" + escapeHtml(section.notes.back()) + "</p>";
  }
  return section;
}

}  // namespace fibseg::report
