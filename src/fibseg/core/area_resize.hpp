#pragma once
// Shrinking an 8-bit image by pixel-area averaging, the same pixels as OpenCV's
// cv::resize(INTER_AREA) in a fraction of its time. Implemented in area_resize.cpp.
#include <opencv2/core.hpp>

namespace fibseg {

/// cv::resize(image, out, size, 0, 0, INTER_AREA), bit for bit, for a single-channel 8-bit image.
/// At a non-integer shrink factor OpenCV adds each source pixel's share to its output pixels one
/// table entry at a time, a chain of dependent additions per output pixel; here the same float
/// operations in the same order run for all output pixels of a row side by side. Other cases
/// (integer factors, enlarging, other types) are passed to cv::resize.
cv::Mat resizeArea(const cv::Mat& image, cv::Size size);

}  // namespace fibseg
