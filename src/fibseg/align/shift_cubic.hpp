#pragma once
// A sub-pixel translation of an 8-bit slice by bicubic interpolation, the same pixels as OpenCV's
// warpAffine(INTER_CUBIC | WARP_INVERSE_MAP, BORDER_REPLICATE) computes for a pure translation,
// in a fraction of its time. Implemented in shift_cubic.cpp.
#include <opencv2/core.hpp>

namespace fibseg::align {

/// out(y, x) = slice at (x + sx, y + sy), bicubic (a = -0.75), edges replicated; out is
/// `size`, CV_8U. Bit for bit what
///   cv::warpAffine(slice, out, Matx23d(1, 0, sx, 0, 1, sy), size,
///                  INTER_CUBIC | WARP_INVERSE_MAP, BORDER_REPLICATE)
/// returns: OpenCV rounds the source point to 1/32 px and weighs the 4 x 4 neighbours with its
/// fixed-point table (16 integer weights summing to 2^15). For a translation every pixel of a
/// row has the same fraction, so the table is looked up once per row instead of once per pixel
/// and the weighted sum runs over whole rows (OpenCV's per-pixel remap was a fifth of a run's
/// CPU). CV_8U only.
cv::Mat shiftCubic8u(const cv::Mat& slice, double sx, double sy, cv::Size size);

}  // namespace fibseg::align
