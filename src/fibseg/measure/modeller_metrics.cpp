#include "fibseg/measure/modeller_metrics.hpp"

#include "fibseg/core/error.hpp"
#include "fibseg/core/text.hpp"
#include "fibseg/measure/electrode_tortuosity.hpp"
#include "fibseg/measure/multiphase_diffusion.hpp"
#include "fibseg/measure/network_solver.hpp"
#include "fibseg/measure/particles.hpp"

#include <algorithm>
#include <cstdio>
#include "fibseg/measure/triple_phase_boundary.hpp"

namespace fibseg::measure {
using json = nlohmann::ordered_json;

json triplePhaseBoundaryMetrics(const LabelVolume& v, const MetricsOptions& o) {
  return triplePhaseBoundaryJson(v, triplePhaseBoundaries(v, o.slabAxis), "");
}

json triplePhaseBoundaryJson(const LabelVolume& v, const TriplePhaseBoundaries& t, const std::string& activeNullReason) {
  json out = json::object();
  for (const auto& triple : t.triples) {
    const auto [a, b, c] = triple.phases;
    const std::string name = v.phaseNames[a] + "|" + v.phaseNames[b] + "|" + v.phaseNames[c];
    const bool any = t.volumeUm3 > 0;
    const json active = t.activeAxis < 0 ? json(nullptr) : json(any ? triple.activeLengthUm / t.volumeUm3 : 0.0);
    out[name] = {{"length_per_volume_per_um2", any ? triple.lengthUm / t.volumeUm3 : 0.0},
                 {"active_length_per_volume_per_um2", active},
                 {"edge_fraction", t.interiorEdges > 0 ? double(triple.edges) / double(t.interiorEdges) : 0.0}};
    if (t.activeAxis < 0) out[name]["active_null_reason"] = activeNullReason;
  }
  return out;
}

std::string triplePhaseBoundaryMethod(const MetricsOptions& o) {
  return std::string("length of the voxel edges whose four voxels hold all three phases, each edge counted with the "
                     "voxel side along it, per unit volume (µm^-2); active: each of the three phases' voxels at the "
                     "edge in a cluster percolating along ") +
         axisName(o.slabAxis) +
         " (the thickness axis); edge_fraction: those edges / all interior voxel edges (TauFactor's "
         "triple_phase_boundary figure)";
}

json multiPhaseDiffusionMetrics(const LabelVolume& v, const MetricsOptions& o) {
  std::vector<double> D(v.phases(), 0.0);
  json given = json::object();
  for (const auto& [name, value] : o.diffusivities) {
    int phase = -1;
    for (int p = 0; p < v.phases(); ++p)
      if (toLower(v.phaseNames[p]) == toLower(name)) phase = p;
    if (phase < 0) {
      std::string names;
      for (const auto& n : v.phaseNames) names += (names.empty() ? "" : ", ") + n;
      throw Error("measure.diffusivities: phase '" + name + "' is not in the volume (phases: " + names + ")");
    }
    D[phase] = value;
  }
  for (int p = 0; p < v.phases(); ++p) given[v.phaseNames[p]] = D[p];
  json out = {{"diffusivities", given}};
  for (int a = 0; a < 3; ++a) {
    const auto r = multiPhaseDiffusion(v, D, a);
    out["mean_diffusivity"] = r.meanDiffusivity;
    out["effective_diffusivity"][axisName(a)] = r.relativeDiffusivity ? json(*r.relativeDiffusivity) : json(nullptr);
    out["tortuosity_factor"][axisName(a)] = r.tau ? json(*r.tau) : json(nullptr);
    out["solver_iterations"][axisName(a)] = r.iterations;
    if (!r.tau) out["null_reason"][axisName(a)] = r.reason;
  }
  return out;
}

std::string multiPhaseDiffusionMethod() {
  return "steady-state diffusion through every phase with its relative diffusivity D_p (measure.diffusivities; "
         "phases not named do not conduct): face conductance the harmonic mean of the two voxels' D, "
         "concentrations fixed half a voxel outside the faces normal to the direction; effective_diffusivity = "
         "D_eff relative to D = 1, tortuosity_factor = D_mean / D_eff with D_mean = sum of eps_p D_p "
         "(TauFactor's MultiPhaseSolver)";
}

namespace {
// Value below which a share `q` of the sorted values lies (linear interpolation, numpy's default).
double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double at = q * double(sorted.size() - 1);
  const std::size_t i = std::size_t(at);
  if (i + 1 >= sorted.size()) return sorted.back();
  return sorted[i] + (at - double(i)) * (sorted[i + 1] - sorted[i]);
}
json numberOrNull(double v, bool any) { return any ? json(v) : json(nullptr); }
}  // namespace

