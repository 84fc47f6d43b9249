#include "image_files.hpp"

#include "fibseg/core/error.hpp"
#include "fibseg/core/text.hpp"
#include "fibseg/io/png.hpp"
#include "fibseg/io/tiff.hpp"

namespace fibseg::cli {

cv::Mat readImageFile(const std::filesystem::path& path, bool asStored, int page) {
  const std::string ext = toLower(path.extension().string());
  if (ext == ".png") {
    if (page != 0) throw Error(path.string() + ": --slice " + std::to_string(page) + " given for a PNG; expected a multi-page TIFF");
    return asStored ? io::readPngAsStored(path) : io::readPngGrey(path);
  }
  if (ext == ".tif" || ext == ".tiff") {
    const int pages = io::probeTiff(path).pages;
    if (page < 0 || page >= pages)
      throw Error(path.string() + ": --slice " + std::to_string(page) + "; expected 0 to " + std::to_string(pages - 1) +
                  " (the file has " + std::to_string(pages) + " pages)");
    return io::readTiffPage(path, page);
  }
  throw Error(path.string() + ": unknown image type '" + ext + "'; expected .png, .tif or .tiff");
}

}  // namespace fibseg::cli
