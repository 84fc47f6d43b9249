#pragma once
// PNG through OpenCV (libpng): 8- or 16-bit grey and 8-bit colour, written atomically.
#include <opencv2/core.hpp>

#include <filesystem>

namespace fibseg::io {

/// Reads a PNG as CV_8U or CV_16U grey (colour PNGs converted to grey); throws naming the file.
cv::Mat readPngGrey(const std::filesystem::path& path);
/// Reads a PNG as stored (grey or BGR), for annotations painted in colour.
cv::Mat readPngAsStored(const std::filesystem::path& path);
/// Writes to a temporary name and renames (outputs are complete or absent).
void writePng(const std::filesystem::path& path, const cv::Mat& image);

struct PngHeader {
  int width = 0, height = 0, bitDepth = 0, channels = 0;
};
/// Reads only the 33-byte header: cheap validation of a whole folder before any pixel is read.
PngHeader probePng(const std::filesystem::path& path);

}  // namespace fibseg::io
