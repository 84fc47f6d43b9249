// OME-Zarr label stores as `fibseg measure labels.zarr` reads them: the level-0 array's .zarray,
// the store's .zattrs (NGFF scale) and chunk files. The input is split at "\n=====\n" into the
// .zarray, the .zattrs and up to four chunk files (0.0.0, 1.0.0, 0.1.0, 0.0.1).
#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "fibseg/io/zarr.hpp"
#include "fibseg/pipeline/zarr_label_source.hpp"
#include "fuzz_input.hpp"

namespace {

std::vector<std::string> parts(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size), separator = "\n=====\n";
  std::vector<std::string> out;
  for (std::size_t start = 0;;) {
    const std::size_t end = text.find(separator, start);
    out.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return out;
    start = end + separator.size();
  }
}

void write(const std::filesystem::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(bytes.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fibseg;
  namespace fs = std::filesystem;
  const fs::path store = fuzz::inputFile(data, 0, ".txt").parent_path() / "labels.zarr";
  fs::remove_all(store);
  fs::create_directories(store / "0");
  const std::vector<std::string> input = parts(data, size);
  const char* chunkNames[] = {"0.0.0", "1.0.0", "0.1.0", "0.0.1"};
  write(store / "0" / ".zarray", input[0]);
  if (input.size() > 1) write(store / ".zattrs", input[1]);
  for (std::size_t c = 2; c < input.size() && c < 6; ++c) write(store / "0" / chunkNames[c - 2], input[c]);
  fuzz::expectingErrors([&] {
    const pipeline::ZarrLabelSource source(store, {{"pore", 0}, {"solid", 1}, {"other", 2}}, std::nullopt);
    // Read as the measure stage reads a block under its memory limit: here at most 64 MB of
    // slices and chunks (the metadata above is fuzzed whatever the sizes it declares).
    const io::ZarrArrayInfo info = io::readZarrArrayInfo(store / "0");
    const double sliceBytes = double(info.shape[1]) * info.shape[2];
    const double chunkBytes = double(info.chunks[0]) * info.chunks[1] * info.chunks[2];
    const int slices = std::min(info.shape[0], 2);
    if (sliceBytes * std::max(slices, 1) > 64e6 || chunkBytes > 64e6) return;
    source.readSlices(0, slices);
    if (info.shape[0] > 0) source.readSlices(info.shape[0] - 1, info.shape[0]);
  });
  return 0;
}
