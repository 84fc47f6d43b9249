// The modellers' metrics (issue 28) on TauFactor's electrode volume (256^3, pore / NMC / CBD,
// ../shared/data/real/taufactor-electrode; $FIBSEG_REAL_DATA overrides the folder): electrode
// tortuosity factor (pore conductive, NMC reactive, CBD inert) along each axis of the whole volume
// and along z (TauFactor's axis 0) on corner crops of 64^3 and 128^3; the multi-phase diffusivity
// (pore = 1, cbd = 0.1) along z; particles of NMC; triple-phase boundaries. Counters: the values,
// the iterations, and cpu_s = the process's CPU seconds per iteration (all threads; the wall is
// noisy on the shared machine). Every case skips when the data is absent.
#include <benchmark/benchmark.h>

#include "electrode_volume.hpp"

#include <cmath>
#include <ctime>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "fibseg/measure/electrode_tortuosity.hpp"
#include "fibseg/measure/multiphase_diffusion.hpp"
#include "fibseg/measure/particles.hpp"
#include "fibseg/measure/triple_phase_boundary.hpp"

namespace {

using namespace fibseg::measure;

using fibseg::bench::electrode;

LabelVolume crop(const LabelVolume& v, int n) {
  auto c = makeVolume(n, n, n, v.phaseNames, v.voxelUm);
  for (int z = 0; z < n; ++z)
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x) c.phase[c.index(x, y, z)] = v.phase[v.index(x, y, z)];
  return c;
}

double cpuSeconds() { return double(std::clock()) / CLOCKS_PER_SEC; }

// Args: axis, crop size (0 = the whole volume), -log10 of the solve's relative residual.
void electrodeTortuosityOnElectrode(benchmark::State& state) {
  const auto* whole = electrode();
  if (!whole) return state.SkipWithError("taufactor-electrode/electrode.tiff not found");
  const int axis = int(state.range(0)), n = int(state.range(1));
  const double tolerance = std::pow(10.0, -double(state.range(2)));
  const LabelVolume v = n > 0 ? crop(*whole, n) : *whole;
  ElectrodeTortuosity r;
  const double cpu0 = cpuSeconds();
  for (auto _ : state) r = electrodeTortuosity(v, 0, 1, axis, tolerance);
  state.counters["cpu_s"] = (cpuSeconds() - cpu0) / double(state.iterations());
  if (!r.tauE) return state.SkipWithError(("tau_e is null: " + r.reason).c_str());
  state.counters["tau_e"] = *r.tauE;
  state.counters["iterations"] = r.iterations;
  state.counters["residual"] = r.relativeResidual;
}
BENCHMARK(electrodeTortuosityOnElectrode)
    ->ArgNames({"axis", "crop", "digits"})
    ->Args({Z, 64, 6})
    ->Args({Z, 128, 5})
    ->Args({Z, 128, 6})
    ->Args({Z, 128, 7})
    ->Args({Z, 128, 9})
    ->Args({Z, 0, 6})
    ->Args({Y, 0, 6})
    ->Args({X, 0, 6})
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(1);

void multiPhaseDiffusionOnElectrode(benchmark::State& state) {
  const auto* v = electrode();
  if (!v) return state.SkipWithError("taufactor-electrode/electrode.tiff not found");
  MultiPhaseDiffusion r;
  const double cpu0 = cpuSeconds();
  for (auto _ : state) r = multiPhaseDiffusion(*v, {1.0, 0.0, 0.1}, Z);  // pore 1, nmc 0, cbd 0.1
  state.counters["cpu_s"] = (cpuSeconds() - cpu0) / double(state.iterations());
  if (!r.tau) return state.SkipWithError(("tau is null: " + r.reason).c_str());
  state.counters["tau"] = *r.tau;
  state.counters["D_eff"] = *r.relativeDiffusivity;
  state.counters["iterations"] = r.iterations;
  state.counters["flux_spread"] = r.fluxSpread;
}
BENCHMARK(multiPhaseDiffusionOnElectrode)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

void particlesOnElectrode(benchmark::State& state) {
  const auto* v = electrode();
  if (!v) return state.SkipWithError("taufactor-electrode/electrode.tiff not found");
  ParticleSizes s;
  const double cpu0 = cpuSeconds();
  for (auto _ : state) s = particleSizes(*v, 1, true);
  state.counters["cpu_s"] = (cpuSeconds() - cpu0) / double(state.iterations());
  state.counters["initial"] = s.initialCount;
  state.counters["kept"] = s.keptCount;
  state.counters["removed_volume"] = s.removedVolumeFraction;
  double d2 = 0, d3 = 0;
  for (const auto& p : s.particles) d2 += p.equivalentDiameterUm * p.equivalentDiameterUm, d3 += std::pow(p.equivalentDiameterUm, 3);
  state.counters["d32_voxels"] = d2 > 0 ? d3 / d2 : 0;
}
BENCHMARK(particlesOnElectrode)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

void triplePhaseBoundariesOnElectrode(benchmark::State& state) {
  const auto* v = electrode();
  if (!v) return state.SkipWithError("taufactor-electrode/electrode.tiff not found");
  TriplePhaseBoundaries t;
  const double cpu0 = cpuSeconds();
  for (auto _ : state) t = triplePhaseBoundaries(*v, Z);
  state.counters["cpu_s"] = (cpuSeconds() - cpu0) / double(state.iterations());
  state.counters["tpb_per_voxel2"] = t.triples.at(0).lengthUm / t.volumeUm3;
  state.counters["active_per_voxel2"] = t.triples.at(0).activeLengthUm / t.volumeUm3;
  state.counters["edge_fraction"] = double(t.triples.at(0).edges) / double(t.interiorEdges);
}
BENCHMARK(triplePhaseBoundariesOnElectrode)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace
