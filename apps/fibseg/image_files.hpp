#pragma once
// Reading one image named on the command line (`fibseg tune`, `fibseg train`).
#include <opencv2/core.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace fibseg::cli {

/// A .png (grey, or as stored when `asStored`: painted colour annotations) or page `page` of a
/// .tif/.tiff. Throws naming the file for an unknown extension or a page it does not have.
cv::Mat readImageFile(const std::filesystem::path& path, bool asStored, int page = 0);

/// One image of an input that may hold several: a file, or a page of a multi-page TIFF.
struct ImageSource {
  std::filesystem::path file;
  int page;  // -1 for a PNG
  std::string name() const {
    return file.filename().string() + (page >= 0 ? " page " + std::to_string(page + 1) : "");
  }
};

/// The images of `input` in order: a .png, every page of a .tif/.tiff, or those of every such
/// file in a folder (natural name order). Throws naming `input` and `what` (the option) when it
/// does not exist or holds no image.
std::vector<ImageSource> imageSourcesOf(const std::filesystem::path& input, const std::string& what);

}  // namespace fibseg::cli
