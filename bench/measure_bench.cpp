// Tortuosity factor solver (issue 15): TauFactor's electrode volume (pore along z, the published
// 2.0776; skipped when ../shared is absent) and a synthetic two-phase cube whose 30 % phase is the
// space between overlapping random spheres (percolating in every direction). The 500^3 case runs
// only with FIBSEG_BENCH_LARGE=1 (about a minute per direction and 3.3 GB); its peak memory is
// measured with /usr/bin/time -v, see bench/README.md (Measure).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include "fibseg/measure/label_file.hpp"
#include "fibseg/measure/tortuosity.hpp"

namespace {

using namespace fibseg::measure;

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
  const std::filesystem::path file =
      std::filesystem::path(FIBSEG_REAL_DATA_ROOT) / "taufactor-electrode" / "electrode.tiff";
  if (!std::filesystem::exists(file)) {
    state.SkipWithError(("TauFactor volume absent: " + file.string()).c_str());
    return;
  }
  static const LabelVolume v = readLabelVolume(file, {{"pore", 0}, {"nmc", 85}, {"cbd", 170}}, std::nullopt);
  const int axis = int(state.range(0));
  TortuosityResult r;
  for (auto _ : state) r = tortuosity(v, 0, axis, {});
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

}  // namespace
