// Encoding the two PNGs a run writes per slice (segmented/labels_NNNN.png, 8-bit grey, and
// colour_NNNN.png, RGB), 2048 x 1536 px: OpenCV's encoder as fibseg called it before issue 27
// (compression 1: libpng's adaptive filter choice, zlib's default strategy), OpenCV with no
// parameters (SUB filter, level 1, run-length strategy), libspng 0.7.3 with each filter and
// strategy, and a plain encoder of one IDAT by libdeflate (io/png.cpp's, what fibseg uses now),
// for the colour image also as an indexed PNG of the phase indices (what fibseg writes now).
// Counters: bytes per image. Every output is decoded again and compared with the input.
// Images: FIBSEG_PNG_BENCH_RUN=OUT (a run's segmented/labels_0030.png and colour_0030.png), else
// the phantom's truth labels with the registry's default phase values and colours.
// Figures in bench/README.md, End to end, PNG writing.
#include <benchmark/benchmark.h>
#if FIBSEG_HAVE_SPNG
#include <spng.h>
#endif
#include <zlib.h>

#include <opencv2/imgproc.hpp>

#include <opencv2/imgcodecs.hpp>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "fibseg/io/png.hpp"
#include "fibseg/phantom/phantom.hpp"
#include "fibseg/segment/segment.hpp"

