// Per-slice intensity corrections on a 2048 x 1536 phantom slice (8- and 16-bit): what each step
// costs in the pipeline's streaming pass. Figures in bench/README.md, section "Intensity".
#include <benchmark/benchmark.h>

#include <array>
#include <opencv2/imgproc.hpp>

#include "fibseg/core/histogram.hpp"
#include "fibseg/intensity/intensity.hpp"
#include "fibseg/intensity/nl_means.hpp"
#include "fibseg/phantom/phantom.hpp"

namespace {

using namespace fibseg::intensity;

const cv::Mat& slice(int bitDepth) {
  static const auto make = [](int depth) {
    fibseg::phantom::PhantomParams p;
    p.width = 2048;
    p.height = 1536 + 110;  // 1536 rows of content below which the data bar sits
    p.dataBarRows = 110;
    p.slices = 2;
    p.bitDepth = depth;
    const fibseg::phantom::Phantom ph(p);
    return ph.rawSlice(1)(cv::Rect(0, 0, p.width, ph.contentHeight())).clone();
  };
  static const cv::Mat s8 = make(8), s16 = make(16);
  return bitDepth == 8 ? s8 : s16;
}

IntensityParams allSteps() {
  IntensityParams p;
  p.brightness = {BrightnessMethod::Percentiles, BrightnessReference::StackMedian, 5, 95};
  p.shading = {ShadingMethod::Polynomial, ShadingMode::Divide, 0, 2};
  p.curtaining = {true, 8, 128};
  p.enhance = {false, 2, 128, 1.0};
  return p;
}

void BM_MeasureBrightness(benchmark::State& state) {
  const cv::Mat& s = slice(int(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(measureBrightness(s));
}
BENCHMARK(BM_MeasureBrightness)->Arg(8)->Arg(16)->Unit(benchmark::kMillisecond);

void BM_EqualiseBrightness(benchmark::State& state) {
  const cv::Mat& s = slice(int(state.range(0)));
  const BrightnessStats stats = measureBrightness(s);
  BrightnessStats reference = stats;
  for (double& q : reference.quantiles) q = 0.9 * q + 10;
  const BrightnessParams params{state.range(1) ? BrightnessMethod::Histogram : BrightnessMethod::Percentiles,
                                BrightnessReference::StackMedian, 5, 95};
  for (auto _ : state) benchmark::DoNotOptimize(equaliseBrightness(s, stats, reference, params));
  state.SetLabel(state.range(1) ? "histogram" : "percentiles");
}
BENCHMARK(BM_EqualiseBrightness)->Args({8, 0})->Args({8, 1})->Args({16, 0})->Args({16, 1})->Unit(benchmark::kMillisecond);

void BM_CorrectShading(benchmark::State& state) {
  const cv::Mat& s = slice(int(state.range(0)));
  const ShadingParams params{state.range(1) ? ShadingMethod::Gaussian : ShadingMethod::Polynomial, ShadingMode::Divide,
                             0, 2};
  for (auto _ : state) benchmark::DoNotOptimize(correctShading(s, params));
  state.SetLabel(state.range(1) ? "gaussian" : "polynomial order 2");
}
BENCHMARK(BM_CorrectShading)->Args({8, 0})->Args({8, 1})->Args({16, 0})->Unit(benchmark::kMillisecond);

void BM_RemoveCurtaining(benchmark::State& state) {
  const cv::Mat& s = slice(int(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(removeCurtaining(s, {true, 8, 128}));
}
BENCHMARK(BM_RemoveCurtaining)->Arg(8)->Arg(16)->Unit(benchmark::kMillisecond);

void BM_Clahe(benchmark::State& state) {
  const cv::Mat& s = slice(int(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(enhanceContrast(s, {true, 2, 128, 1.0}));
}
BENCHMARK(BM_Clahe)->Arg(8)->Arg(16)->Unit(benchmark::kMillisecond);

void BM_Gamma(benchmark::State& state) {
  const cv::Mat& s = slice(int(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(enhanceContrast(s, {false, 2, 128, 0.8}));
}
BENCHMARK(BM_Gamma)->Arg(8)->Arg(16)->Unit(benchmark::kMillisecond);

// The notebook's denoising (skimage fast mode, h 0.04, patch 5, distance 6): 91 shifts, each an
// integral image and one pass over the padded slice; parallel over the shifts.
void BM_NonLocalMeans(benchmark::State& state) {
  const cv::Mat& s = slice(int(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(nonLocalMeansUnitScale(s, {0.04, 5, 6}));
}
BENCHMARK(BM_NonLocalMeans)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime();

// Equalise (percentiles) + polynomial shading + curtaining, with the before/after statistics.
void BM_CorrectIntensityChain(benchmark::State& state) {
  const cv::Mat& s = slice(int(state.range(0)));
  const BrightnessStats reference = measureBrightness(s);
  const IntensityParams params = allSteps();
  for (auto _ : state) benchmark::DoNotOptimize(correctIntensity(s, reference, params));
}
BENCHMARK(BM_CorrectIntensityChain)->Arg(8)->Arg(16)->Unit(benchmark::kMillisecond);

// The 8-bit grey-level counts every slice needs (brightness statistics, Otsu): fibseg's four
// sub-histograms against OpenCV's calcHist, the library call that could serve instead.
void BM_GreyCounts(benchmark::State& state) {
  const cv::Mat& s = slice(8);
  const bool opencv = state.range(0) != 0;
  for (auto _ : state) {
    if (opencv) {
      cv::Mat hist;
      const int channels[] = {0}, bins[] = {256};
      const float range[] = {0, 256};
      const float* ranges[] = {range};
      cv::calcHist(&s, 1, channels, cv::Mat(), hist, 1, bins, ranges);
      benchmark::DoNotOptimize(hist.data);
    } else {
      std::array<std::uint64_t, 256> counts{};
      fibseg::addCounts8u(s, counts);
      benchmark::DoNotOptimize(counts.data());
    }
  }
  state.SetLabel(opencv ? "cv::calcHist" : "addCounts8u");
}
BENCHMARK(BM_GreyCounts)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace
