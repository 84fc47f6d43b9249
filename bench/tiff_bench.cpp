// Writing the stacks a run writes, 2048 x 1536 px: the deflated label TIFF at several deflate
// levels (labels.tif: three flat phases, as a segmentation looks) and the uncompressed 8-bit
// greyscale stack (aligned.tif, cache/corrected.tif). Level -1 is libtiff's default (zlib's 6),
// what fibseg wrote before issue 27. Counters: bytes written per slice.
// Figures in bench/README.md, End to end, TIFF writing.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <filesystem>

#include "fibseg/io/tiff.hpp"
#include "fibseg/phantom/phantom.hpp"

namespace {
namespace fs = std::filesystem;
constexpr int kSlices = 8;

const std::vector<cv::Mat>& phantomSlices(bool labels) {
  static const auto make = [](bool wantLabels) {
    fibseg::phantom::PhantomParams p;
    p.width = 2048;
    p.height = 1536;
    p.dataBarRows = 0;
    p.slices = kSlices;
    const fibseg::phantom::Phantom ph(p);
    std::vector<cv::Mat> out;
    for (int z = 0; z < kSlices; ++z) out.push_back(wantLabels ? ph.truthLabels(z) : ph.rawSlice(z));
    return out;
  };
  static const std::vector<cv::Mat> l = make(true), g = make(false);
  return labels ? l : g;
}

void writeStack(benchmark::State& state, bool labels, bool deflate, int level) {
  const auto& slices = phantomSlices(labels);
  const fs::path path = fs::temp_directory_path() / ("fibseg_tiff_bench_" + std::to_string(::getpid()) + ".tif");
  fibseg::io::TiffStackOptions o{.width = slices[0].cols, .height = slices[0].rows, .bitDepth = 8,
                                 .slices = kSlices, .pixelSizeNm = 10, .deflate = deflate, .deflateLevel = level};
  for (auto _ : state) {
    fibseg::io::TiffStackWriter writer(path, o);
    for (const auto& s : slices) writer.append(s);
    writer.finish();
  }
  state.counters["bytes_per_slice"] = double(fs::file_size(path)) / kSlices;
  state.counters["slices/s"] = benchmark::Counter(double(kSlices) * state.iterations(), benchmark::Counter::kIsRate);
  fs::remove(path);
}

void BM_WriteLabelsDeflate(benchmark::State& state) { writeStack(state, true, true, int(state.range(0))); }
BENCHMARK(BM_WriteLabelsDeflate)->Arg(-1)->Arg(1)->Arg(3)->Arg(6)->Arg(9)->Unit(benchmark::kMillisecond);

void BM_WriteGreyUncompressed(benchmark::State& state) { writeStack(state, false, false, 1); }
BENCHMARK(BM_WriteGreyUncompressed)->Unit(benchmark::kMillisecond);

void BM_WriteGreyDeflate(benchmark::State& state) { writeStack(state, false, true, int(state.range(0))); }
BENCHMARK(BM_WriteGreyDeflate)->Arg(1)->Arg(6)->Unit(benchmark::kMillisecond);

}  // namespace
