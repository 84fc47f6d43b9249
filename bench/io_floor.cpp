// The I/O floor of `fibseg run`: read every slice and write every output a run writes with its
// defaults (label PNG, colour PNG, 3D label TIFF, aligned greyscale TIFF) with the same libraries
// and the same parallelism, computing nothing but one fixed threshold. (Not the run's stage cache,
// cache/corrected.tif, nor its small files: CSVs, previews, report.) PNG and deflate speed depend on content, so the outputs must look like
// labels (three flat phases), not like grey slices. bench/run reports fibseg's time as a multiple.
//   io_floor INPUT_FOLDER OUTPUT_FOLDER
#include <tbb/info.h>
#include <tbb/parallel_pipeline.h>

#include <cstdio>
#include <iostream>
#include <opencv2/imgproc.hpp>

#include "fibseg/core/atomic_file.hpp"
#include "fibseg/io/png.hpp"
#include "fibseg/io/slice_series.hpp"
#include "fibseg/io/tiff.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: io_floor INPUT_FOLDER OUTPUT_FOLDER\n";
    return 2;
  }
  using namespace fibseg;
  const auto series = io::SliceSeries::open(argv[1]);
  const std::filesystem::path out = argv[2];
  ensureWritableFolder(out);
  const int slices = int(series.size());
  io::TiffStackWriter labels(out / "labels.tif", {.width = series.width(), .height = series.height(), .bitDepth = 8,
                                                   .slices = slices, .deflate = true});
  io::TiffStackWriter aligned(out / "aligned.tif", {.width = series.width(), .height = series.height(),
                                                     .bitDepth = series.bitDepth(), .slices = slices});
  struct Item {
    cv::Mat grey, labels;
  };
  int next = 0;
  tbb::parallel_pipeline(
      2 * tbb::info::default_concurrency(),
      tbb::make_filter<void, int>(tbb::filter_mode::serial_in_order,
                                  [&](tbb::flow_control& fc) {
                                    if (next >= slices) fc.stop();
                                    return next++;
                                  }) &
          tbb::make_filter<int, Item>(tbb::filter_mode::parallel,
                                         [&](int z) {
                                           const cv::Mat slice = series.read(z);
                                           const double mid = slice.depth() == CV_16U ? 32768 : 128;
                                           cv::Mat eight = (slice > mid) / 255 + (slice > mid / 2) / 255, colour;
                                           cv::cvtColor(eight * 100, colour, cv::COLOR_GRAY2BGR);
                                           char name[64];
                                           std::snprintf(name, sizeof name, "labels_%04d.png", z);
                                           io::writePng(out / name, eight);
                                           std::snprintf(name, sizeof name, "colour_%04d.png", z);
                                           io::writePng(out / name, colour);
                                           return Item{slice, eight};
                                         }) &
          tbb::make_filter<Item, void>(tbb::filter_mode::serial_in_order, [&](const Item& item) {
            aligned.append(item.grey);
            labels.append(item.labels);
          }));
  labels.finish();
  aligned.finish();
  return 0;
}
