#include "fibseg/io/slice_series.hpp"

#include <algorithm>

#include "fibseg/core/error.hpp"
#include "fibseg/core/natural_sort.hpp"
#include "fibseg/io/png.hpp"
#include "fibseg/io/tiff.hpp"

namespace fibseg::io {
namespace fs = std::filesystem;

namespace {
std::string extensionOf(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}
bool isTiff(const fs::path& path) {
  const std::string ext = extensionOf(path);
  return ext == ".tif" || ext == ".tiff";
}
struct Header {
  int width, height, bitDepth;
  std::optional<double> pixelSizeNm;
  int pages;
  std::optional<int> dataBarRows;
};
Header headerOf(const fs::path& file) {
  if (isTiff(file)) {
    const TiffInfo info = probeTiff(file);
    return {info.width, info.height, info.bitDepth, info.pixelSizeNm, info.pages, info.dataBarRows};
  }
  const PngHeader png = probePng(file);
  if (png.bitDepth != 8 && png.bitDepth != 16)
    throw Error(file.string() + ": " + std::to_string(png.bitDepth) + "-bit PNG; expected 8- or 16-bit");
  return {png.width, png.height, png.bitDepth, std::nullopt, 1};
}
}  // namespace

bool isSliceImageFile(const fs::path& path) {
  const std::string ext = extensionOf(path);
  return ext == ".tif" || ext == ".tiff" || ext == ".png";
}

SliceSeries SliceSeries::open(const fs::path& path, const SliceSelection& selection) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(path.string() + ": no such file or folder (input.path)");
  SliceSeries series;
  if (fs::is_directory(path, ec)) {
    std::vector<std::string> names;
    bool anyFile = false;
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      if (!entry.is_regular_file()) continue;
      anyFile = true;
      const std::string name = entry.path().filename().string();
      const std::string ext = extensionOf(entry.path());
      const bool wanted = selection.format == "png" ? ext == ".png"
                          : selection.format == "tif" ? ext == ".tif" || ext == ".tiff"
                                                      : isSliceImageFile(entry.path());
      if (wanted && name.front() != '.') names.push_back(name);
    }
    if (ec) throw Error(path.string() + ": cannot list folder (" + ec.message() + ")");
    const std::string expected = selection.format == "png" ? ".png files (input.format = png)"
                                 : selection.format == "tif" ? ".tif or .tiff files (input.format = tif)"
                                                             : ".tif, .tiff or .png files";
    if (names.empty())
      throw Error(path.string() + (anyFile ? ": no slice images; expected " + expected
                                           : ": folder is empty; expected " + expected));
    const std::string& part = selection.preferNamesContaining;
    if (!part.empty() && std::any_of(names.begin(), names.end(), [&](const std::string& n) { return n.find(part) != std::string::npos; }))
      std::erase_if(names, [&](const std::string& n) { return n.find(part) == std::string::npos; });
    naturalSort(names);
    for (const auto& name : names) series.sources_.push_back({path / name, -1});
  } else {
    if (!isTiff(path)) throw Error(path.string() + ": expected a folder of slices or a multi-page TIFF");
    const TiffInfo info = probeTiff(path);
    for (int page = 0; page < info.pages; ++page) series.sources_.push_back({path, page});
  }

  // Validate every slice against the first, so a bad file is named before hours of work.
  const Header first = headerOf(series.sources_.front().file);
  series.width_ = first.width;
  series.height_ = first.height;
  series.bitDepth_ = first.bitDepth;
  series.pixelSizeNm_ = first.pixelSizeNm;
  series.dataBarRows_ = first.dataBarRows;
  if (series.sources_.front().page >= 0) return series;  // pages are checked as they are read
  for (std::size_t i = 1; i < series.sources_.size(); ++i) {
    const Header h = headerOf(series.sources_[i].file);
    const std::string name = series.sources_[i].file.filename().string();
    const std::string firstName = series.sources_[0].file.filename().string();
    if (h.width != first.width || h.height != first.height)
      throw Error(series.sources_[i].file.string() + ": size " + std::to_string(h.width) + "x" +
                  std::to_string(h.height) + " differs from " + firstName + " (" +
                  std::to_string(first.width) + "x" + std::to_string(first.height) +
                  "); all slices must have the same size");
    if (h.bitDepth != first.bitDepth)
      throw Error(series.sources_[i].file.string() + ": " + std::to_string(h.bitDepth) +
                  "-bit, but " + firstName + " is " + std::to_string(first.bitDepth) +
                  "-bit; all slices must have the same bit depth");
  }
  return series;
}

std::string SliceSeries::sliceName(std::size_t index) const {
  const Source& s = sources_.at(index);
  if (s.page < 0) return s.file.filename().string();
  return s.file.filename().string() + " page " + std::to_string(s.page + 1);
}

cv::Mat SliceSeries::read(std::size_t index) const {
  const Source& s = sources_.at(index);
  cv::Mat slice = isTiff(s.file) ? readTiffPage(s.file, std::max(s.page, 0)) : readPngGrey(s.file);
  const int depth = slice.depth() == CV_16U ? 16 : 8;
  if (slice.cols != width_ || slice.rows != height_ || depth != bitDepth_)
    throw Error(s.file.string() + (s.page >= 0 ? " page " + std::to_string(s.page + 1) : "") + ": " +
                std::to_string(slice.cols) + "x" + std::to_string(slice.rows) + " " +
                std::to_string(depth) + "-bit, expected " + std::to_string(width_) + "x" +
                std::to_string(height_) + " " + std::to_string(bitDepth_) + "-bit like the first slice");
  return slice;
}

}  // namespace fibseg::io
