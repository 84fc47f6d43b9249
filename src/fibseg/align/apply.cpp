// Moving slices onto slice 0's frame and choosing the output area.
//
// Aligned slice z at (x, y) of slice 0's frame is slice z at (x, y) + shift(z). It is defined
// where that point lies inside slice z: x in [-shift.x, width - 1 - shift.x] (same for y).
#include <algorithm>
#include <cmath>
#include <limits>
#include <opencv2/imgproc.hpp>

#include "fibseg/align/align.hpp"
#include "fibseg/align/shift_cubic.hpp"
#include "fibseg/core/error.hpp"

namespace fibseg::align {

namespace {
constexpr double kTolerance = 1e-6;  // px: a shift of 2.9999999 covers the same pixels as 3
}

cv::Rect commonArea(const std::vector<cv::Point2d>& shifts, cv::Size sliceSize) {
  double maxX = 0, maxY = 0, minX = 0, minY = 0;  // slice 0 is included: its shift is (0, 0)
  for (const auto& s : shifts) {
    maxX = std::max(maxX, s.x), maxY = std::max(maxY, s.y);
    minX = std::min(minX, s.x), minY = std::min(minY, s.y);
  }
  const int x0 = int(std::ceil(-minX - kTolerance)), y0 = int(std::ceil(-minY - kTolerance));
  const int x1 = int(std::floor(sliceSize.width - 1 - maxX + kTolerance));
  const int y1 = int(std::floor(sliceSize.height - 1 - maxY + kTolerance));
  if (x1 < x0 || y1 < y0)
    throw Error("align: the slices drift by up to " + std::to_string(maxX - minX) + " px in x and " +
                std::to_string(maxY - minY) + " px in y, so no pixel of the " + std::to_string(sliceSize.width) +
                " x " + std::to_string(sliceSize.height) +
                " px frame is present in every slice; expected less drift (check the registration, "
                "or use align.crop = pad)");
  return {x0, y0, x1 - x0 + 1, y1 - y0 + 1};
}

cv::Rect paddedArea(const std::vector<cv::Point2d>& shifts, cv::Size sliceSize) {
  double maxX = 0, maxY = 0, minX = 0, minY = 0;
  for (const auto& s : shifts) {
    maxX = std::max(maxX, s.x), maxY = std::max(maxY, s.y);
    minX = std::min(minX, s.x), minY = std::min(minY, s.y);
  }
  // Every pixel that at least one slice covers.
  const int x0 = int(std::ceil(-maxX - kTolerance)), y0 = int(std::ceil(-maxY - kTolerance));
  const int x1 = int(std::floor(sliceSize.width - 1 - minX + kTolerance));
  const int y1 = int(std::floor(sliceSize.height - 1 - minY + kTolerance));
  return {x0, y0, x1 - x0 + 1, y1 - y0 + 1};
}

cv::Rect outputRect(const std::vector<cv::Point2d>& shifts, cv::Size sliceSize, CropMode mode) {
  return mode == CropMode::Common ? commonArea(shifts, sliceSize) : paddedArea(shifts, sliceSize);
}

cv::Mat applyShift(const cv::Mat& slice, cv::Point2d shift, const cv::Rect& outputRect) {
  if (slice.empty() || slice.channels() != 1)
    throw Error("align: applyShift expects a single-channel slice");
  if (outputRect.width <= 0 || outputRect.height <= 0) throw Error("align: applyShift given an empty output area");
  const double sx = outputRect.x + shift.x, sy = outputRect.y + shift.y;
  const cv::Matx23d sourceOf(1, 0, sx, 0, 1, sy);  // output pixel -> source point
  cv::Mat out;
  // Replicated borders keep the bicubic kernel from mixing in zeros at the slice's edge pixels.
  // 8-bit slices: the same pixels by shiftCubic8u, several times faster.
  if (slice.type() == CV_8U)
    out = shiftCubic8u(slice, sx, sy, outputRect.size());
  else
    cv::warpAffine(slice, out, sourceOf, outputRect.size(), cv::INTER_CUBIC | cv::WARP_INVERSE_MAP,
                   cv::BORDER_REPLICATE);
  // Pixels whose source lies outside the slice carry no data: 0 (only in the padded area).
  const int xa = std::clamp(int(std::ceil(-sx - kTolerance)), 0, out.cols);
  const int xb = std::clamp(int(std::floor(slice.cols - 1 - sx + kTolerance)) + 1, xa, out.cols);
  const int ya = std::clamp(int(std::ceil(-sy - kTolerance)), 0, out.rows);
  const int yb = std::clamp(int(std::floor(slice.rows - 1 - sy + kTolerance)) + 1, ya, out.rows);
  out.colRange(0, xa).setTo(0);
  out.colRange(xb, out.cols).setTo(0);
  out.rowRange(0, ya).setTo(0);
  out.rowRange(yb, out.rows).setTo(0);
  return out;
}

}  // namespace fibseg::align
