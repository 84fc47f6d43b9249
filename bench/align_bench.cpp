// Registration speed on one 2048 x 1536 pair (phantom slices 0 and 1, no data bar), 8-bit.
// Second argument: align.register_scale (0 = automatic, 2 here; 1 = full size).
//   MeasurePairShift/s   one pair from scratch: both spectra, correlation, the re-match on the
//                        shared content, Newton refinement
//   Prepare/s            the per-slice part (shrink, band-pass, FFT) that the pipeline runs in
//                        parallel for several slices
//   RegistrarAdd/r/s     the part that runs in order, per slice: pair with the previous slice +
//                        running reference of r aligned slices (r warps, mean, one more FFT)
//   PairWithPrevious/s   the pair with the previous slice alone (the pipeline makes it in parallel)
//   RegistrarAddWithPair/r/s  what is left in order when the pair was made beforehand: the
//                        running reference (r Fourier moves, one whitening, one correlation)
//   RegistrarFinalise/n  the solve for every slice's shift (and the comparison offset) once n
//                        slices were added (512 x 384 cuts of the pair, so setting up is quick)
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

align::RegistrationParams registrationParams(int referenceSlices, int scale) {
  // The registry defaults (config/params_align.cpp).
  return {.maxShiftPx = 0, .fineSigmaPx = 1.0, .coarseSigmaPx = 20, .suppressCurtaining = true,
          .minQuality = 1.5, .bridgeFlagged = true, .referenceSlices = referenceSlices, .smoothingSlices = 0,
          .scale = scale};
}

void MeasurePairShift(benchmark::State& state) {
  const auto& p = pair();
  const auto params = registrationParams(8, int(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(align::measurePairShift(p.a, p.b, params));
}
BENCHMARK(MeasurePairShift)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void Prepare(benchmark::State& state) {
  const auto& p = pair();
  const align::Registrar registrar(registrationParams(8, int(state.range(0))), p.a.size());
  for (auto _ : state) benchmark::DoNotOptimize(registrar.prepare(p.a));
}
BENCHMARK(Prepare)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void RegistrarAdd(benchmark::State& state) {
  const auto& p = pair();
  const int references = int(state.range(0));
  align::Registrar registrar(registrationParams(references, int(state.range(1))), p.a.size());
  const auto a = registrar.prepare(p.a), b = registrar.prepare(p.b);
  for (int i = 0; i <= references; ++i) registrar.add(i % 2 ? *b : *a);  // reference full
  int i = references + 1;
  for (auto _ : state) benchmark::DoNotOptimize(registrar.add(i++ % 2 ? *b : *a));
}
BENCHMARK(RegistrarAdd)->Args({8, 0})->Args({2, 0})->Args({1, 0})->Args({8, 1})->Unit(benchmark::kMillisecond);

void PairWithPrevious(benchmark::State& state) {
  const auto& p = pair();
  const align::Registrar registrar(registrationParams(8, int(state.range(0))), p.a.size());
  const auto a = registrar.prepare(p.a), b = registrar.prepare(p.b);
  for (auto _ : state) benchmark::DoNotOptimize(registrar.pairWithPrevious(*a, *b));
}
BENCHMARK(PairWithPrevious)->Arg(0)->Unit(benchmark::kMillisecond);

void RegistrarAddWithPair(benchmark::State& state) {
  const auto& p = pair();
  const int references = int(state.range(0));
  align::Registrar registrar(registrationParams(references, int(state.range(1))), p.a.size());
  const auto a = registrar.prepare(p.a), b = registrar.prepare(p.b);
  const align::PairShift ab = registrar.pairWithPrevious(*a, *b), ba = registrar.pairWithPrevious(*b, *a);
  for (int i = 0; i <= references; ++i) registrar.add(i % 2 ? *b : *a);  // reference full
  int i = references + 1;
  for (auto _ : state) {
    const bool odd = i++ % 2;
    benchmark::DoNotOptimize(registrar.add(odd ? *b : *a, odd ? &ab : &ba));
  }
}
BENCHMARK(RegistrarAddWithPair)->Args({8, 0})->Unit(benchmark::kMillisecond);

void RegistrarFinalise(benchmark::State& state) {
  const auto& p = pair();
  const cv::Rect cut(0, 0, 512, 384);
  align::Registrar registrar(registrationParams(8, 0), cut.size());
  const auto a = registrar.prepare(p.a(cut)), b = registrar.prepare(p.b(cut));
  for (int i = 0; i < int(state.range(0)); ++i) registrar.add(i % 2 ? *b : *a);
  for (auto _ : state) benchmark::DoNotOptimize(registrar.finalise());
}
BENCHMARK(RegistrarFinalise)->Arg(48)->Arg(500)->Unit(benchmark::kMillisecond);

void ApplyShift(benchmark::State& state) {
  const auto& p = pair();
  const std::vector<cv::Point2d> shifts{{0, 0}, {0.37, -0.62}};
  const cv::Rect area = align::commonArea(shifts, p.b.size());
  for (auto _ : state) benchmark::DoNotOptimize(align::applyShift(p.b, shifts[1], area));
}
BENCHMARK(ApplyShift)->Unit(benchmark::kMillisecond);

}  // namespace
