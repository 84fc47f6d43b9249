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
  specs.push_back({.section = s, .key = "tortuosity_phases", .type = ParamType::Text, .defaultValue = "all",
                   .description = "Phases whose tortuosity factors are solved: all, none, or names of phases.names "
                                  "separated by commas (e.g. SE). Set in a file, the solves asked for are run even "
                                  "where the volume is too short to be representative (all: the default rule, "
                                  "measure.tortuosity_min_chords). `fibseg measure "
                                  "--tortuosity PHASE[:AXES],...` says the same per phase."});
  specs.push_back({.section = s, .key = "tortuosity_axes", .type = ParamType::Text, .defaultValue = "x,y,z",
                   .description = "Axes the tortuosity factors are solved along, for every phase of "
                                  "measure.tortuosity_phases: any of x, y, z (e.g. y for the thickness only)."});
  specs.push_back({.section = s, .key = "tortuosity_min_chords", .type = ParamType::Real, .defaultValue = "10",
                   .min = 0.0, .max = 1000.0,
                   .description = "Solve a phase's tortuosity only where the volume spans at least this many of "
                                  "the phase's mean chord lengths (its feature size) along every axis; else null "
                                  "with the reason. Ten features: the entrance and exit layers (about a chord "
                                  "each, where the fixed faces force the flux into whatever meets them) stay a "
                                  "small part of the path, and a volume a few features thin has lost the 3D "
                                  "paths around obstacles (3 FIB-SEM slices give a 2D-like tau of hundreds). "
                                  "0 = always solve. Phases and axes named in a file or with --tortuosity are "
                                  "solved regardless."});
  specs.push_back({.section = s, .key = "tortuosity_mode", .type = ParamType::Choice, .defaultValue = "auto",
                   .choices = {"full", "rev", "auto"},
                   .description = "full: solve the whole volume; rev: representative volume elements, cubes of "
                                  "64, 128, 256, ... voxels at measure.rev_positions positions (seeded), tau mean "
                                  "and std per edge in metrics.json, the largest edge's mean as the value; auto: "
                                  "full when the solve fits measure.memory_limit_gb, else rev."});
  specs.push_back({.section = s, .key = "rev_positions", .type = ParamType::Integer, .defaultValue = "5", .min = 1.0,
                   .max = 1000.0, .description = "REV cubes per edge, drawn uniformly through the volume."});
  specs.push_back({.section = s, .key = "rev_seed", .type = ParamType::Integer, .defaultValue = "1", .min = 0.0,
                   .max = 4294967295.0, .description = "Seed of the REV cube positions (the same seed, the same cubes)."});
  specs.push_back({.section = s, .key = "memory_limit_gb", .type = ParamType::Real, .defaultValue = "0", .unit = "GB",
                   .min = 0.0, .max = 1e6,
                   .description = "Memory the measure stage may use; a volume whose metrics need more is read and "
                                  "measured in blocks of slices (the same numbers), and a full tortuosity solve "
                                  "that does not fit is left out with the reason. 0 = half the memory available."});
  specs.push_back({.section = s, .key = "sizes", .type = ParamType::Boolean, .defaultValue = "true",
                   .description = "Local thickness of every phase (histogram, d10/d50/d90 in µm; the particle "
                                  "radius of metrics_pybamm.json). Mean chord lengths are always measured."});
  specs.push_back({.section = s, .key = "sizes_min_chords", .type = ParamType::Real, .defaultValue = "2", .min = 0.0,
                   .max = 1000.0,
                   .description = "Local thickness of a phase, and the active material's particles, only where the "
                                  "volume spans at least this many of the phase's mean chord lengths along every "
                                  "axis; else null with the reason. Below two "
                                  "features deep most of them are cut by the volume's faces and the balls are "
                                  "those of sections (3 FIB-SEM slices of 0.3 µm particles). 0 = always."});
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
  o.tortuosityMinChords = params.real("measure.tortuosity_min_chords");
  o.tortuositySelection = measure::tortuositySelectionFrom(
      params.text("measure.tortuosity_phases"), params.text("measure.tortuosity_axes"),
      "measure.tortuosity_phases / measure.tortuosity_axes");
  // Narrowed in a file (other than every phase along every axis): the user asked for exactly these
  // solves. Not the origin: `fibseg init` writes every default into the file.
  const auto& entries = o.tortuositySelection.entries;
  o.tortuositySelection.named =
      !(entries.size() == 1 && entries[0].first == "*" && entries[0].second == std::array<bool, 3>{true, true, true});
  o.sizes = params.boolean("measure.sizes");
  o.memoryLimitGb = params.real("measure.memory_limit_gb");
  o.sizesMinChords = params.real("measure.sizes_min_chords");
  o.tortuosityMode = params.text("measure.tortuosity_mode");
  o.rev.positions = static_cast<int>(params.integer("measure.rev_positions"));
  o.rev.seed = static_cast<unsigned>(params.integer("measure.rev_seed"));
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
