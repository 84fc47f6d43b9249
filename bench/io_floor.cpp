// The I/O floor of `fibseg run`: read every slice and write every output a run writes (label PNG,
// colour PNG, 3D label TIFF) with the same libraries and the same parallelism, computing nothing
// but one fixed threshold: PNG and deflate speed depend on content, so the outputs must look like
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
  int next = 0;
  tbb::parallel_pipeline(
      2 * tbb::info::default_concurrency(),
      tbb::make_filter<void, int>(tbb::filter_mode::serial_in_order,
                                  [&](tbb::flow_control& fc) {
                                    if (next >= slices) fc.stop();
                                    return next++;
                                  }) &
          tbb::make_filter<int, cv::Mat>(tbb::filter_mode::parallel,
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
                                           return eight;
                                         }) &
          tbb::make_filter<cv::Mat, void>(tbb::filter_mode::serial_in_order,
                                          [&](const cv::Mat& eight) { labels.append(eight); }));
  labels.finish();
  return 0;
}
