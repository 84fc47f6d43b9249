#pragma once
// A FIB-SEM slice series on disk: a folder of TIFF/PNG slices in natural order, or one multi-page
// TIFF. Opening validates every slice's header (size, bit depth) without reading pixels; slices
// are then read one at a time, so memory stays flat however long the series is.
#include <opencv2/core.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace fibseg::io {

/// Which files of a folder are slices (input.format, input.prefer_names_containing).
struct SliceSelection {
  std::string format = "any";        // "any" (.tif, .tiff, .png), "png" or "tif" (.tif, .tiff)
  std::string preferNamesContaining;  // when some file names contain this text, only those are
                                      // slices (folders holding both detectors: "BSE"); "" = all
};

class SliceSeries {
 public:
  /// Throws naming the path for: missing path, empty folder, no images, unreadable or corrupt
  /// headers, and the first file whose size or bit depth differs from the first slice's.
  static SliceSeries open(const std::filesystem::path& path, const SliceSelection& selection = {});

  std::size_t size() const { return sources_.size(); }
  int width() const { return width_; }
  int height() const { return height_; }
  int bitDepth() const { return bitDepth_; }
  /// From the first slice's metadata, if it has any.
  std::optional<double> pixelSizeNm() const { return pixelSizeNm_; }
  /// The data bar's rows from the first slice's metadata (FEI DatabarHeight), if it says.
  std::optional<int> dataBarRows() const { return dataBarRows_; }
  /// "slice_0007.tif" or "stack.tif page 8": for messages and tables.
  std::string sliceName(std::size_t index) const;

  /// Reads one slice (CV_8U or CV_16U grey); safe to call from several threads at once.
  cv::Mat read(std::size_t index) const;

 private:
  struct Source {
    std::filesystem::path file;
    int page = -1;  // -1: a single-image file; else the page of a multi-page TIFF
  };
  std::vector<Source> sources_;
  int width_ = 0, height_ = 0, bitDepth_ = 0;
  std::optional<double> pixelSizeNm_;
  std::optional<int> dataBarRows_;
};

/// True for .tif/.tiff/.png (any case).
bool isSliceImageFile(const std::filesystem::path& path);

}  // namespace fibseg::io
