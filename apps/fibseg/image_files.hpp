#pragma once
// Reading one image named on the command line (`fibseg tune`, `fibseg train`).
#include <opencv2/core.hpp>

#include <filesystem>

namespace fibseg::cli {

/// A .png (grey, or as stored when `asStored`: painted colour annotations) or page `page` of a
/// .tif/.tiff. Throws naming the file for an unknown extension or a page it does not have.
cv::Mat readImageFile(const std::filesystem::path& path, bool asStored, int page = 0);

}  // namespace fibseg::cli
