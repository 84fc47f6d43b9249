// Gabor filtering of a 2048 x 1536 slice (a typical FIB-SEM frame) over kernel sizes, three ways:
// OpenCV's filter2D (direct below 13 x 13 on float images, its tiled DFT from 13 x 13 up), the
// direct sum of separable filters (cost grows with the kernel's rank), and an explicit whole-image
// DFT. Three kernel shapes: elongated envelope at 30 degrees (full rank), round envelope at 30
// degrees (rank 2) and elongated at 0 degrees (rank 1). Convolution::Auto picks Spatial for rank
// <= 2, else OpenCv.
#include <benchmark/benchmark.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <random>

#include "fibseg/phantom/phantom.hpp"
#include "fibseg/segment/segment.hpp"
#include "fibseg/segment/tune.hpp"

namespace {

using fibseg::segment::Convolution;

const cv::Mat& slice() {
  static const cv::Mat image = [] {
    cv::Mat noise(1536, 2048, CV_32F);
    cv::RNG(1).fill(noise, cv::RNG::UNIFORM, 0, 255);
    cv::GaussianBlur(noise, noise, cv::Size(0, 0), 2);
    return noise;
  }();
  return image;
}

enum Shape { FullRank, RoundRank2, AxisRank1 };

void gabor(benchmark::State& state) {
  const int kernel = int(state.range(0));
  const auto method = Convolution(state.range(1));
  const auto shape = Shape(state.range(2));
  const fibseg::segment::GaborParams params{kernel, kernel / 6.0, shape == AxisRank1 ? 0.0 : 30.0, kernel / 2.0,
                                            shape == RoundRank2 ? 1.0 : 0.5, 0};
  const cv::Mat& input = slice();
  for (auto _ : state) {
    cv::Mat response = fibseg::segment::gaborResponse(input, params, method);
    benchmark::DoNotOptimize(response.data);
  }
  state.counters["Mpx/s"] =
      benchmark::Counter(double(input.total()) * double(state.iterations()) / 1e6, benchmark::Counter::kIsRate);
  state.counters["rank"] = fibseg::segment::separableRank(fibseg::segment::gaborKernel(params));
  state.counters["cv_threads"] = cv::getNumThreads();
}

void arguments(benchmark::internal::Benchmark* b) {
  b->ArgNames({"kernel", "method", "shape"});
  for (int k : {7, 11, 13, 31, 61}) {
    for (auto m : {Convolution::OpenCv, Convolution::Spatial, Convolution::Dft}) b->Args({k, int(m), FullRank});
    for (int shape : {RoundRank2, AxisRank1})
      for (auto m : {Convolution::OpenCv, Convolution::Spatial}) b->Args({k, int(m), shape});
  }
}

BENCHMARK(gabor)->Apply(arguments)->Unit(benchmark::kMillisecond)->UseRealTime();

// `fibseg tune` with the default sweep (288 parameter sets) on one phantom slice of the given
// width (4:3 frame, data bar cropped) annotated at 1% of its pixels: what a user waits for.
void tuneDefaultSweep(benchmark::State& state) {
  fibseg::phantom::PhantomParams p;
  p.width = int(state.range(0));
  p.height = p.width * 3 / 4;
  p.slices = 1;
  const fibseg::phantom::Phantom ph(p);
  const cv::Mat raw = ph.rawSlice(0);
  const cv::Mat slice = raw(cv::Rect(0, 0, raw.cols, ph.contentHeight())).clone();
  const cv::Mat truth = ph.truthLabels(0);
  cv::Mat annotation(truth.size(), CV_8U, cv::Scalar(fibseg::segment::kUnknown));
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int y = 0; y < truth.rows; ++y)
    for (int x = 0; x < truth.cols; ++x)
      if (unit(rng) < 0.01) annotation.at<uchar>(y, x) = truth.at<uchar>(y, x);
  const cv::Mat cam = fibseg::segment::camMask(slice, fibseg::segment::otsuThreshold(slice));
  const auto sweep = fibseg::segment::defaultGaborSweep();
  for (auto _ : state) {
    auto result = fibseg::segment::tuneGabor(slice, cam, annotation, sweep);
    benchmark::DoNotOptimize(result.best.score);
  }
  state.counters["sets"] = double(fibseg::segment::expandSweep(sweep).size());
}
BENCHMARK(tuneDefaultSweep)->Arg(512)->Arg(2048)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);

}  // namespace
