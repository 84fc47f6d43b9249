#pragma once
// The metrics battery modellers ask for beyond fractions, areas and tortuosity (issue 28), as the
// blocks measureMetrics puts into metrics.json: triple-phase boundary densities, ... Each block is
// made from the pure functions of its own file (triple_phase_boundary.hpp, ...); this file only
// turns their results into JSON with the units in the key names, as the rest of metrics.json.
#include <array>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>

#include "fibseg/measure/metrics.hpp"
#include "fibseg/measure/triple_phase_boundary.hpp"

namespace fibseg::measure {

/// metrics.json "triple_phase_boundaries": {"a|b|c": {length_per_volume_per_um2,
/// active_length_per_volume_per_um2, edge_fraction}} for every triple of phases, active along
/// the slab (thickness) axis.
nlohmann::ordered_json triplePhaseBoundaryMetrics(const LabelVolume& volume, const MetricsOptions& options);
/// The same from counts already made (a streamed volume's: without active edges, whose
/// active_length_per_volume_per_um2 is null with `activeNullReason`).
nlohmann::ordered_json triplePhaseBoundaryJson(const LabelVolume& shape, const TriplePhaseBoundaries& counted,
                                               const std::string& activeNullReason);

/// The "How:" text of the triple-phase boundaries (metrics.json method.triple_phase_boundaries).
std::string triplePhaseBoundaryMethod(const MetricsOptions& options);

/// metrics.json "multiphase_diffusion": the diffusivities used, mean_diffusivity (sum eps_p D_p),
/// effective_diffusivity and tortuosity_factor {x, y, z} of the multi-phase volume, null with a
/// reason where nothing conducts across. Throws fibseg::Error naming measure.diffusivities when a
/// phase named there is not in the volume.
nlohmann::ordered_json multiPhaseDiffusionMetrics(const LabelVolume& volume, const MetricsOptions& options);
std::string multiPhaseDiffusionMethod();

/// phases.<phase>.particles: counts, shares removed at the boundary, the diameter distribution
/// (number-weighted d10/d50/d90, mean, Sauter d32 = sum d^3 / sum d^2), mean sphericity, and
/// the per-particle table (columns of equal length) that particles_<phase>.csv is written from.
nlohmann::ordered_json particleMetrics(const LabelVolume& volume, int phase, const MetricsOptions& options);
std::string particleMethod(const MetricsOptions& options);
/// particles_<phase>.csv from metrics.json: label,volume_um3,equivalent_diameter_um,
/// surface_area_um2,sphericity,centroid_x_um,centroid_y_um,centroid_z_um. Empty without a table.
std::string particleTableCsv(const nlohmann::ordered_json& metrics, const std::string& phase);
/// The radius (µm) PyBaMM's particle radius is taken from (half the Sauter diameter d32 of the
/// particles kept) and the sentence saying so; nothing when the phase has fewer than 10 whole
/// particles measured (the local thickness is used then).
std::optional<std::pair<double, std::string>> particleRadiusForPybamm(const nlohmann::ordered_json& phase,
                                                                      const std::string& where);

/// Adds to the electrolyte's phase object: electrode_tortuosity_factor, electrode_macmullin_number
/// (tau_e / eps), electrode_tortuosity_iterations and _residual {x, y, z}, and
/// electrode_tortuosity_null_reason where null. An axis with a reason in `skip` is not solved (the
/// electrolyte's tortuosity plan: selection and size rule) and gets that reason.
void addElectrodeTortuosity(nlohmann::ordered_json& phase, const LabelVolume& volume, int electrolyte,
                            int activeMaterial, const std::array<std::string, 3>& skip);
std::string electrodeTortuosityMethod(const MetricsOptions& options);

/// Peak bytes of the modellers' metrics enabled in `options` (they run one after the other, so
/// the largest): the electrode tortuosity's complex solve is the largest, ~150 bytes per voxel.
std::size_t modellerMetricsMemoryBytes(const LabelVolume& volume, const MetricsOptions& options);

}  // namespace fibseg::measure