json particleMetrics(const LabelVolume& v, int phase, const MetricsOptions& o) {
  const auto s = particleSizes(v, phase, o.particlesRemoveBoundary);
  std::vector<double> d;
  double sum = 0, d2 = 0, d3 = 0, sphericity = 0;
  json table = {{"label", json::array()},          {"volume_um3", json::array()},
                {"equivalent_diameter_um", json::array()}, {"surface_area_um2", json::array()},
                {"sphericity", json::array()},     {"centroid_x_um", json::array()},
                {"centroid_y_um", json::array()},  {"centroid_z_um", json::array()}};
  for (const auto& p : s.particles) {
    const double e = p.equivalentDiameterUm;
    d.push_back(e), sum += e, d2 += e * e, d3 += e * e * e, sphericity += p.sphericity;
    table["label"].push_back(p.label);
    table["volume_um3"].push_back(p.volumeUm3);
    table["equivalent_diameter_um"].push_back(e);
    table["surface_area_um2"].push_back(p.surfaceAreaUm2);
    table["sphericity"].push_back(p.sphericity);
    table["centroid_x_um"].push_back(p.centroidUm[0]);
    table["centroid_y_um"].push_back(p.centroidUm[1]);
    table["centroid_z_um"].push_back(p.centroidUm[2]);
  }
  std::sort(d.begin(), d.end());
  const bool any = !d.empty();
  const double n = double(std::max<std::size_t>(d.size(), 1));
  return {{"count_initial", s.initialCount},
          {"count_kept", s.keptCount},
          {"removed_count_fraction", s.removedCountFraction},
          {"removed_volume_fraction", s.removedVolumeFraction},
          {"equivalent_diameter_mean_um", numberOrNull(sum / n, any)},
          {"equivalent_diameter_d10_um", numberOrNull(quantile(d, 0.1), any)},
          {"equivalent_diameter_d50_um", numberOrNull(quantile(d, 0.5), any)},
          {"equivalent_diameter_d90_um", numberOrNull(quantile(d, 0.9), any)},
          {"sauter_diameter_um", numberOrNull(d2 > 0 ? d3 / d2 : 0, any)},
          {"sphericity_mean", numberOrNull(sphericity / n, any)},
          {"warning", s.removedCountFraction > 0.5 || s.removedVolumeFraction > 0.5
                          ? json("more than half of the particles (by count or volume) touch the volume's faces and "
                                 "were removed: the distribution is of the few whole ones; measure a larger volume")
                          : json(nullptr)},
          {"table", table}};
}

std::string particleMethod(const MetricsOptions& o) {
  return std::string("the active material split into particles by a distance-transform watershed (PoreSpy's SNOW: "
                     "distance transform smoothed with sigma 0.4 voxel, peaks = maxima within +-4 voxels, plateaus "
                     "joined, a peak inside a higher peak's inscribed sphere dropped, flooded from the peaks); per "
                     "particle the equivalent-sphere diameter (6 V / pi)^(1/3), area = voxel faces x 2/3 (unbiased "
                     "for isotropic surfaces), sphericity = pi^(1/3) (6 V)^(2/3) / area; d10/d50/d90 by number; ") +
         (o.particlesRemoveBoundary ? "particles touching the volume's faces removed (measure.particles_remove_boundary)"
                                    : "particles touching the volume's faces kept (measure.particles_remove_boundary = false)");
}

std::string particleTableCsv(const json& m, const std::string& phase) {
  const json* ph = nullptr;
  for (const auto& [name, p] : m.at("phases").items())
    if (toLower(name) == toLower(phase)) ph = &p;
  if (!ph || !ph->contains("particles") || !(*ph)["particles"].contains("table")) return "";
  const json& t = (*ph)["particles"]["table"];
  std::string csv = "label,volume_um3,equivalent_diameter_um,surface_area_um2,sphericity,centroid_x_um,centroid_y_um,centroid_z_um\n";
  char text[32];
  for (std::size_t r = 0; r < t["label"].size(); ++r) {
    csv += std::to_string(t["label"][r].get<long long>());
    for (const char* key : {"volume_um3", "equivalent_diameter_um", "surface_area_um2", "sphericity", "centroid_x_um",
                            "centroid_y_um", "centroid_z_um"}) {
      std::snprintf(text, sizeof text, ",%.6g", t[key][r].get<double>());
      csv += text;
    }
    csv += "\n";
  }
  return csv;
}

