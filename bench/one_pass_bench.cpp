// The per-slice steps of a run's one pass (align + correct + segment + write, registry defaults)
// on one 2048 x 1536 8-bit phantom slice, each on its own: where a slice's CPU goes. Where a step
// was changed for issue 27 the way it was done before is measured beside it (…Before).
// Run one-threaded for CPU per step: taskset -c 1 build/bench/one_pass_bench
// Figures in bench/README.md, End to end, issue 27, third session.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <filesystem>

#include "fibseg/align/align.hpp"
#include "fibseg/config/param_set.hpp"
#include "fibseg/intensity/denoise.hpp"
#include "fibseg/intensity/intensity.hpp"
#include "fibseg/io/png.hpp"
#include "fibseg/io/tiff.hpp"
#include "fibseg/phantom/phantom.hpp"
#include "fibseg/pipeline/previews.hpp"
#include "fibseg/segment/segment.hpp"

namespace {

using namespace fibseg;
namespace fs = std::filesystem;

struct Slice {
  cv::Mat raw, aligned, corrected, denoised, labels, labelImage;
  intensity::BrightnessStats reference;
};

const config::ParamSet& defaults() {
  static const config::ParamSet p = config::ParamSet::defaults();
  return p;
}

// A registration-like sub-pixel shift, and the common area of a drift of a few pixels.
const cv::Point2d kShift{1.37, -2.62};
cv::Rect area(cv::Size size) { return align::commonArea({{0, 0}, kShift, {-3.2, 2.1}}, size); }

const Slice& slice() {
  static const Slice s = [] {
    phantom::PhantomParams params;
    params.width = 2048;
    params.height = 1536;
    params.dataBarRows = 0;
    params.slices = 1;
    Slice out;
    out.raw = phantom::Phantom(params).rawSlice(0);
    out.aligned = align::applyShift(out.raw, kShift, area(out.raw.size()));
    out.reference = intensity::measureBrightness(out.aligned);
    out.corrected = intensity::correctIntensity(out.aligned, out.reference, config::intensityParamsFrom(defaults())).image;
    out.denoised = intensity::denoise(out.corrected, config::denoiseParamsFrom(defaults()));
    out.labels = segment::segmentSlice(out.corrected, out.denoised, config::segmentParamsFrom(defaults()), -1).labels;
    out.labelImage = segment::labelImage(out.labels, {0, 1, 2});
    return out;
  }();
  return s;
}

// The slice and its steps made before any timing (the phantom takes a second to render).
[[maybe_unused]] const bool kMadeBeforeTiming = (slice(), true);

fs::path scratch(const std::string& name) {
  return fs::temp_directory_path() / ("fibseg_one_pass_bench_" + std::to_string(::getpid()) + "_" + name);
}

void ReadRawTiff(benchmark::State& state) {
  const fs::path file = scratch("raw.tif");
  io::writeTiffStack(file, {slice().raw}, {});
  for (auto _ : state) benchmark::DoNotOptimize(io::readTiffPage(file, 0));
  fs::remove(file);
}
BENCHMARK(ReadRawTiff)->Unit(benchmark::kMillisecond);

void ShiftBefore(benchmark::State& state) {  // OpenCV's warpAffine, bicubic
  const cv::Mat& raw = slice().raw;
  const cv::Rect a = area(raw.size());
  for (auto _ : state) {
    cv::Mat out;
    cv::warpAffine(raw, out, cv::Matx23d(1, 0, a.x + kShift.x, 0, 1, a.y + kShift.y), a.size(),
                   cv::INTER_CUBIC | cv::WARP_INVERSE_MAP, cv::BORDER_REPLICATE);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(ShiftBefore)->Unit(benchmark::kMillisecond);

void Shift(benchmark::State& state) {
  const cv::Mat& raw = slice().raw;
  for (auto _ : state) benchmark::DoNotOptimize(align::applyShift(raw, kShift, area(raw.size())));
}
BENCHMARK(Shift)->Unit(benchmark::kMillisecond);

void CorrectIntensity(benchmark::State& state) {
  const auto params = config::intensityParamsFrom(defaults());
  for (auto _ : state) benchmark::DoNotOptimize(intensity::correctIntensity(slice().aligned, slice().reference, params));
}
BENCHMARK(CorrectIntensity)->Unit(benchmark::kMillisecond);

void GreyHistogram(benchmark::State& state) {
  for (auto _ : state) {
    segment::GreyHistogram h(8);
    h.add(slice().corrected);
    benchmark::DoNotOptimize(h);
  }
}
BENCHMARK(GreyHistogram)->Unit(benchmark::kMillisecond);

void Denoise(benchmark::State& state) {
  const auto params = config::denoiseParamsFrom(defaults());
  for (auto _ : state) benchmark::DoNotOptimize(intensity::denoise(slice().corrected, params));
}
BENCHMARK(Denoise)->Unit(benchmark::kMillisecond);

void OtsuGaborThreshold(benchmark::State& state) {
  const auto params = config::segmentParamsFrom(defaults());
  for (auto _ : state) benchmark::DoNotOptimize(segment::segmentSlice(slice().corrected, slice().denoised, params, -1));
}
BENCHMARK(OtsuGaborThreshold)->Unit(benchmark::kMillisecond);

void FractionsAndLabelImage(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(segment::phaseFractions(slice().labels, 3));
    benchmark::DoNotOptimize(segment::labelImage(slice().labels, {0, 1, 2}));
  }
}
BENCHMARK(FractionsAndLabelImage)->Unit(benchmark::kMillisecond);

const std::vector<std::array<std::uint8_t, 3>> kColours{{31, 119, 180}, {255, 127, 14}, {200, 200, 200}};

void LabelAndColourPngsBefore(benchmark::State& state) {  // two encodings
  const fs::path labels = scratch("labels.png"), colour = scratch("colour.png");
  for (auto _ : state) {
    io::writePng(labels, slice().labelImage);
    io::writeIndexedPng(colour, slice().labels, kColours);
  }
  fs::remove(labels), fs::remove(colour);
}
BENCHMARK(LabelAndColourPngsBefore)->Unit(benchmark::kMillisecond);

void LabelAndColourPngs(benchmark::State& state) {
  const fs::path labels = scratch("labels.png"), colour = scratch("colour.png");
  for (auto _ : state) io::writeGreyAndIndexedPng(labels, colour, slice().labelImage, kColours);
  fs::remove(labels), fs::remove(colour);
}
BENCHMARK(LabelAndColourPngs)->Unit(benchmark::kMillisecond);

// The two per-slice previews (<= 100 slices: every slice), 512 px wide: the grey one shrunk by
// area averaging (before: cv::resize INTER_AREA), the label one by nearest neighbour; both PNGs.
void PreviewGreyShrinkBefore(benchmark::State& state) {
  const cv::Mat& corrected = slice().corrected;
  const cv::Size size(512, int(std::lround(double(corrected.rows) * 512 / corrected.cols)));
  for (auto _ : state) {
    cv::Mat small;
    cv::resize(corrected, small, size, 0, 0, cv::INTER_AREA);
    benchmark::DoNotOptimize(small);
  }
}
BENCHMARK(PreviewGreyShrinkBefore)->Unit(benchmark::kMillisecond);

void PreviewGreyShrink(benchmark::State& state) {
  const cv::Mat& corrected = slice().corrected;
  for (auto _ : state) benchmark::DoNotOptimize(pipeline::previewImage(corrected, 512));
}
BENCHMARK(PreviewGreyShrink)->Unit(benchmark::kMillisecond);

void Previews(benchmark::State& state) {
  const Slice& s = slice();
  const fs::path grey = scratch("grey.png"), labels = scratch("labels_preview.png");
  for (auto _ : state) {
    io::writePng(grey, pipeline::previewImage(s.corrected, 512));
    io::writePng(labels, pipeline::previewImage(s.labels, 512, true));
  }
  fs::remove(grey), fs::remove(labels);
}
BENCHMARK(Previews)->Unit(benchmark::kMillisecond);

// The serial stage: one page of labels.tif (deflate level 3) and of aligned.tif (uncompressed).
void TiffPages(benchmark::State& state) {
  constexpr int kPages = 8;
  const fs::path labels = scratch("labels.tif"), grey = scratch("aligned.tif");
  const cv::Size size = slice().labels.size();
  for (auto _ : state) {
    io::TiffStackWriter l(labels, {.width = size.width, .height = size.height, .slices = kPages, .deflate = true});
    io::TiffStackWriter g(grey, {.width = size.width, .height = size.height, .slices = kPages});
    for (int z = 0; z < kPages; ++z) {
      l.append(slice().labelImage);
      g.append(slice().aligned);
    }
    l.finish(), g.finish();
  }
  state.SetItemsProcessed(state.iterations() * kPages);  // items/s = pages of both stacks per second
  fs::remove(labels), fs::remove(grey);
}
BENCHMARK(TiffPages)->Unit(benchmark::kMillisecond);

}  // namespace
