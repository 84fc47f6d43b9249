// Gabor filtering of a 2048 x 1536 slice (a typical FIB-SEM frame) over kernel sizes, three ways:
// OpenCV's filter2D (direct below 13 x 13 on float images, its tiled DFT from 13 x 13 up), the
// direct sum of separable filters (cost grows with the kernel's rank), and an explicit whole-image
// DFT. Three kernel shapes: elongated envelope at 30 degrees (full rank), round envelope at 30
// degrees (rank 2) and elongated at 0 degrees (rank 1). Convolution::Auto picks Spatial for rank
// <= 2, else OpenCv.
#include <benchmark/benchmark.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "fibseg/segment/segment.hpp"

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

}  // namespace
