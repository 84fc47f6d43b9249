#pragma once
// The whole microstructure measurement of a label volume as one JSON object (metrics.json):
// fractions (total, per slice, per slab), surface and interface areas, connectivity, tortuosity
// factors, sizes, and the profiles along the electrode thickness (the original notebook's
// "Interfaces analysis", without its cumulative slabs and face-count areas). `fibseg measure`,
// the last stage of `fibseg run` and the Python binding all call measureMetrics, so the three
// give the same numbers under the same keys. The tables (metrics.csv, slab CSVs) and the
// battery-model parameters (metrics_pybamm.json) are made from that object alone.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "fibseg/measure/streamed.hpp"
#include "fibseg/measure/surface_area.hpp"
#include "fibseg/measure/tortuosity.hpp"
#include "fibseg/measure/tortuosity_plan.hpp"
#include "fibseg/measure/tortuosity_rev.hpp"
#include "fibseg/measure/volume.hpp"

namespace fibseg::measure {


struct MetricsOptions {
  bool tortuosity = true;  // the diffusion solves (costly: 3 per phase); false = none at all
  TortuositySelection tortuositySelection;  // which phases and axes (default all; tortuosity_plan.hpp)
  double tortuosityMinChords = 10;  // solve only where the volume spans this many mean chords (0 = always)
  bool sizes = true;       // local thickness (mean chords are always computed)
  double sizesMinChords = 2;  // local thickness only where the volume spans this many mean chords (0 = always)
  bool triplePhaseBoundaries = true;  // TPB length per volume per phase triple (modeller_metrics.hpp)
  // Relative diffusivity per phase name ("pore=1, cbd=0.1"; unnamed phases 0): the multi-phase
  // effective diffusivity and tortuosity (multiphase_diffusion.hpp); empty = not computed.
  std::vector<std::pair<std::string, double>> diffusivities;
  bool electrodeTortuosity = true;      // tau_e of the electrolyte, active material reacting (needs tortuosity)
  bool particles = true;                // the active material's particles by watershed (particles.hpp)
  bool particlesRemoveBoundary = true;  // leave out the particles cut by the volume's faces
  int slabs = 10;          // bands along the thickness axis (the notebook sheet's Regions)
  int slabAxis = Y;        // the thickness axis: image rows by default, as in the notebook
  // Phase names as in LabelVolume::phaseNames, compared ignoring case. Either may be absent
  // from the volume: the parameters that need it are then null.
  std::string electrolytePhase = "se";      // the ion path: SE in solid-state cells, pore in liquid ones
  std::string activeMaterialPhase = "cam";  // the electrode's active material
  std::string electrode = "positive";       // "positive" or "negative": PyBaMM's name prefix
  double areaSmoothingUm = 0;               // Gaussian of the area estimate; 0 = the smallest voxel side
  std::string areasMethod = kSurfaceAreaMethod;  // the estimator's description, for the reader
  std::string tortuosityMode = "auto";  // full | rev | auto (full when the solve fits memoryLimitGb)
  RevOptions rev;            // the REV sampling (tortuosity_rev.hpp)
  SolveCost tortuosityCost;  // what each solve covers, for the console's time estimate (the caller that picks REV sets it)
  double memoryLimitGb = 0;  // measure in z-blocks beyond this (0 = half the memory available)
  int blockSlices = 0;       // force blocks of this many slices (0 = from the memory limit)
  std::function<void(const std::string&)> log;  // told what will be solved before the solves (may be empty)
  // When set, solves tau(phase, axis) instead of the in-memory solver (the MPI run's distributed
  // solve, src/fibseg/mpi/), and the solver's memory is not counted in metricsMemoryBytes.
  std::function<TortuosityResult(int phase, int axis)> tortuositySolver;
};

/// The metrics object (keys in metrics.json; see README "fibseg measure"). Throws fibseg::Error
/// for slabs outside 1 .. the size along the slab axis, and for an electrode that is neither
/// positive nor negative. An absent phase gives 0 fractions and areas, null tortuosity and sizes.
nlohmann::ordered_json measureMetrics(const LabelVolume& volume, const MetricsOptions& options);

/// The metrics object from its parts (whole volume or streamed): `volume` gives the shape, voxel
/// size and phase names only; `solve(phase, axis)` runs each planned tortuosity solve.
nlohmann::ordered_json metricsFromParts(const LabelVolume& volume, const MeasuredParts& parts,
                                        const MetricsOptions& options,
                                        const std::function<TortuosityResult(int phase, int axis)>& solve);
/// The Gaussian sigma (µm) the area estimate uses with these options.
double areaSmoothingUm(const LabelVolume& volume, const MetricsOptions& options);

/// Bytes measureMetrics needs besides the volume itself (the area estimate's float volumes, the
/// solver's, the distance transform's): for a clear refusal before any work.
std::size_t metricsMemoryBytes(const LabelVolume& volume, const MetricsOptions& options);

/// metrics.csv: a tidy table, one row per (phase or interface, metric, direction):
/// subject,metric,direction,value,unit (direction empty for scalars, value empty for null).
std::string metricsCsv(const nlohmann::ordered_json& metrics);
/// slab_fractions.csv: one row per slab, mean and standard deviation over the slices of each
/// phase's volume fraction: slab,from_um,to_um,<phase>_mean,<phase>_std,...
std::string slabFractionsCsv(const nlohmann::ordered_json& metrics);
/// slab_interfaces.csv: one row per slab, each interface's area per unit volume (µm^-1) and the
/// share of the active material's surface touching each other phase, mean and std over slices.
std::string slabInterfacesCsv(const nlohmann::ordered_json& metrics);
/// particles_<phase>.csv: one row per particle of a phase measured by particle (metrics.json
/// phases.<phase>.particles.table); empty when that phase has none.
std::string particlesCsv(const nlohmann::ordered_json& metrics, const std::string& phase);
/// metrics_pybamm.json: PyBaMM parameter names ("Positive electrode porosity", ...) where
/// they apply, along the slab (thickness) axis, with a "fibseg" block saying where each came from.
nlohmann::ordered_json pybammParameters(const nlohmann::ordered_json& metrics);

}  // namespace fibseg::measure

namespace fibseg::config {
class ParamSet;
/// Defined in config/params_measure.cpp (the measure.* values); throws naming the parameter
/// when measure.electrolyte_phase or measure.active_material_phase names none of phases.names.
measure::MetricsOptions metricsOptionsFrom(const ParamSet& params);
}  // namespace fibseg::config