namespace {
namespace fs = std::filesystem;

// What fibseg hands io::writePng: the label image (grey) or the colour image (BGR, OpenCV's order).
const cv::Mat& image(bool colour) {
  static const auto load = [](bool wantColour) {
    if (const char* run = std::getenv("FIBSEG_PNG_BENCH_RUN")) {
      const fs::path file = fs::path(run) / "segmented" / (wantColour ? "colour_0030.png" : "labels_0030.png");
      cv::Mat m = cv::imread(file.string(), wantColour ? cv::IMREAD_COLOR : cv::IMREAD_GRAYSCALE);
      if (m.empty()) throw std::runtime_error("cannot read " + file.string());
      return m;
    }
    fibseg::phantom::PhantomParams p;
    p.width = 2048, p.height = 1536, p.dataBarRows = 0, p.slices = 1;
    const cv::Mat truth = fibseg::phantom::Phantom(p).truthLabels(0);
    return wantColour ? fibseg::segment::colourLabels(truth) : fibseg::segment::labelImage(truth, {0, 128, 255});
  };
  static const cv::Mat labels = load(false), bgr = load(true);
  return colour ? bgr : labels;
}

// libspng takes RGB: swapped once, outside the timing.
const cv::Mat& rgbImage(bool colour) {
  static const cv::Mat rgb = [] {
    cv::Mat m;
    cv::cvtColor(image(true), m, cv::COLOR_BGR2RGB);
    return m;
  }();
  return colour ? rgb : image(false);
}

void check(const std::vector<unsigned char>& bytes, const cv::Mat& original) {
  const cv::Mat back = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  if (back.size() != original.size() || back.type() != original.type() || cv::norm(back, original, cv::NORM_INF) != 0)
    throw std::runtime_error("a PNG does not decode to its image");
}

void report(benchmark::State& state, const std::vector<unsigned char>& bytes) {
  state.counters["bytes"] = double(bytes.size());
}

void BM_OpenCvCompression1(benchmark::State& state) {  // fibseg before issue 27
  const cv::Mat& m = image(state.range(0));
  std::vector<unsigned char> bytes;
  for (auto _ : state) cv::imencode(".png", m, bytes, {cv::IMWRITE_PNG_COMPRESSION, 1});
  check(bytes, m);
  report(state, bytes);
}
BENCHMARK(BM_OpenCvCompression1)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_OpenCvNoParameters(benchmark::State& state) {
  const cv::Mat& m = image(state.range(0));
  std::vector<unsigned char> bytes;
  for (auto _ : state) cv::imencode(".png", m, bytes);
  check(bytes, m);
  report(state, bytes);
}
BENCHMARK(BM_OpenCvNoParameters)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_OpenCvStrategy(benchmark::State& state) {  // compression 1 with a zlib strategy
  const cv::Mat& m = image(state.range(0));
  std::vector<unsigned char> bytes;
  for (auto _ : state)
    cv::imencode(".png", m, bytes, {cv::IMWRITE_PNG_COMPRESSION, 1, cv::IMWRITE_PNG_STRATEGY, int(state.range(1))});
  check(bytes, m);
  report(state, bytes);
}
BENCHMARK(BM_OpenCvStrategy)
    ->ArgsProduct({{0, 1}, {cv::IMWRITE_PNG_STRATEGY_FILTERED, cv::IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY,
                            cv::IMWRITE_PNG_STRATEGY_RLE, cv::IMWRITE_PNG_STRATEGY_FIXED}})
    ->Unit(benchmark::kMillisecond);

#if FIBSEG_HAVE_SPNG
// libspng: arguments colour, filter choice, zlib level, zlib strategy.
void BM_Spng(benchmark::State& state) {
  const cv::Mat& m = rgbImage(state.range(0));
  std::vector<unsigned char> bytes;
  for (auto _ : state) {
    spng_ctx* ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
    spng_set_option(ctx, SPNG_FILTER_CHOICE, int(state.range(1)));
    spng_set_option(ctx, SPNG_IMG_COMPRESSION_LEVEL, int(state.range(2)));
    spng_set_option(ctx, SPNG_IMG_COMPRESSION_STRATEGY, int(state.range(3)));
    spng_ihdr ihdr{};
    ihdr.width = m.cols, ihdr.height = m.rows, ihdr.bit_depth = 8;
    ihdr.color_type = m.channels() == 3 ? SPNG_COLOR_TYPE_TRUECOLOR : SPNG_COLOR_TYPE_GRAYSCALE;
    spng_set_ihdr(ctx, &ihdr);
    if (spng_encode_image(ctx, m.data, m.total() * m.elemSize(), SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE))
      throw std::runtime_error("spng_encode_image failed");
    size_t size = 0;
    int error = 0;
    auto* png = static_cast<unsigned char*>(spng_get_png_buffer(ctx, &size, &error));
    bytes.assign(png, png + size);
    std::free(png);
    spng_ctx_free(ctx);
  }
  check(bytes, image(state.range(0)));
  report(state, bytes);
}
BENCHMARK(BM_Spng)
    ->ArgsProduct({{0, 1}, {SPNG_DISABLE_FILTERING, SPNG_FILTER_CHOICE_SUB, SPNG_FILTER_CHOICE_UP, SPNG_FILTER_CHOICE_ALL},
                   {1}, {Z_DEFAULT_STRATEGY, Z_RLE}})
    ->Unit(benchmark::kMillisecond);
#endif

// fibseg's encoder (io::encodePng): arguments colour, libdeflate level, row filter.
void BM_FibsegEncodePng(benchmark::State& state) {
  const cv::Mat& m = image(state.range(0));
  std::vector<unsigned char> bytes;
  const auto filter = static_cast<fibseg::io::PngFilter>(state.range(2));
  for (auto _ : state) bytes = fibseg::io::encodePng(m, int(state.range(1)), filter);
  check(bytes, m);
  report(state, bytes);
}
BENCHMARK(BM_FibsegEncodePng)->ArgsProduct({{0, 1}, {1, 2, 4, 6}, {0, 1, 2}})->Unit(benchmark::kMillisecond);

// The colour image as fibseg writes it now: the phase indices and the phases' colours as an
// indexed PNG (io::encodeIndexedPng). Arguments: libdeflate level, row filter.
void BM_FibsegIndexedColour(benchmark::State& state) {
  // The phase indices behind the label image: its grey values in increasing order.
  cv::Mat indices(image(false).size(), CV_8U, cv::Scalar(0));
  std::vector<std::array<std::uint8_t, 3>> palette;
  const cv::Mat& labels = image(false);
  for (int value = 0, index = 0; value < 256; ++value) {
    const cv::Mat here = labels == value;
    if (cv::countNonZero(here) == 0) continue;
    indices.setTo(index++, here);
    cv::Point at;
    cv::minMaxLoc(here, nullptr, nullptr, nullptr, &at);
    const cv::Vec3b bgr = image(true).at<cv::Vec3b>(at);
    palette.push_back({bgr[2], bgr[1], bgr[0]});
  }
  std::vector<unsigned char> bytes;
  const auto filter = static_cast<fibseg::io::PngFilter>(state.range(1));
  for (auto _ : state) bytes = fibseg::io::encodeIndexedPng(indices, palette, int(state.range(0)), filter);
  check(bytes, image(true));  // decodes to the colour image
  report(state, bytes);
}
BENCHMARK(BM_FibsegIndexedColour)->ArgsProduct({{1, 2, 4, 6}, {0, 1, 2}})->Unit(benchmark::kMillisecond);

}  // namespace
