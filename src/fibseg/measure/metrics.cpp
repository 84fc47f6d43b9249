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
#include "fibseg/measure/metrics_table.hpp"
#include "fibseg/measure/modeller_metrics.hpp"
#include "fibseg/measure/sizes.hpp"
#include "fibseg/measure/surface_area.hpp"
#include "fibseg/measure/tortuosity.hpp"

namespace fibseg::measure {

namespace {
using json = nlohmann::ordered_json;
using detail::csvCell;
using detail::phaseIndex;

json orNull(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

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

std::string unitOf(const std::string& metric) {
  if (metric.ends_with("_per_um")) return "1/um";
  if (metric.ends_with("_per_um2")) return "1/um^2";
  if (metric.ends_with("_um")) return "um";
  return "";
}

/// The tortuosity keys of one phase: the planned solves, null with the plan's reason elsewhere.
void addTortuosity(json& ph, int phase, const std::array<PlannedSolve, 3>& plan,
                   const std::function<TortuosityResult(int, int)>& solve) {
  for (int a = 0; a < 3; ++a) {
    TortuosityResult t;
    if (plan[a].solve) t = solve(phase, a);
    else t.reason = plan[a].reason;
    ph["tortuosity_factor"][axisName(a)] = orNull(t.tau);
    ph["tortuosity_factor_percolating"][axisName(a)] = orNull(t.tauPercolating);
    ph["effective_diffusivity"][axisName(a)] = orNull(t.relativeDiffusivity);
    ph["macmullin_number"][axisName(a)] = orNull(t.macmullin);
    if (!t.tau) ph["tortuosity_null_reason"][axisName(a)] = t.reason;
  }
}

/// Mean chords always; local thickness when asked (null for an absent phase).
void addSizes(json& ph, const SizeDistribution& s, bool present, bool localThickness, const std::string& nullReason) {
  auto& sd = ph["size_distribution"];
  for (int a = 0; a < 3; ++a) sd["mean_chord_um"][axisName(a)] = present ? json(s.meanChordUm[a]) : json(nullptr);
  if (!localThickness) return;
  present = present && nullReason.empty();
  if (!nullReason.empty()) sd["local_thickness_null_reason"] = nullReason;
  sd["local_thickness_d10_um"] = present ? json(s.d10) : json(nullptr);
  sd["local_thickness_d50_um"] = present ? json(s.d50) : json(nullptr);
  sd["local_thickness_d90_um"] = present ? json(s.d90) : json(nullptr);
  sd["local_thickness_histogram"] = {{"diameter_um", s.diameterUm}, {"voxels", s.voxels}};
}

}  // namespace

std::size_t metricsMemoryBytes(const LabelVolume& v, const MetricsOptions& o) {
  // The area estimate, the solver and the distance transforms run one after the other: the
  // largest of them, plus connectivity's cluster labels (4 bytes per voxel), is the peak.
  std::size_t peak = surfaceAreaMemoryBytes(v);
  if (o.tortuosity && !o.tortuositySolver) peak = std::max(peak, tortuosityMemoryBytes(v));
  if (o.sizes) peak = std::max(peak, v.voxels() * (2 * sizeof(float) + 1));
  peak = std::max(peak, modellerMetricsMemoryBytes(v, o));
  return peak + v.voxels() * sizeof(std::uint32_t);
}

namespace {
void checkOptions(const MetricsOptions& o) {
  if (o.electrode != "positive" && o.electrode != "negative")
    throw Error("measure.electrode = '" + o.electrode + "': expected positive or negative");
  if (o.slabAxis < 0 || o.slabAxis > 2) throw Error("measure.slab_axis: expected x, y or z");
}
}  // namespace

double areaSmoothingUm(const LabelVolume& v, const MetricsOptions& o) {
  return o.areaSmoothingUm > 0 ? o.areaSmoothingUm : *std::min_element(v.voxelUm.begin(), v.voxelUm.end());
}

json measureMetrics(const LabelVolume& v, const MetricsOptions& o) {
  checkOptions(o);
  MeasuredParts parts;
  parts.counts = countPhases(v, o.slabAxis, o.slabs);  // throws naming measure.slabs
  parts.areas = surfaceAreas(v, areaSmoothingUm(v, o), o.slabAxis, o.slabs);
  parts.connectivity = connectivity(v);
  for (int p = 0; p < v.phases(); ++p) {
    auto s = sizeDistribution(v, p, false);  // the chords first: they say whether the thickness means something
    std::array<double, 3> chord{};
    for (int a = 0; a < 3; ++a) chord[a] = s.meanChordUm[a] / v.voxelUm[a];
    const bool present = parts.counts.total[p] > 0;
    parts.sizesNullReason.push_back(o.sizes && present ? sizesNotRepresentative(v, chord, o.sizesMinChords) : "");
    if (o.sizes && present && parts.sizesNullReason.back().empty()) s = sizeDistribution(v, p, true);
    parts.sizes.push_back(s);
  }
  return metricsFromParts(v, parts, o, [&](int p, int a) {
    return o.tortuositySolver ? o.tortuositySolver(p, a) : tortuosity(v, p, a, {});
  });
}

json metricsFromParts(const LabelVolume& v, const MeasuredParts& parts, const MetricsOptions& o,
                      const std::function<TortuosityResult(int phase, int axis)>& solve) {
  checkOptions(o);
  const auto& counts = parts.counts;
  const auto& areas = parts.areas;
  const auto& conn = parts.connectivity;
  const auto& sizes = parts.sizes;
  const auto fractions = volumeFractions(counts, v.voxels());
  const double volumeUm3 = double(v.voxels()) * v.voxelVolumeUm3();
  const int activeMaterial = phaseIndex(v, o.activeMaterialPhase);

  json j;
  j["voxel_size_um"] = v.voxelUm;
  j["size_voxels"] = {v.nx, v.ny, v.nz};
  json asked = json::array();
  for (const auto& [name, axes] : o.tortuositySelection.entries) {
    std::string text = name == "*" ? "all" : name;
    text += ":";
    for (int a = 0; a < 3; ++a)
      if (axes[a]) text += axisName(a);
    asked.push_back(text);
  }
  j["options"] = {{"tortuosity", o.tortuosity},
                  {"tortuosity_selection", asked},
                  {"tortuosity_selection_from", o.tortuositySelection.origin},
                  {"tortuosity_min_chords", o.tortuosityMinChords},
                  {"sizes", o.sizes},
                  {"triple_phase_boundaries", o.triplePhaseBoundaries},
                  {"electrode_tortuosity", o.tortuosity && o.electrodeTortuosity},
                  {"particles", o.particles},
                  {"particles_remove_boundary", o.particlesRemoveBoundary},
                  {"slabs", o.slabs},
                  {"slab_axis", axisName(o.slabAxis)},
                  {"electrolyte_phase", o.electrolytePhase},
                  {"active_material_phase", o.activeMaterialPhase},
                  {"electrode", o.electrode}};
  // The tortuosity plan needs each phase's feature size (mean chord) along each axis.
  std::vector<std::array<double, 3>> chordVoxels;
  for (int p = 0; p < v.phases(); ++p) {
    chordVoxels.push_back({});
    for (int a = 0; a < 3; ++a) chordVoxels.back()[a] = sizes[p].meanChordUm[a] / v.voxelUm[a];
  }
  TortuosityPlan plan;
  if (o.tortuosity) {
    plan = planTortuosity(v, o.tortuositySelection, o.tortuosityMinChords, chordVoxels, counts.total, o.tortuosityCost);
    if (o.log) o.log(plan.summary);
  }
  const bool whole = v.phase.size() == v.voxels();
  const std::string notStreamed =
      "not computed for a volume measured in blocks (larger than measure.memory_limit_gb): it needs the whole volume";
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
    if (o.tortuosity) addTortuosity(ph, p, plan.phases[p], solve);
    addSizes(ph, sizes[p], present, o.sizes,
             p < int(parts.sizesNullReason.size()) ? parts.sizesNullReason[p] : std::string());
    // The modellers' metrics need the whole volume in memory; a streamed volume has none.
    if (o.particles && p == activeMaterial) {
      // The size rule of local thickness holds for particles too: in a volume a couple of
      // particles deep nearly all of them touch a face and are removed, after a watershed that is
      // the dearest metric of all (80 of 99 CPU s on 60 x 2048 x 1536).
      std::array<double, 3> chord{};
      for (int a = 0; a < 3; ++a) chord[a] = sizes[p].meanChordUm[a] / v.voxelUm[a];
      const std::string tooThin = sizesNotRepresentative(v, chord, o.sizesMinChords);
      if (!whole) ph["particles_null_reason"] = notStreamed;
      else if (!tooThin.empty()) ph["particles_null_reason"] = tooThin;
      else ph["particles"] = particleMetrics(v, p, o);
    }
    if (o.tortuosity && o.electrodeTortuosity && p == phaseIndex(v, o.electrolytePhase) && activeMaterial >= 0) {
      // Along the axes the electrolyte's tortuosity is solved (the same selection and size rule).
      std::array<std::string, 3> skip;
      for (int a = 0; a < 3; ++a) skip[a] = !whole ? notStreamed : plan.phases[p][a].solve ? "" : plan.phases[p][a].reason;
      addElectrodeTortuosity(ph, v, p, activeMaterial, skip);
    }
    j["phases"][v.phaseNames[p]] = ph;
  }
  j["interfaces"] = json::object();
  for (std::size_t k = 0; k < areas.pairs.size(); ++k) {
    const auto [a, b] = areas.pairs[k];
    j["interfaces"][v.phaseNames[a] + "|" + v.phaseNames[b]]["area_per_volume_per_um"] =
        volumeUm3 > 0 ? areas.interfaceTotalUm2[k] / volumeUm3 : 0.0;
  }
  if (o.triplePhaseBoundaries && whole) j["triple_phase_boundaries"] = triplePhaseBoundaryMetrics(v, o);
  else if (o.triplePhaseBoundaries && parts.triplePhaseBoundaries)  // streamed: the edges are a local count
    j["triple_phase_boundaries"] = triplePhaseBoundaryJson(
        v, *parts.triplePhaseBoundaries,
        "not computed for a volume measured in blocks: it needs each voxel's cluster to percolate, which the "
        "blocks know only once all are joined");
  else if (o.triplePhaseBoundaries && !whole) j["not_computed"]["triple_phase_boundaries"] = notStreamed;
  if (o.tortuosity && !o.diffusivities.empty() && whole) j["multiphase_diffusion"] = multiPhaseDiffusionMetrics(v, o);
  if (!whole && o.tortuosity && !o.diffusivities.empty()) j["not_computed"]["multiphase_diffusion"] = notStreamed;
  j["slabs"] = slabProfiles(v, counts, areas, o, activeMaterial);
  j["method"] = {
      {"areas", o.areasMethod},
      {"volume_fraction", "voxels of the phase / voxels of the region (whole volume, slice, or slab and slice)"},
      {"connectivity", "6-connected clusters; percolating = touching both faces normal to the direction"},
      {"tortuosity", o.tortuosity ? "steady-state diffusion through the phase, fixed concentrations half a voxel "
                                    "outside the two faces normal to the direction, no flux elsewhere; tau = "
                                    "eps D / D_eff with eps the phase's whole volume fraction (TauFactor's); solved "
                                    "for the phases and axes asked for (--tortuosity, measure.tortuosity_phases/_axes) "
                                    "and, unless asked for by name, only where the volume spans at least "
                                    "measure.tortuosity_min_chords of the phase's mean chord lengths along every axis "
                                    "(else null, with the reason in tortuosity_null_reason)"
                                  : "not computed (measure.tortuosity = false)"},
      {"sizes", o.sizes ? "local thickness (largest inscribed sphere covering the voxel, Hildebrand & "
                          "Rueegsegger), d10/d50/d90 by volume; mean chord length of runs along each axis"
                        : "local thickness not computed (measure.sizes = false); mean chord length of runs along "
                          "each axis"}};
  if (o.triplePhaseBoundaries) j["method"]["triple_phase_boundaries"] = triplePhaseBoundaryMethod(o);
  if (j.contains("multiphase_diffusion")) j["method"]["multiphase_diffusion"] = multiPhaseDiffusionMethod();
  if (o.particles) j["method"]["particles"] = particleMethod(o);
  if (o.tortuosity && o.electrodeTortuosity) j["method"]["electrode_tortuosity"] = electrodeTortuosityMethod(o);
  return j;
}

std::string metricsCsv(const json& m) {
  std::string csv = "subject,metric,direction,value,unit\n";
  auto row = [&](const std::string& subject, const std::string& metric, const std::string& direction, const json& v) {
    csv += csvField(subject) + "," + metric + "," + direction + "," + csvCell(v) + "," + unitOf(metric) + "\n";
  };
  // Scalars and {x, y, z} objects of one phase or interface; lists, texts and histograms are
  // left to metrics.json.
  std::function<void(const std::string&, const json&)> walk = [&](const std::string& subject, const json& object) {
    for (const auto& [key, v] : object.items()) {
      if (v.is_number() || v.is_null()) row(subject, key, "", v);
      else if (v.is_object() && v.contains("x") && (v["x"].is_number() || v["x"].is_null()))
        for (const char* a : {"x", "y", "z"}) row(subject, key, a, v.value(a, json(nullptr)));
      else if (v.is_object() && (key == "size_distribution" || key == "particles")) walk(subject, v);
    }
  };
  for (const auto& [name, ph] : m.at("phases").items()) walk(name, ph);
  for (const auto& [name, in] : m.at("interfaces").items()) walk(name, in);
  if (m.contains("triple_phase_boundaries"))
    for (const auto& [name, tpb] : m.at("triple_phase_boundaries").items()) walk(name, tpb);
  if (m.contains("multiphase_diffusion")) walk("multiphase", m.at("multiphase_diffusion"));
  return csv;
}

std::string particlesCsv(const json& m, const std::string& phase) { return particleTableCsv(m, phase); }

std::string slabFractionsCsv(const json& m) {
  const auto& rows = m.at("slabs").at("rows");
  std::string csv = "slab,from_um,to_um";
  for (const auto& [name, ph] : m.at("phases").items()) csv += "," + csvField(name + "_mean") + "," + csvField(name + "_std");
  csv += "\n";
  for (const auto& r : rows) {
    csv += std::to_string(r.at("slab").get<int>()) + "," + csvCell(r.at("from_um")) + "," + csvCell(r.at("to_um"));
    for (const auto& [name, ph] : m.at("phases").items()) {
      const auto& f = r.at("volume_fraction").at(name);
      csv += "," + csvCell(f.at("mean")) + "," + csvCell(f.at("std"));
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
    csv += std::to_string(r.at("slab").get<int>()) + "," + csvCell(r.at("from_um")) + "," + csvCell(r.at("to_um"));
    for (const auto& i : interfaces) {
      const auto& a = r.at("interface_area_per_volume_per_um").at(i);
      csv += "," + csvCell(a.at("mean")) + "," + csvCell(a.at("std"));
    }
    for (const auto& s : shares) {
      const auto& a = r.at("active_material_surface_share").at(s);
      csv += "," + csvCell(a.at("mean")) + "," + csvCell(a.at("std"));
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
  // Why a tortuosity factor is missing (not asked for, not representative, not percolating), so
  // the file says which values the choice of solves left out.
  auto whyNoTau = [&](const json* ph) -> std::string {
    if (!ph) return "";
    if (!ph->contains("tortuosity_factor")) return " [not computed: measure.tortuosity = false or --tortuosity none]";
    if (ph->contains("tortuosity_null_reason") && (*ph)["tortuosity_null_reason"].contains(axis))
      return " [not available: " + (*ph)["tortuosity_null_reason"][axis].get<std::string>() + "]";
    return "";
  };
  const std::string eWhere = "phase '" + electrolyte + "' (measure.electrolyte_phase)";
  const std::string sWhere = "phase '" + am + "' (measure.active_material_phase)";
  const std::string along = " along " + axis + " (measure.slab_axis, the thickness)";
  put(prefix + " electrode porosity", epsE,
      "volume fraction of " + eWhere + ": PyBaMM's porosity is the electrolyte's volume fraction");
  put(prefix + " electrode active material volume fraction", epsS, "volume fraction of " + sWhere);
  std::optional<double> radius;
  std::string whyNoRadius;
  std::string radiusSource =
      "half the volume-weighted median local thickness (d50) of " + sWhere + " (needs measure.sizes)";
  if (s && s->contains("size_distribution")) {
    const json& sd = (*s)["size_distribution"];
    if (sd.contains("local_thickness_d50_um") && sd["local_thickness_d50_um"].is_number())
      radius = sd["local_thickness_d50_um"].get<double>() / 2 * 1e-6;
    if (sd.contains("local_thickness_null_reason"))
      whyNoRadius = " [not available: " + sd["local_thickness_null_reason"].get<std::string>() + "]";
  }
  // The particles split by the watershed give the radius where there are any (modeller_metrics.hpp).
  if (const auto r = particleRadiusForPybamm(s ? *s : json(nullptr), sWhere))
    radius = r->first * 1e-6, radiusSource = r->second, whyNoRadius.clear();
  put(prefix + " particle radius [m]", radius, radiusSource + whyNoRadius);
  const std::string whyE = tauE ? "" : whyNoTau(e), whyS = tauS ? "" : whyNoTau(s);
  put(prefix + " electrode tortuosity factor (electrolyte)", tauE, "tortuosity factor of " + eWhere + along + whyE);
  put(prefix + " electrode Bruggeman coefficient (electrolyte)", bruggeman(epsE, tauE),
      "b from tau = eps^(1 - b), eps and tau of " + eWhere + along + whyE);
  put(prefix + " electrode tortuosity factor (electrode)", tauS, "tortuosity factor of " + sWhere + along + whyS);
  put(prefix + " electrode Bruggeman coefficient (electrode)", bruggeman(epsS, tauS),
      "b from tau = eps^(1 - b), eps and tau of " + sWhere + along + whyS);
  json derived;
  // The electrode tortuosity factor has no PyBaMM parameter: it goes to the fibseg block.
  const auto tauElectrode = number(e, "electrode_tortuosity_factor", axis);
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
                   {"electrode_tortuosity_factor", tauElectrode ? json(*tauElectrode) : json(nullptr)},
                   {"electrode_macmullin_number", tauElectrode && epsE && *epsE > 0 ? json(*tauElectrode / *epsE) : json(nullptr)},
                   {"electrode_tortuosity_source",
                    "electrode tortuosity factor tau_e (Nguyen et al. 2020, TauFactor's ImpedanceSolver) of " + eWhere +
                        " with " + sWhere + " reacting, along " + axis + "; MacMullin number tau_e / eps"},
                   {"derived", derived}};
  return out;
}

}  // namespace fibseg::measure
