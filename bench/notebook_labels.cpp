// Labels of the notebook method (segment.method = notebook) for single slices, in each slice's own
// frame, for bench/notebook_reference.py to compare with its Python re-implementation:
//   notebook_labels OUT_FOLDER SLICE.png... [--remove-vertical-lines]   (registry defaults otherwise)
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
  try {
    for (int i = 2; i < argc; ++i) {
      if (!std::strcmp(argv[i], "--remove-vertical-lines")) continue;
      const std::filesystem::path file = argv[i];
      const auto result = fibseg::segment::segmentLikeNotebook(fibseg::io::readPngGrey(file), params);
      fibseg::io::writePng(out / file.filename(), result.labels);
    }
  } catch (const std::exception& e) {
    std::cerr << "notebook_labels: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
