#pragma once
// The metrics battery modellers ask for beyond fractions, areas and tortuosity (issue 28), as the
// blocks measureMetrics puts into metrics.json: triple-phase boundary densities, ... Each block is
// made from the pure functions of its own file (triple_phase_boundary.hpp, ...); this file only
// turns their results into JSON with the units in the key names, as the rest of metrics.json.
#include <nlohmann/json.hpp>

#include "fibseg/measure/metrics.hpp"

namespace fibseg::measure {

/// metrics.json "triple_phase_boundaries": {"a|b|c": {length_per_volume_per_um2,
/// active_length_per_volume_per_um2, edge_fraction}} for every triple of phases, active along
/// the slab (thickness) axis.
nlohmann::ordered_json triplePhaseBoundaryMetrics(const LabelVolume& volume, const MetricsOptions& options);

/// The "How:" text of the triple-phase boundaries (metrics.json method.triple_phase_boundaries).
std::string triplePhaseBoundaryMethod(const MetricsOptions& options);

/// metrics.json "multiphase_diffusion": the diffusivities used, mean_diffusivity (sum eps_p D_p),
/// effective_diffusivity and tortuosity_factor {x, y, z} of the multi-phase volume, null with a
/// reason where nothing conducts across. Throws fibseg::Error naming measure.diffusivities when a
/// phase named there is not in the volume.
nlohmann::ordered_json multiPhaseDiffusionMetrics(const LabelVolume& volume, const MetricsOptions& options);
std::string multiPhaseDiffusionMethod();

}  // namespace fibseg::measure
