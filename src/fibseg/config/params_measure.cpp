// Parameters of the microstructure metrics, the last stage of `fibseg run` (measure/metrics.hpp).
#include "fibseg/config/param_set.hpp"
#include "fibseg/config/stage_params.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/core/phases.hpp"
#include "fibseg/core/text.hpp"
#include "fibseg/measure/metrics.hpp"
#include "fibseg/measure/multiphase_diffusion.hpp"

namespace fibseg::config {

std::vector<ParamSpec> measureParameterSpecs() {
  std::vector<ParamSpec> specs;
  const std::string s = "measure";
  specs.push_back({.section = s, .key = "enabled", .type = ParamType::Boolean, .defaultValue = "true",
                   .description = "Measure the segmented volume at the end of the run: metrics.json, metrics.csv, "
                                  "metrics_pybamm.json and the profiles along the thickness (slab_fractions.csv, "
                                  "slab_interfaces.csv). Needs the pixel size (input.pixel_size_nm or the metadata)."});
  specs.push_back({.section = s, .key = "tortuosity", .type = ParamType::Boolean, .defaultValue = "true",
                   .description = "Tortuosity factors of every phase along x, y and z (steady-state diffusion, "
                                  "TauFactor's convention). The costliest part: turn it off for a quick look."});
  specs.push_back({.section = s, .key = "sizes", .type = ParamType::Boolean, .defaultValue = "true",
                   .description = "Local thickness of every phase (histogram, d10/d50/d90 in µm; the particle "
                                  "radius of metrics_pybamm.json). Mean chord lengths are always measured."});
  specs.push_back({.section = s, .key = "triple_phase_boundaries", .type = ParamType::Boolean, .defaultValue = "true",
                   .description = "Triple-phase boundary density (µm^-2) of every triple of phases: length of the "
                                  "lines where three phases meet per unit volume, in all and where each of the "
                                  "three phases percolates along the thickness axis (measure.slab_axis)."});
  specs.push_back({.section = s, .key = "diffusivities", .type = ParamType::Text, .defaultValue = "",
                   .description = "Relative diffusivity (or conductivity) of each phase for the multi-phase "
                                  "transport solve, e.g. \"pore=1, cbd=0.1\" (a carbon-binder domain with "
                                  "nanopores) or \"se=1, cam=0.01\"; phases not named do not conduct. Gives the "
                                  "effective diffusivity and tortuosity factor (D_mean / D_eff) of the whole "
                                  "multi-phase volume along x, y and z (TauFactor's MultiPhaseSolver). Empty: "
                                  "not computed. Needs measure.tortuosity."});
  specs.push_back({.section = s, .key = "electrode_tortuosity", .type = ParamType::Boolean, .defaultValue = "true",
                   .description = "Electrode tortuosity factor tau_e (Nguyen et al. 2020; TauFactor's "
                                  "ImpedanceSolver) of the electrolyte (measure.electrolyte_phase) with the active "
                                  "material (measure.active_material_phase) as the reacting surface, along x, y "
                                  "and z (the separator at coordinate 0), with the MacMullin number tau_e / eps. "
                                  "Needs measure.tortuosity; about as costly as one tortuosity solve per axis."});
  specs.push_back({.section = s, .key = "particles", .type = ParamType::Boolean, .defaultValue = "true",
                   .description = "Split the active material (measure.active_material_phase) into particles by a "
                                  "distance-transform watershed (PoreSpy's SNOW) and measure each: volume, "
                                  "equivalent-sphere diameter, sphericity (particles_<phase>.csv; summary and "
                                  "the PyBaMM particle radius in metrics.json / metrics_pybamm.json)."});
  specs.push_back({.section = s, .key = "particles_remove_boundary", .type = ParamType::Boolean,
                   .defaultValue = "true",
                   .description = "Leave out the particles touching the volume's faces (cut by the crop, so "
                                  "smaller than they are); the share removed, by count and by volume, is reported."});
  specs.push_back({.section = s, .key = "slabs", .type = ParamType::Integer, .defaultValue = "10", .min = 1.0,
                   .max = 1000.0,
                   .description = "Number of equal, non-overlapping slabs the volume is cut into along the "
                                  "thickness axis, for the profiles of phase fractions and interface areas "
                                  "(the notebook sheet's Regions). At most the volume's size along that axis."});
  specs.push_back({.section = s, .key = "slab_axis", .type = ParamType::Choice, .defaultValue = "y",
                   .choices = {"x", "y", "z"},
                   .description = "The electrode's thickness axis: y = image rows, top to bottom (the notebook's), "
                                  "x = image columns, z = slices. Slabs cut it; metrics_pybamm.json takes the "
                                  "tortuosity factors along it."});
  specs.push_back({.section = s, .key = "electrolyte_phase", .type = ParamType::Text, .defaultValue = "SE",
                   .description = "The phase ions move through (one of phases.names): SE in solid-state cells "
                                  "(the default phases pore, SE, CAM are a solid-state cathode, whose pores "
                                  "carry no ions), pore in liquid-electrolyte cells. It gives PyBaMM's porosity "
                                  "and electrolyte tortuosity in metrics_pybamm.json. Left at its default with "
                                  "phases that have no SE, the values needing it are left out."});
  specs.push_back({.section = s, .key = "active_material_phase", .type = ParamType::Text, .defaultValue = "CAM",
                   .description = "The electrode's active material (one of phases.names): its volume fraction, "
                                  "particle radius and electrode tortuosity in metrics_pybamm.json, and the share "
                                  "of its surface touching each other phase per slab (CAM-SE share)."});
  specs.push_back({.section = s, .key = "electrode", .type = ParamType::Choice, .defaultValue = "positive",
                   .choices = {"positive", "negative"},
                   .description = "Which electrode the volume is: the prefix of the PyBaMM parameter names in "
                                  "metrics_pybamm.json (Positive electrode porosity, ...)."});
  return specs;
}

measure::MetricsOptions metricsOptionsFrom(const ParamSet& params) {
  measure::MetricsOptions o;
  o.tortuosity = params.boolean("measure.tortuosity");
  o.sizes = params.boolean("measure.sizes");
  o.triplePhaseBoundaries = params.boolean("measure.triple_phase_boundaries");
  o.particles = params.boolean("measure.particles");
  o.electrodeTortuosity = params.boolean("measure.electrode_tortuosity");
  o.particlesRemoveBoundary = params.boolean("measure.particles_remove_boundary");
  o.slabs = static_cast<int>(params.integer("measure.slabs"));
  const std::string axis = params.text("measure.slab_axis");
  o.slabAxis = axis == "x" ? measure::X : axis == "y" ? measure::Y : measure::Z;
  o.electrode = params.text("measure.electrode");
  const PhaseSet phases = phasesFrom(params);
  // The volume's phases are named by their keys (lower case); a name that is no phase is a typo,
  // while a named phase with no voxels is measured as absent.
  for (const char* name : {"measure.electrolyte_phase", "measure.active_material_phase"}) {
    const std::string value = params.text(name);
    std::string key;
    for (int p = 0; p < phases.count(); ++p)
      if (toLower(trim(value)) == toLower(phases.names[p])) key = phases.key(p);
    // Left at its default with other phases (e.g. "rest, particle"): the phase is absent and
    // the values that need it are left out; a name the user gave must be one of the phases.
    if (key.empty() && params.resolved(name).origin == "default") key = toLower(trim(value));
    if (key.empty())
      throw Error("parameter " + std::string(name) + " (" + params.resolved(name).origin + ") = '" + value +
                  "': expected one of phases.names (" + phases.namesText() + ")");
    (std::string(name) == "measure.electrolyte_phase" ? o.electrolytePhase : o.activeMaterialPhase) = key;
  }
  // Diffusivities are named by phase; the volume's phases are named by their keys.
  for (auto [name, value] : measure::parseDiffusivities(params.text("measure.diffusivities"),
                                                        "parameter measure.diffusivities")) {
    std::string key;
    for (int p = 0; p < phases.count(); ++p)
      if (toLower(name) == toLower(phases.names[p]) || toLower(name) == phases.key(p)) key = phases.key(p);
    if (key.empty())
      throw Error("parameter measure.diffusivities: phase '" + name + "' is none of phases.names (" +
                  phases.namesText() + ")");
    o.diffusivities.emplace_back(key, value);
  }
  return o;
}

}  // namespace fibseg::config
