#include "fibseg/measure/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <optional>

#include "fibseg/core/error.hpp"
#include "fibseg/core/text.hpp"
#include "fibseg/measure/connectivity.hpp"
#include "fibseg/measure/fractions.hpp"
#include "fibseg/measure/sizes.hpp"
#include "fibseg/measure/surface_area.hpp"
#include "fibseg/measure/tortuosity.hpp"

namespace fibseg::measure {

namespace {
using json = nlohmann::ordered_json;

json orNull(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

int phaseIndex(const LabelVolume& v, const std::string& name) {
  for (int p = 0; p < v.phases(); ++p)
    if (toLower(v.phaseNames[p]) == toLower(name)) return p;
  return -1;
}

struct MeanStd {
  double sum = 0, sumSquares = 0;
  int n = 0;
  void add(double x) { sum += x, sumSquares += x * x, ++n; }
  // Population standard deviation (numpy's default, as the notebook's users compute it).
  json value() const {
    if (n == 0) return {{"mean", nullptr}, {"std", nullptr}};
    const double mean = sum / n;
    return {{"mean", mean}, {"std", std::sqrt(std::max(0.0, sumSquares / n - mean * mean))}};
  }
};

/// The slab profiles: per (slab, slice) cell fractions, interface areas per volume and the active
/// material's surface shares, then mean and std over the slices of each slab. Cells are disjoint
/// bands (slabOf), never the notebook's cumulative "everything up to this row".
json slabProfiles(const LabelVolume& v, const PhaseCounts& counts, const AreaSums& areas, const MetricsOptions& o,
                  int activeMaterial) {
  const int phases = v.phases(), pairs = int(areas.pairs.size());
  const int n = v.size(o.slabAxis);
  const double dV = v.voxelVolumeUm3(), step = v.voxelUm[o.slabAxis];
  json rows = json::array();
  for (int s = 0; s < o.slabs; ++s) {
    int from = n, to = 0;
    for (int c = 0; c < n; ++c)
      if (slabOf(c, n, o.slabs) == s) from = std::min(from, c), to = std::max(to, c + 1);
    std::vector<MeanStd> fraction(phases), area(pairs), share(phases);
    for (int z = 0; z < v.nz; ++z) {
      const auto& cell = counts.perSlabSlice[s][z];
      long long voxels = 0;
      for (long long c : cell) voxels += c;
      if (voxels == 0) continue;  // a slab along z holds only its own slices
      for (int p = 0; p < phases; ++p) fraction[p].add(double(cell[p]) / voxels);
      for (int k = 0; k < pairs; ++k) area[k].add(areas.interfacePerSlabSlice[s][z][k] / (voxels * dV));
      if (activeMaterial >= 0) {
        double total = 0;
        std::vector<double> touching(phases, 0);
        for (int k = 0; k < pairs; ++k) {
          const auto [a, b] = areas.pairs[k];
          if (a != activeMaterial && b != activeMaterial) continue;
          const double x = std::max(0.0, areas.interfacePerSlabSlice[s][z][k]);
          touching[a == activeMaterial ? b : a] += x;
          total += x;
        }
        if (total > 0)
          for (int p = 0; p < phases; ++p)
            if (p != activeMaterial) share[p].add(touching[p] / total);
      }
    }
    json row = {{"slab", s}, {"from_voxel", from}, {"to_voxel", to}, {"from_um", from * step}, {"to_um", to * step}};
    for (int p = 0; p < phases; ++p) row["volume_fraction"][v.phaseNames[p]] = fraction[p].value();
    for (int k = 0; k < pairs; ++k) {
      const auto [a, b] = areas.pairs[k];
      row["interface_area_per_volume_per_um"][v.phaseNames[a] + "|" + v.phaseNames[b]] = area[k].value();
    }
    if (activeMaterial >= 0)
      for (int p = 0; p < phases; ++p)
        if (p != activeMaterial) row["active_material_surface_share"][v.phaseNames[p]] = share[p].value();
    rows.push_back(row);
  }
  return {{"axis", axisName(o.slabAxis)},
          {"count", o.slabs},
          {"statistics", "each slab is a disjoint band along the thickness axis; mean and population standard "
                         "deviation over the slices (z) of the values of each (slab, slice) cell"},
          {"active_material_surface_share",
           "share of the active material's surface touching each other phase: area(AM|phase) / sum of "
           "area(AM|every other phase); with pore, SE, CAM the SE share is CAM-SE / (CAM-SE + CAM-pore)"},
          {"rows", rows}};
}

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", v);
  return text;
}
std::string cell(const json& v) { return v.is_number() ? number(v.get<double>()) : ""; }

std::string unitOf(const std::string& metric) {
  if (metric.ends_with("_per_um")) return "1/um";
  if (metric.ends_with("_um")) return "um";
  return "";
}

}  // namespace

std::size_t metricsMemoryBytes(const LabelVolume& v, const MetricsOptions& o) {
  // The area estimate, the solver and the distance transforms run one after the other: the
  // largest of them, plus connectivity's cluster labels (4 bytes per voxel), is the peak.
  std::size_t peak = surfaceAreaMemoryBytes(v);
  if (o.tortuosity && !o.tortuositySolver) peak = std::max(peak, tortuosityMemoryBytes(v));
  if (o.sizes) peak = std::max(peak, v.voxels() * (2 * sizeof(float) + 1));
  return peak + v.voxels() * sizeof(std::uint32_t);
}

json measureMetrics(const LabelVolume& v, const MetricsOptions& o) {
  if (o.electrode != "positive" && o.electrode != "negative")
    throw Error("measure.electrode = '" + o.electrode + "': expected positive or negative");
  if (o.slabAxis < 0 || o.slabAxis > 2) throw Error("measure.slab_axis: expected x, y or z");
  const auto counts = countPhases(v, o.slabAxis, o.slabs);  // throws naming measure.slabs
  const auto fractions = volumeFractions(counts, v.voxels());
  const double smoothing = o.areaSmoothingUm > 0 ? o.areaSmoothingUm : *std::min_element(v.voxelUm.begin(), v.voxelUm.end());
  const auto areas = surfaceAreas(v, smoothing, o.slabAxis, o.slabs);
  const auto conn = connectivity(v);
  const double volumeUm3 = double(v.voxels()) * v.voxelVolumeUm3();
  const int activeMaterial = phaseIndex(v, o.activeMaterialPhase);

  json j;
  j["voxel_size_um"] = v.voxelUm;
  j["size_voxels"] = {v.nx, v.ny, v.nz};
  j["options"] = {{"tortuosity", o.tortuosity},
                  {"sizes", o.sizes},
                  {"slabs", o.slabs},
                  {"slab_axis", axisName(o.slabAxis)},
                  {"electrolyte_phase", o.electrolytePhase},
                  {"active_material_phase", o.activeMaterialPhase},
                  {"electrode", o.electrode}};
  j["phases"] = json::object();
  for (int p = 0; p < v.phases(); ++p) {
    json ph;
    const bool present = counts.total[p] > 0;
    ph["volume_fraction"] = fractions[p];
    json perSlice = json::array();
    for (int z = 0; z < v.nz; ++z)
      perSlice.push_back(double(counts.perSlice[z][p]) / (double(v.nx) * v.ny));
    ph["volume_fraction_per_slice"] = perSlice;
    ph["specific_surface_area_per_um"] = volumeUm3 > 0 ? areas.phaseTotalUm2[p] / volumeUm3 : 0.0;
    for (int a = 0; a < 3; ++a) {
      ph["percolating_fraction"][axisName(a)] = conn[p].percolating[a];
      ph["dead_end_fraction"][axisName(a)] = conn[p].deadEnd[a];
      ph["isolated_fraction"][axisName(a)] = conn[p].isolated[a];
    }
    ph["connected_to_all_faces_fraction"] = conn[p].connectedToAllFaces;
    if (o.tortuosity) {
      for (int a = 0; a < 3; ++a) {
        const auto t = o.tortuositySolver ? o.tortuositySolver(p, a) : tortuosity(v, p, a, {});
        ph["tortuosity_factor"][axisName(a)] = orNull(t.tau);
        ph["tortuosity_factor_percolating"][axisName(a)] = orNull(t.tauPercolating);
        ph["effective_diffusivity"][axisName(a)] = orNull(t.relativeDiffusivity);
        ph["macmullin_number"][axisName(a)] = orNull(t.macmullin);
        if (!t.tau) ph["tortuosity_null_reason"][axisName(a)] = present ? t.reason : "the phase is absent";
      }
    }
    auto& sd = ph["size_distribution"];
    const auto s = sizeDistribution(v, p, o.sizes && present);
    for (int a = 0; a < 3; ++a) sd["mean_chord_um"][axisName(a)] = present ? json(s.meanChordUm[a]) : json(nullptr);
    if (o.sizes) {
      sd["local_thickness_d10_um"] = present ? json(s.d10) : json(nullptr);
      sd["local_thickness_d50_um"] = present ? json(s.d50) : json(nullptr);
      sd["local_thickness_d90_um"] = present ? json(s.d90) : json(nullptr);
      sd["local_thickness_histogram"] = {{"diameter_um", s.diameterUm}, {"voxels", s.voxels}};
    }
    j["phases"][v.phaseNames[p]] = ph;
  }
  j["interfaces"] = json::object();
  for (std::size_t k = 0; k < areas.pairs.size(); ++k) {
    const auto [a, b] = areas.pairs[k];
    j["interfaces"][v.phaseNames[a] + "|" + v.phaseNames[b]]["area_per_volume_per_um"] =
        volumeUm3 > 0 ? areas.interfaceTotalUm2[k] / volumeUm3 : 0.0;
  }
  j["slabs"] = slabProfiles(v, counts, areas, o, activeMaterial);
  j["method"] = {
      {"areas", o.areasMethod},
      {"volume_fraction", "voxels of the phase / voxels of the region (whole volume, slice, or slab and slice)"},
      {"connectivity", "6-connected clusters; percolating = touching both faces normal to the direction"},
      {"tortuosity", o.tortuosity ? "steady-state diffusion through the phase, fixed concentrations half a voxel "
                                    "outside the two faces normal to the direction, no flux elsewhere; tau = "
                                    "eps D / D_eff with eps the phase's whole volume fraction (TauFactor's)"
                                  : "not computed (measure.tortuosity = false)"},
      {"sizes", o.sizes ? "local thickness (largest inscribed sphere covering the voxel, Hildebrand & "
                          "Rueegsegger), d10/d50/d90 by volume; mean chord length of runs along each axis"
                        : "local thickness not computed (measure.sizes = false); mean chord length of runs along "
                          "each axis"}};
  return j;
}

std::string metricsCsv(const json& m) {
  std::string csv = "subject,metric,direction,value,unit\n";
  auto row = [&](const std::string& subject, const std::string& metric, const std::string& direction, const json& v) {
    csv += csvField(subject) + "," + metric + "," + direction + "," + cell(v) + "," + unitOf(metric) + "\n";
  };
  // Scalars and {x, y, z} objects of one phase or interface; lists, texts and histograms are
  // left to metrics.json.
  std::function<void(const std::string&, const json&)> walk = [&](const std::string& subject, const json& object) {
    for (const auto& [key, v] : object.items()) {
      if (v.is_number() || v.is_null()) row(subject, key, "", v);
      else if (v.is_object() && v.contains("x") && (v["x"].is_number() || v["x"].is_null()))
        for (const char* a : {"x", "y", "z"}) row(subject, key, a, v.value(a, json(nullptr)));
      else if (v.is_object() && key == "size_distribution") walk(subject, v);
    }
  };
  for (const auto& [name, ph] : m.at("phases").items()) walk(name, ph);
  for (const auto& [name, in] : m.at("interfaces").items()) walk(name, in);
  return csv;
}

std::string slabFractionsCsv(const json& m) {
  const auto& rows = m.at("slabs").at("rows");
  std::string csv = "slab,from_um,to_um";
  for (const auto& [name, ph] : m.at("phases").items()) csv += "," + csvField(name + "_mean") + "," + csvField(name + "_std");
  csv += "\n";
  for (const auto& r : rows) {
    csv += std::to_string(r.at("slab").get<int>()) + "," + cell(r.at("from_um")) + "," + cell(r.at("to_um"));
    for (const auto& [name, ph] : m.at("phases").items()) {
      const auto& f = r.at("volume_fraction").at(name);
      csv += "," + cell(f.at("mean")) + "," + cell(f.at("std"));
    }
    csv += "\n";
  }
  return csv;
}

std::string slabInterfacesCsv(const json& m) {
  const auto& rows = m.at("slabs").at("rows");
  const std::string am = m.at("options").at("active_material_phase");
  std::string csv = "slab,from_um,to_um";
  std::vector<std::string> interfaces, shares;
  if (!rows.empty()) {
    for (const auto& [name, v] : rows[0].at("interface_area_per_volume_per_um").items()) interfaces.push_back(name);
    if (rows[0].contains("active_material_surface_share"))
      for (const auto& [name, v] : rows[0].at("active_material_surface_share").items()) shares.push_back(name);
  }
  auto dashed = [](std::string name) {
    std::replace(name.begin(), name.end(), '|', '-');
    return name;
  };
  for (const auto& i : interfaces) csv += "," + csvField(dashed(i) + "_per_um_mean") + "," + csvField(dashed(i) + "_per_um_std");
  for (const auto& s : shares)
    csv += "," + csvField(am + "_surface_share_" + s + "_mean") + "," + csvField(am + "_surface_share_" + s + "_std");
  csv += "\n";
  for (const auto& r : rows) {
    csv += std::to_string(r.at("slab").get<int>()) + "," + cell(r.at("from_um")) + "," + cell(r.at("to_um"));
    for (const auto& i : interfaces) {
      const auto& a = r.at("interface_area_per_volume_per_um").at(i);
      csv += "," + cell(a.at("mean")) + "," + cell(a.at("std"));
    }
    for (const auto& s : shares) {
      const auto& a = r.at("active_material_surface_share").at(s);
      csv += "," + cell(a.at("mean")) + "," + cell(a.at("std"));
    }
    csv += "\n";
  }
  return csv;
}

json pybammParameters(const json& m) {
  const auto& o = m.at("options");
  const std::string electrode = o.at("electrode");
  const std::string prefix = electrode == "negative" ? "Negative" : "Positive";
  const std::string axis = o.at("slab_axis");
  const std::string electrolyte = o.at("electrolyte_phase"), am = o.at("active_material_phase");
  auto findPhase = [&](const std::string& name) -> const json* {
    for (const auto& [key, ph] : m.at("phases").items())
      if (toLower(key) == toLower(name)) return &ph;
    return nullptr;
  };
  json out, sources, missing;
  auto put = [&](const std::string& name, std::optional<double> value, const std::string& source) {
    if (value && std::isfinite(*value)) {
      out[name] = *value;
      sources[name] = source;
    } else {
      missing[name] = source;
    }
  };
  auto number = [](const json* ph, const std::string& key, const std::string& sub = "") -> std::optional<double> {
    if (!ph || !ph->contains(key)) return std::nullopt;
    const json& v = sub.empty() ? (*ph)[key] : (*ph)[key].value(sub, json(nullptr));
    return v.is_number() ? std::optional<double>(v.get<double>()) : std::nullopt;
  };
  // Bruggeman's tau = eps^(1-b), so b = 1 - ln(tau) / ln(eps); defined for 0 < eps < 1.
  auto bruggeman = [](std::optional<double> eps, std::optional<double> tau) -> std::optional<double> {
    if (!eps || !tau || *eps <= 0 || *eps >= 1 || *tau <= 0) return std::nullopt;
    return 1.0 - std::log(*tau) / std::log(*eps);
  };
  const json* e = findPhase(electrolyte);
  const json* s = findPhase(am);
  const auto epsE = number(e, "volume_fraction"), epsS = number(s, "volume_fraction");
  const auto tauE = number(e, "tortuosity_factor", axis), tauS = number(s, "tortuosity_factor", axis);
  const std::string eWhere = "phase '" + electrolyte + "' (measure.electrolyte_phase)";
  const std::string sWhere = "phase '" + am + "' (measure.active_material_phase)";
  const std::string along = " along " + axis + " (measure.slab_axis, the thickness)";
  put(prefix + " electrode porosity", epsE,
      "volume fraction of " + eWhere + ": PyBaMM's porosity is the electrolyte's volume fraction");
  put(prefix + " electrode active material volume fraction", epsS, "volume fraction of " + sWhere);
  std::optional<double> radius;
  if (s && s->contains("size_distribution")) {
    const json& sd = (*s)["size_distribution"];
    if (sd.contains("local_thickness_d50_um") && sd["local_thickness_d50_um"].is_number())
      radius = sd["local_thickness_d50_um"].get<double>() / 2 * 1e-6;
  }
  put(prefix + " particle radius [m]", radius,
      "half the volume-weighted median local thickness (d50) of " + sWhere + " (needs measure.sizes)");
  put(prefix + " electrode tortuosity factor (electrolyte)", tauE, "tortuosity factor of " + eWhere + along);
  put(prefix + " electrode Bruggeman coefficient (electrolyte)", bruggeman(epsE, tauE),
      "b from tau = eps^(1 - b), eps and tau of " + eWhere + along);
  put(prefix + " electrode tortuosity factor (electrode)", tauS, "tortuosity factor of " + sWhere + along);
  put(prefix + " electrode Bruggeman coefficient (electrode)", bruggeman(epsS, tauS),
      "b from tau = eps^(1 - b), eps and tau of " + sWhere + along);
  json derived;
  if (epsE && tauE && *tauE > 0) derived["electrolyte transport efficiency (eps/tau)"] = *epsE / *tauE;
  else derived["electrolyte transport efficiency (eps/tau)"] = nullptr;
  if (epsS && tauS && *tauS > 0) derived["electrode transport efficiency (eps/tau)"] = *epsS / *tauS;
  else derived["electrode transport efficiency (eps/tau)"] = nullptr;
  // Every top-level key but "fibseg" is a PyBaMM parameter name: ParameterValues.update() takes
  // them as they are once "fibseg" is removed.
  out["fibseg"] = {{"electrode", electrode},
                   {"thickness_axis", axis},
                   {"electrolyte_phase", electrolyte},
                   {"active_material_phase", am},
                   {"voxel_size_um", m.at("voxel_size_um")},
                   {"sources", sources},
                   {"not_available", missing},
                   {"derived", derived}};
  return out;
}

}  // namespace fibseg::measure
