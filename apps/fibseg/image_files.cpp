#include "image_files.hpp"

#include "fibseg/core/error.hpp"
#include "fibseg/core/natural_sort.hpp"
#include "fibseg/core/text.hpp"
#include "fibseg/io/png.hpp"
#include "fibseg/io/tiff.hpp"

namespace fibseg::cli {
namespace fs = std::filesystem;

namespace {


bool isTiffPath(const fs::path& p) {
  std::string ext = p.extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".tif" || ext == ".tiff";
}
bool isPngPath(const fs::path& p) {
  std::string ext = p.extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".png";
}

void addFile(const fs::path& file, std::vector<ImageSource>& sources) {
  if (isPngPath(file)) {
    sources.push_back({file, -1});
  } else if (isTiffPath(file)) {
    const int pages = io::probeTiff(file).pages;
    for (int p = 0; p < pages; ++p) sources.push_back({file, p});
  } else {
    throw Error(file.string() + ": not a .png, .tif or .tiff image");
  }
}

}  // namespace

std::vector<ImageSource> imageSourcesOf(const fs::path& input, const std::string& what) {
  std::error_code ec;
  if (!fs::exists(input, ec)) throw Error(input.string() + ": no such file or folder (" + what + ")");
  std::vector<ImageSource> sources;
  if (fs::is_directory(input, ec)) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(input, ec)) {
      const std::string name = entry.path().filename().string();
      if (entry.is_regular_file() && name.front() != '.' && (isPngPath(name) || isTiffPath(name))) names.push_back(name);
    }
    naturalSort(names);
    for (const auto& name : names) addFile(input / name, sources);
    if (sources.empty()) throw Error(input.string() + ": no .png, .tif or .tiff images in this folder");
  } else {
    addFile(input, sources);
  }
  return sources;
}

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
