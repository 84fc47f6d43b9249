#include "fibseg/measure/modeller_metrics.hpp"

#include "fibseg/core/error.hpp"
#include "fibseg/core/text.hpp"
#include "fibseg/measure/multiphase_diffusion.hpp"
#include "fibseg/measure/triple_phase_boundary.hpp"

namespace fibseg::measure {
using json = nlohmann::ordered_json;

json triplePhaseBoundaryMetrics(const LabelVolume& v, const MetricsOptions& o) {
  const auto t = triplePhaseBoundaries(v, o.slabAxis);
  json out = json::object();
  for (const auto& triple : t.triples) {
    const auto [a, b, c] = triple.phases;
    const std::string name = v.phaseNames[a] + "|" + v.phaseNames[b] + "|" + v.phaseNames[c];
    const bool any = t.volumeUm3 > 0;
    out[name] = {{"length_per_volume_per_um2", any ? triple.lengthUm / t.volumeUm3 : 0.0},
                 {"active_length_per_volume_per_um2", any ? triple.activeLengthUm / t.volumeUm3 : 0.0},
                 {"edge_fraction", t.interiorEdges > 0 ? double(triple.edges) / double(t.interiorEdges) : 0.0}};
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

}  // namespace fibseg::measure
