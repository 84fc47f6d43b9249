// Registration speed on one 2048 x 1536 pair (phantom slices 0 and 1, no data bar), 8-bit.
//   MeasurePairShift   one pair from scratch: both spectra, correlation, the re-match on the
//                      shared content, Newton refinement
//   RegistrarAdd/8     what the pipeline pays per slice in the streaming pass: pair with the
//                      previous slice + running reference of 8 aligned slices (8 warps, mean)
//   RegistrarAdd/1     the same with the previous slice only
//   ApplyShift         bicubic sub-pixel move of one slice onto the common area
#include <benchmark/benchmark.h>

#include "fibseg/align/align.hpp"
#include "fibseg/phantom/phantom.hpp"

namespace {

using namespace fibseg;

struct Pair {
  cv::Mat a, b;
};

const Pair& pair() {
  static const Pair p = [] {
    phantom::PhantomParams params;
    params.width = 2048;
    params.height = 1536;
    params.dataBarRows = 0;
    params.slices = 2;
    const phantom::Phantom ph(params);
    return Pair{ph.rawSlice(0), ph.rawSlice(1)};
  }();
  return p;
}

align::RegistrationParams registrationParams(int referenceSlices) {
  // The registry defaults (config/params_align.cpp).
  return {.maxShiftPx = 0, .fineSigmaPx = 1.0, .coarseSigmaPx = 20, .suppressCurtaining = true,
          .minPeak = 0.15, .bridgeFlagged = true, .referenceSlices = referenceSlices, .smoothingSlices = 0};
}

void MeasurePairShift(benchmark::State& state) {
  const auto& p = pair();
  const auto params = registrationParams(8);
  for (auto _ : state) benchmark::DoNotOptimize(align::measurePairShift(p.a, p.b, params));
}
BENCHMARK(MeasurePairShift)->Unit(benchmark::kMillisecond);

void RegistrarAdd(benchmark::State& state) {
  const auto& p = pair();
  const int references = int(state.range(0));
  align::Registrar registrar(registrationParams(references));
  for (int i = 0; i <= references; ++i) registrar.add(i % 2 ? p.b : p.a);  // reference full
  int i = references + 1;
  for (auto _ : state) benchmark::DoNotOptimize(registrar.add(i++ % 2 ? p.b : p.a));
}
BENCHMARK(RegistrarAdd)->Arg(8)->Arg(1)->Unit(benchmark::kMillisecond);

void ApplyShift(benchmark::State& state) {
  const auto& p = pair();
  const std::vector<cv::Point2d> shifts{{0, 0}, {0.37, -0.62}};
  const cv::Rect area = align::commonArea(shifts, p.b.size());
  for (auto _ : state) benchmark::DoNotOptimize(align::applyShift(p.b, shifts[1], area));
}
BENCHMARK(ApplyShift)->Unit(benchmark::kMillisecond);

}  // namespace