std::optional<std::pair<double, std::string>> particleRadiusForPybamm(const json& phase, const std::string& where) {
  if (!phase.is_object() || !phase.contains("particles")) return std::nullopt;
  const json& p = phase["particles"];
  // Fewer whole particles than this (a small crop, where the faces cut most) do not make a
  // distribution: the local thickness gives the radius instead.
  constexpr int kFewestParticles = 10;
  if (!p.value("sauter_diameter_um", json(nullptr)).is_number() || p.value("count_kept", 0) < kFewestParticles)
    return std::nullopt;
  return std::pair{p["sauter_diameter_um"].get<double>() / 2,
                   "half the Sauter mean diameter d32 = sum d^3 / sum d^2 of the equivalent-sphere diameters of the " +
                       std::to_string(p["count_kept"].get<int>()) + " particles of " + where +
                       " split by watershed (measure.particles; it keeps the particles' surface per volume, which "
                       "sets the reaction area)"};
}

void addElectrodeTortuosity(json& ph, const LabelVolume& v, int electrolyte, int activeMaterial,
                            const std::array<std::string, 3>& skip) {
  for (int a = 0; a < 3; ++a) {
    if (!skip[a].empty()) {
      ph["electrode_tortuosity_factor"][axisName(a)] = nullptr;
      ph["electrode_macmullin_number"][axisName(a)] = nullptr;
      ph["electrode_tortuosity_null_reason"][axisName(a)] = skip[a];
      continue;
    }
    const auto r = electrodeTortuosity(v, electrolyte, activeMaterial, a);
    const bool ok = r.tauE && r.volumeFraction > 0;
    ph["electrode_tortuosity_factor"][axisName(a)] = ok ? json(*r.tauE) : json(nullptr);
    ph["electrode_macmullin_number"][axisName(a)] = ok ? json(*r.tauE / r.volumeFraction) : json(nullptr);
    ph["electrode_tortuosity_iterations"][axisName(a)] = r.iterations;
    ph["electrode_tortuosity_residual"][axisName(a)] = r.relativeResidual;
    if (!ok) ph["electrode_tortuosity_null_reason"][axisName(a)] = r.reason.empty() ? "the phase is absent" : r.reason;
  }
}

std::string electrodeTortuosityMethod(const MetricsOptions& o) {
  return "electrode tortuosity factor tau_e (Nguyen et al., npj Comput. Mater. 6, 123 (2020); TauFactor's "
         "ImpedanceSolver): the " + o.electrolytePhase + " connected to the face at coordinate 0 (the separator) "
         "conducts, each face it shares with " + o.activeMaterialPhase + " is a capacitance to the solid, the far "
         "face is closed; the input impedance at omega = eps / (4 a L^2) against the homogeneous transmission line "
         "of the same mean eps and reacting area a: tau_e = Re Z / Re Z_line; solved by COCG + multigrid to a "
         "relative residual of 1e-6; MacMullin number tau_e / eps";
}

std::size_t modellerMetricsMemoryBytes(const LabelVolume& v, const MetricsOptions& o) {
  const std::size_t n = v.voxels();
  std::size_t peak = 0;
  // The network (3 face + 2 end conductances, float), its domain mask; then the solver's fine level
  // (6 floats), its double diagonals and the CG vectors (5 double, or 5 complex double), ~1/7 more
  // for the coarse levels.
  const std::size_t network = n * (5 * sizeof(float) + 1);
  if (o.tortuosity && !o.diffusivities.empty())
    peak = std::max(peak, n + network + networkSolverMemoryBytes(n));
  if (o.tortuosity && o.electrodeTortuosity)
    peak = std::max(peak, network + n * sizeof(float) + n * (6 * sizeof(float) + 2 * sizeof(double) + sizeof(float) +
                                                            5 * 2 * sizeof(double)) * 8 / 7);
  // Particles: distance transform, its smoothed copy and maximum (float), labels (4), mask (1),
  // the flooding queue (at most one 24-byte entry per voxel of the phase).
  if (o.particles) peak = std::max(peak, n * (3 * sizeof(float) + sizeof(std::uint32_t) + 1 + 24));
  if (o.triplePhaseBoundaries) peak = std::max(peak, n * (1 + sizeof(std::uint32_t) + 2));
  return peak;
}

}  // namespace fibseg::measure
