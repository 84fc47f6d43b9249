// TIFF slices, multi-page stacks and their metadata tags (FEI, Zeiss, ImageJ, resolution).
#include "fibseg/io/metadata.hpp"
#include "fibseg/io/slice_series.hpp"
#include "fibseg/io/tiff.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fibseg;
  const auto file = fuzz::inputFile(data, size, ".tif");
  fuzz::expectingErrors([&] {
    const io::TiffInfo info = io::probeTiff(file);
    for (int page = 0; page < std::min(info.pages, 3); ++page) io::readTiffPage(file, page);
  });
  fuzz::expectingErrors([&] {
    io::SliceSeries series = io::SliceSeries::open(file);
    for (std::size_t z = 0; z < std::min<std::size_t>(series.size(), 3); ++z) series.read(z);
  });
  const std::string text(reinterpret_cast<const char*>(data), size);
  io::pixelSizeFromFeiText(text);
  io::pixelSizeFromZeissText(text);
  io::pixelSizeFromImageJ(text, 1.0);
  return 0;
}
