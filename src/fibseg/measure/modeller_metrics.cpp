#include "fibseg/measure/modeller_metrics.hpp"

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

}  // namespace fibseg::measure
