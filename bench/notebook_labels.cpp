// Labels of the notebook method (segment.method = notebook) for single slices, in each slice's own
// frame, for bench/notebook_reference.py to compare with its Python re-implementation:
//   notebook_labels OUT_FOLDER SLICE.png... [--remove-vertical-lines]   (registry defaults otherwise)
// Prints the segmentation's mean time per slice (wall and CPU of the process, reading and
// writing excluded), to compare with the same line of bench/notebook_reference.py.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "fibseg/io/png.hpp"
#include "fibseg/segment/notebook.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: notebook_labels OUT_FOLDER SLICE.png... [--remove-vertical-lines]\n";
    return 2;
  }
  fibseg::segment::NotebookParams params{true, 2.0, 4, false, cv::Size(10, 1), 5, 140};
  for (int i = 2; i < argc; ++i)
    if (!std::strcmp(argv[i], "--remove-vertical-lines")) params.removeVerticalLines = true;
  const std::filesystem::path out = argv[1];
  std::filesystem::create_directories(out);
  const auto cpuSeconds = [] {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + 1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
  };
  double wall = 0, cpu = 0;
  int slices = 0;
  try {
    for (int i = 2; i < argc; ++i) {
      if (!std::strcmp(argv[i], "--remove-vertical-lines")) continue;
      const std::filesystem::path file = argv[i];
      const cv::Mat slice = fibseg::io::readPngGrey(file);
      const auto start = std::chrono::steady_clock::now();
      const double cpuStart = cpuSeconds();
      const auto result = fibseg::segment::segmentLikeNotebook(slice, params);
      wall += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      cpu += cpuSeconds() - cpuStart;
      ++slices;
      fibseg::io::writePng(out / file.filename(), result.labels);
    }
    std::printf("segmentation per slice: %.4f s wall, %.4f s CPU (mean of %d slices)\n", wall / slices, cpu / slices,
                slices);
  } catch (const std::exception& e) {
    std::cerr << "notebook_labels: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
