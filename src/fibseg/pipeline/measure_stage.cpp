#include "fibseg/pipeline/measure_stage.hpp"

#include <cmath>
#include <cstdio>
#include <map>

#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/measure/label_source.hpp"
#include "fibseg/measure/metrics_2d.hpp"
#include "fibseg/pipeline/measure_slice_stage.hpp"
#include "fibseg/pipeline/zarr_label_source.hpp"

namespace fibseg::pipeline {
namespace fs = std::filesystem;
using nlohmann::ordered_json;  // key order kept: metrics.json and run.json read as written

const std::vector<std::string>& metricsFileNames() {
  static const std::vector<std::string> names{"metrics.json", "metrics.csv", "metrics_pybamm.json",
                                              "slab_fractions.csv", "slab_interfaces.csv"};
  return names;
}

void writeMetricsFiles(const fs::path& folder, const ordered_json& metrics) {
  writeTextFile(folder / "metrics.json", metrics.dump(2) + "\n");
  writeTextFile(folder / "metrics.csv", measure::metricsCsv(metrics));
  writeTextFile(folder / "metrics_pybamm.json", measure::pybammParameters(metrics).dump(2) + "\n");
  writeTextFile(folder / "slab_fractions.csv", measure::slabFractionsCsv(metrics));
  writeTextFile(folder / "slab_interfaces.csv", measure::slabInterfacesCsv(metrics));
  for (const auto& [name, phase] : metrics.at("phases").items())
    if (phase.contains("particles")) writeTextFile(folder / ("particles_" + name + ".csv"), measure::particlesCsv(metrics, name));
}

std::size_t memoryLimitBytes(const measure::MetricsOptions& o) {
  if (o.memoryLimitGb > 0) return std::size_t(o.memoryLimitGb * double(1ull << 30));
  const std::size_t have = measure::availableMemoryBytes();
  return have ? have / 2 : std::size_t(4) << 30;
}

namespace {
std::string mib(std::size_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }
}  // namespace

ordered_json measureLabelFile(const fs::path& labels, const std::vector<measure::PhaseValue>& phases,
                              std::optional<std::array<double, 3>> voxelUm, const measure::MetricsOptions& options,
                              const fs::path& folder) {
  if (isZarrStore(labels)) {  // an OME-Zarr store (labels.zarr of an ome-zarr run)
    const ZarrLabelSource zarr(labels, phases, voxelUm);
    if (zarr.shape().nz < 2) throw Error(labels.string() + ": one slice; the 2D metrics read a label TIFF");
    return measureLabels(zarr, labels.string(), zarr.voxelSource(), options, folder);
  }
  const measure::TiffLabelSource source(labels, phases, voxelUm);
  const auto& info = source.info();
  if (info.pages < 2)  // a single slice or 2D image: its 2D metrics (measure_slice_stage.hpp)
    return measureLabelSlice(labels, phases, voxelUm, options, folder, info.voxelSource);
  return measureLabels(source, labels.string(), info.voxelSource, options, folder);
}

ordered_json measureLabels(const measure::LabelSource& source, const std::string& labels, const std::string& voxelSource,
                           const measure::MetricsOptions& options, const fs::path& folder) {
  const measure::LabelVolume& shape = source.shape();
  const std::size_t limit = memoryLimitBytes(options);
  const std::string limitText = mib(limit) + " (measure.memory_limit_gb / --memory-limit" +
                                (options.memoryLimitGb > 0 ? ")" : ": half the memory available)");
  const std::size_t wholeNeed = shape.voxels() + measure::metricsMemoryBytes(shape, options);
  const std::size_t solveNeed = shape.voxels() + measure::tortuosityMemoryBytes(shape);
  const std::string& mode = options.tortuosityMode;
  if (mode != "full" && mode != "rev" && mode != "auto")
    throw Error("measure.tortuosity_mode = '" + mode + "': expected full, rev or auto");
  // A distributed solver (fibseg measure --mpi) holds no volume here: the full solve always fits.
  const bool rev = mode == "rev" || (mode == "auto" && solveNeed > limit && !options.tortuositySolver);
  ordered_json metrics;
  if (options.blockSlices == 0 && wholeNeed <= limit && !rev) {
    const measure::LabelVolume volume = source.readSlices(0, shape.nz);
    metrics = measure::measureMetrics(volume, options);
  } else {
    // In blocks of slices within the limit (one block when it fits): the same numbers
    // (measure/streamed.hpp).
    const std::size_t perSlice = measure::streamedBytesPerSlice(shape, options.sizes);
    const int haloGuess = 2 * measure::areaHaloSlices(shape, measure::areaSmoothingUm(shape, options));
    int block = options.blockSlices;
    if (block == 0) block = int(std::min<std::size_t>(shape.nz + haloGuess, limit / perSlice)) - haloGuess;
    if (block < 1)
      throw Error(labels + " (" + std::to_string(shape.nx) + " x " + std::to_string(shape.ny) +
                  " per slice): a block of slices needs at least " + mib(perSlice * (haloGuess + 1)) + ", more than " +
                  limitText + "; raise the limit");
    if (options.log && block < shape.nz)
      options.log("reading " + std::to_string(shape.nx) + " x " + std::to_string(shape.ny) + " x " +
                  std::to_string(shape.nz) + " in blocks of " + std::to_string(block) + " slices (the whole volume's " +
                  "metrics need " + mib(wholeNeed) + ", limit " + limitText + ")");
    measure::TiledThicknessOptions thickness;
    thickness.memoryBytes = limit;
    const auto parts = measure::measureStreamed(source, options.slabAxis, options.slabs,
                                                measure::areaSmoothingUm(shape, options), options.sizes, block,
                                                options.sizesMinChords, thickness, options.triplePhaseBoundaries);
    std::optional<measure::LabelVolume> whole;
    std::map<std::pair<int, int>, ordered_json> revJson, fullTau;
    measure::RevOptions revOptions = options.rev;
    std::optional<measure::RevCubes> cubes;
    if (revOptions.largestEdge == 0)  // a cube, its slices and the solver within the limit
      revOptions.largestEdge = int(std::cbrt(double(limit) / 32.0));
    auto solve = [&](int phase, int axis) {
      measure::TortuosityResult r;
      if (options.tortuositySolver && !rev) return options.tortuositySolver(phase, axis);
      if (rev) {
        if (!cubes) cubes = measure::revCubes(source, revOptions);
        const auto e = measure::tortuosityRev(*cubes, phase, axis);
        ordered_json edges = ordered_json::array();
        for (const auto& edge : e.edges) {
          ordered_json taus = ordered_json::array();
          for (const auto& t : edge.tau) taus.push_back(t ? ordered_json(*t) : ordered_json(nullptr));
          edges.push_back({{"edge_voxels", edge.edge},
                           {"tau_mean", edge.mean ? ordered_json(*edge.mean) : ordered_json(nullptr)},
                           {"tau_std", edge.std ? ordered_json(*edge.std) : ordered_json(nullptr)},
                           {"origins_xyz", edge.origins},
                           {"tau", taus}});
        }
        revJson[{phase, axis}] = edges;
        if (solveNeed <= limit) {  // rev asked for though the full solve fits: both, for the comparison
          if (!whole) whole = source.readSlices(0, shape.nz);
          auto full = measure::tortuosity(*whole, phase, axis, {});
          fullTau[{phase, axis}] = full.tau ? ordered_json(*full.tau) : ordered_json(nullptr);
          return full;
        }
        r.tau = e.tau;
        r.reason = e.reason;
        return r;
      }
      if (solveNeed > limit) {
        r.reason = "the full solve needs " + mib(solveNeed) + ", more than " + limitText +
                   "; measure.tortuosity_mode = rev estimates it from sub-volumes";
        return r;
      }
      if (!whole) whole = source.readSlices(0, shape.nz);
      return measure::tortuosity(*whole, phase, axis, {});
    };
    measure::MetricsOptions planned = options;  // the console's estimate counts what REV solves
    if (rev) planned.tortuosityCost = measure::revSolveCost(shape, revOptions, solveNeed <= limit);
    metrics = measure::metricsFromParts(shape, parts, planned, solve);
    for (const auto& [key, edges] : revJson) {
      auto& ph = metrics["phases"][shape.phaseNames[key.first]];
      ph["tortuosity_rev"][measure::axisName(key.second)] = edges;
      const bool full = fullTau.count(key);
      ph["tortuosity_source"][measure::axisName(key.second)] =
          full ? "full volume (the REV cubes beside it)" : "rev: the largest edge's mean";
      if (full) ph["tortuosity_full"][measure::axisName(key.second)] = fullTau[key];
    }
    if (rev)
      metrics["tortuosity_rev_sampling"] = {
          {"edges_voxels", measure::revEdges(shape, revOptions.smallestEdge, revOptions.largestEdge)},
          {"positions_per_edge", options.rev.positions},
          {"seed", options.rev.seed},
          {"why", mode == "rev" ? "measure.tortuosity_mode = rev"
                                : "auto: the full solve needs " + mib(solveNeed) + ", more than " + limitText},
          {"method", "cubes at origins drawn uniformly (std::mt19937 with the seed) through the volume, solved "
                     "as the full solver does; mean and population std over the cubes that percolate"}};
    if (block < shape.nz)
      metrics["streamed"] = {{"block_slices", parts.blockSlices},
                             {"blocks", parts.blocks},
                             {"memory_limit_mib", limit >> 20},
                             {"local_thickness_halo_voxels_xyz", parts.thicknessHaloVoxels},
                             {"local_thickness_tile_voxels_xyz", parts.thicknessTileVoxels},
                             {"local_thickness_tiles", parts.thicknessTiles},
                             {"method", "read in blocks of slices; counts summed, areas per marching-cubes cell layer "
                                        "(halo: the smoothing kernel + 1), clusters joined across block faces by "
                                        "union-find, chord runs with one slice of overlap, local thickness in tiles "
                                        "along x, y and z with a halo of 2 ceil(R / h) + 1 voxels, R the largest "
                                        "inscribed radius found tile by tile first: the same numbers as the whole "
                                        "volume's"}};
  }
  ordered_json out;
  out["voxel_size_source"] = voxelSource;
  for (const auto& [k, v] : metrics.items()) out[k] = v;
  writeMetricsFiles(folder, out);
  return out;
}

std::string metricsSummaryLine(const ordered_json& m) {
  if (measure::isMetrics2d(m)) return measure::metrics2dSummaryLine(m);
  const std::string axis = m.at("options").at("slab_axis");
  std::string line = "measure:";
  char text[160];
  bool first = true;
  for (const auto& [name, ph] : m.at("phases").items()) {
    std::snprintf(text, sizeof text, "%s %s %.3f", first ? "" : ",", name.c_str(), ph.at("volume_fraction").get<double>());
    line += text;
    first = false;
    if (ph.contains("tortuosity_factor")) {
      const auto& t = ph["tortuosity_factor"][axis];
      if (t.is_number()) std::snprintf(text, sizeof text, " (tau_%s %.2f)", axis.c_str(), t.get<double>());
      else std::snprintf(text, sizeof text, " (tau_%s null)", axis.c_str());
      line += text;
    }
  }
  line += ";";
  first = true;
  for (const auto& [name, in] : m.at("interfaces").items()) {
    std::snprintf(text, sizeof text, "%s %s %.3f", first ? "" : ",", name.c_str(),
                  in.at("area_per_volume_per_um").get<double>());
    line += text;
    first = false;
  }
  return line + " µm^-1 (interface area per volume)";
}

}  // namespace fibseg::pipeline
