#pragma once
// PNG: read through OpenCV (libpng); written by fibseg's own encoder (one IDAT deflated by
// libdeflate: standard PNG, several times faster than libpng's zlib, bench/png_bench.cpp),
// 8- or 16-bit grey and 8-bit colour, atomically.
#include <opencv2/core.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <vector>

namespace fibseg::io {

/// Reads a PNG as CV_8U or CV_16U grey (colour PNGs converted to grey); throws naming the file.
cv::Mat readPngGrey(const std::filesystem::path& path);
/// Reads a PNG as stored (grey or BGR), for annotations painted in colour.
cv::Mat readPngAsStored(const std::filesystem::path& path);
/// Writes to a temporary name and renames (outputs are complete or absent).
void writePng(const std::filesystem::path& path, const cv::Mat& image);

/// PNG's per-row filters fibseg writes (one for every row).
enum class PngFilter { None = 0, Sub = 1, Up = 2 };
/// The PNG file of `image`: CV_8UC1 / CV_16UC1 grey, CV_8UC3 BGR or CV_8UC4 BGRA (OpenCV's
/// order; stored as RGB / RGBA). `level`: libdeflate's compression level (1-12).
std::vector<std::uint8_t> encodePng(const cv::Mat& image, int level = 1, PngFilter filter = PngFilter::Sub);
/// An indexed-colour PNG: `indices` (CV_8UC1) into `paletteRgb` (at most 256 colours; indices
/// past its end show black). One byte a pixel instead of three: a label image in its colours
/// encodes about as fast as the labels themselves.
std::vector<std::uint8_t> encodeIndexedPng(const cv::Mat& indices, const std::vector<std::array<std::uint8_t, 3>>& paletteRgb,
                                           int level = 1, PngFilter filter = PngFilter::Sub);
/// writePng of encodeIndexedPng.
void writeIndexedPng(const std::filesystem::path& path, const cv::Mat& indices,
                     const std::vector<std::array<std::uint8_t, 3>>& paletteRgb);

/// One 8-bit grey image as two PNGs deflated once: `greyPath` grey, `indexedPath` indexed with
/// the grey values as indices into `paletteByValue` (black past its end). Both files carry the
/// same image data, so a label image and its colours cost one compression instead of two.
void writeGreyAndIndexedPng(const std::filesystem::path& greyPath, const std::filesystem::path& indexedPath,
                            const cv::Mat& image, const std::vector<std::array<std::uint8_t, 3>>& paletteByValue);

struct PngHeader {
  int width = 0, height = 0, bitDepth = 0, channels = 0;
};
/// Reads only the 33-byte header: cheap validation of a whole folder before any pixel is read.
PngHeader probePng(const std::filesystem::path& path);

}  // namespace fibseg::io
