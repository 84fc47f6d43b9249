// Surface areas and local thickness on TauFactor's electrode volume (256^3, pore / NMC / CBD,
// ../shared/data/real/taufactor-electrode; $FIBSEG_REAL_DATA overrides the folder). Counters give
// the specific surface area per phase (per voxel unit: the voxel size is 1) and d50.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <optional>

#include "fibseg/measure/label_file.hpp"
#include "fibseg/measure/sizes.hpp"
#include "fibseg/measure/surface_area.hpp"

namespace {

using namespace fibseg::measure;

const LabelVolume* electrode() {
  static const auto volume = []() -> std::optional<LabelVolume> {
    const char* env = std::getenv("FIBSEG_REAL_DATA");
    const std::filesystem::path root = env && *env ? env : FIBSEG_REAL_DATA_ROOT;
    const auto file = root / "taufactor-electrode" / "electrode.tiff";
    if (!std::filesystem::exists(file)) return std::nullopt;
    return readLabelVolume(file, parsePhaseValues("pore=0,nmc=85,cbd=170"), std::nullopt);
  }();
  return volume ? &*volume : nullptr;
}

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

}  // namespace
