// Measure benchmarks (issue 15). Surface areas and local thickness on TauFactor's electrode volume
// (256^3, pore / NMC / CBD, ../shared/data/real/taufactor-electrode; $FIBSEG_REAL_DATA overrides the
// folder; counters give the specific surface area per phase per voxel unit, and d50). Tortuosity:
// TauFactor's pore along z (the published 2.0776) and y, and a synthetic two-phase cube whose 30 %
// phase is the space between overlapping random spheres (percolating in every direction). The 500^3
// case runs only with FIBSEG_BENCH_LARGE=1 (about a minute per direction and 3.3 GB); its peak memory
// is measured with /usr/bin/time -v, see bench/README.md (Measure). Every case skips when its data
// is absent. sizesSynthetic: local thickness of either phase of the 128^3 spheres cube.
#include <benchmark/benchmark.h>

#include "electrode_volume.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <random>

#include "fibseg/measure/sizes.hpp"
#include "fibseg/measure/surface_area.hpp"
#include "fibseg/measure/tortuosity.hpp"

namespace {

using namespace fibseg::measure;

using fibseg::bench::electrode;

void surfaceAreasOnElectrode(benchmark::State& state) {
  const auto* v = electrode();
  if (!v) return state.SkipWithError("taufactor-electrode/electrode.tiff not found");
  AreaSums a;
  for (auto _ : state) a = surfaceAreas(*v, 1.0, Y, 1);
  for (int p = 0; p < v->phases(); ++p) state.counters["ssa_" + v->phaseNames[p]] = a.phaseTotalUm2[p] / v->voxels();
  for (std::size_t k = 0; k < a.pairs.size(); ++k)
    state.counters["iface_" + v->phaseNames[a.pairs[k].first] + "|" + v->phaseNames[a.pairs[k].second]] =
        a.interfaceTotalUm2[k] / v->voxels();
}
BENCHMARK(surfaceAreasOnElectrode)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

void localThicknessOnElectrode(benchmark::State& state) {
  const auto* v = electrode();
  if (!v) return state.SkipWithError("taufactor-electrode/electrode.tiff not found");
  const int phase = int(state.range(0));
  SizeDistribution s;
  for (auto _ : state) s = sizeDistribution(*v, phase, true);
  state.SetLabel(v->phaseNames[phase]);
  state.counters["d10"] = s.d10, state.counters["d50"] = s.d50, state.counters["d90"] = s.d90;
}
BENCHMARK(localThicknessOnElectrode)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

void reportResult(benchmark::State& state, const TortuosityResult& r) {
  if (!r.tau) {
    state.SkipWithError(("tau is null: " + r.reason).c_str());
    return;
  }
  state.counters["tau"] = *r.tau;
  state.counters["iterations"] = r.iterations;
  state.counters["flux_spread"] = r.fluxSpread;
}

void taufactorPore(benchmark::State& state) {
  const auto* v = electrode();
  if (!v) return state.SkipWithError("taufactor-electrode/electrode.tiff not found");
  const int axis = int(state.range(0));
  TortuosityResult r;
  for (auto _ : state) r = tortuosity(*v, 0, axis, {});
  reportResult(state, r);
}
BENCHMARK(taufactorPore)->ArgName("axis")->Arg(Z)->Arg(Y)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(3);

// Phase 0 = the space between overlapping spheres of radius 8 covering 70 % of the cube (Boolean
// model: solid fraction 1 - exp(-density * sphere volume)), phase 1 = the spheres.
LabelVolume spheresCube(int n) {
  auto v = makeVolume(n, n, n, {"pore", "solid"});
  const double radius = 8, sphere = 4.0 / 3.0 * 3.14159265358979 * radius * radius * radius;
  const long long count = std::llround(-std::log(0.3) / sphere * double(v.voxels()));
  std::mt19937_64 random(15);
  std::uniform_real_distribution<double> at(0, n);
  const int r = int(radius);
  for (long long s = 0; s < count; ++s) {
    const double cx = at(random), cy = at(random), cz = at(random);
    for (int z = std::max(0, int(cz) - r - 1); z <= std::min(n - 1, int(cz) + r + 1); ++z)
      for (int y = std::max(0, int(cy) - r - 1); y <= std::min(n - 1, int(cy) + r + 1); ++y)
        for (int x = std::max(0, int(cx) - r - 1); x <= std::min(n - 1, int(cx) + r + 1); ++x) {
          const double dx = x + 0.5 - cx, dy = y + 0.5 - cy, dz = z + 0.5 - cz;
          if (dx * dx + dy * dy + dz * dz <= radius * radius) v.phase[v.index(x, y, z)] = 1;
        }
  }
  return v;
}

void spheresSynthetic(benchmark::State& state) {
  const int n = int(state.range(0));
  if (n > 300 && !std::getenv("FIBSEG_BENCH_LARGE")) {
    state.SkipWithError("set FIBSEG_BENCH_LARGE=1 to run the 500^3 case (minutes, 3.3 GB)");
    return;
  }
  const LabelVolume v = spheresCube(n);
  TortuosityResult r;
  for (auto _ : state) r = tortuosity(v, 0, Z, {});
  state.counters["pore_fraction"] = r.volumeFraction;
  state.counters["memory_estimate_GB"] = double(tortuosityMemoryBytes(v)) / 1e9;
  reportResult(state, r);
}
BENCHMARK(spheresSynthetic)->ArgName("n")->Arg(128)->Arg(500)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

// Local thickness (issue 15, speed): the same Boolean-model cube, phase 0 (the space between the
// spheres) or 1 (the spheres, radius 8). Counters: d10/d50/d90 in voxels.
void sizesSynthetic(benchmark::State& state) {
  const int n = int(state.range(0)), phase = int(state.range(1));
  const LabelVolume v = spheresCube(n);
  SizeDistribution s;
  for (auto _ : state) s = sizeDistribution(v, phase, true);
  state.SetLabel(v.phaseNames[phase]);
  state.counters["d10"] = s.d10, state.counters["d50"] = s.d50, state.counters["d90"] = s.d90;
}
BENCHMARK(sizesSynthetic)->ArgNames({"n", "phase"})->Args({128, 0})->Args({128, 1})->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace
