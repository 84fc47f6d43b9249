#include "fibseg/core/area_resize.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace fibseg {
namespace {

// One share of a source pixel (or row) in an output pixel (or row): OpenCV's DecimateAlpha.
struct Share {
  int out, in;
  float alpha;
};

// OpenCV's computeResizeAreaTab (imgproc/resize.cpp), one channel: for each output index the
// partly covered source index before, the whole ones, and the partly covered one after.
std::vector<Share> shares(int inSize, int outSize, double scale) {
  std::vector<Share> tab;
  for (int d = 0; d < outSize; ++d) {
    const double f1 = d * scale, f2 = f1 + scale;
    const double cellWidth = std::min(scale, inSize - f1);
    int s1 = cvCeil(f1), s2 = cvFloor(f2);
    s2 = std::min(s2, inSize - 1);
    s1 = std::min(s1, s2);
    if (s1 - f1 > 1e-3) tab.push_back({d, s1 - 1, float((s1 - f1) / cellWidth)});
    for (int s = s1; s < s2; ++s) tab.push_back({d, s, float(1.0 / cellWidth)});
    if (f2 - s2 > 1e-3) tab.push_back({d, s2, float(std::min(std::min(f2 - s2, 1.), cellWidth) / cellWidth)});
  }
  return tab;
}

}  // namespace

cv::Mat resizeArea(const cv::Mat& image, cv::Size size) {
  // cv::resize's own scale factors and its choice of the integer-factor path.
  const double scaleX = 1. / (double(size.width) / image.cols), scaleY = 1. / (double(size.height) / image.rows);
  const int intX = cv::saturate_cast<int>(scaleX), intY = cv::saturate_cast<int>(scaleY);
  const bool integerFactors = std::abs(scaleX - intX) < DBL_EPSILON && std::abs(scaleY - intY) < DBL_EPSILON;
  if (image.type() != CV_8UC1 || image.empty() || size.width <= 0 || size.height <= 0 || scaleX < 1 || scaleY < 1 ||
      integerFactors) {
    cv::Mat out;
    cv::resize(image, out, size, 0, 0, cv::INTER_AREA);
    return out;
  }
  const std::vector<Share> xs = shares(image.cols, size.width, scaleX), ys = shares(image.rows, size.height, scaleY);
  // The x shares as slots: slot k of output column d is its k-th share (alpha 0 past its last:
  // adding 0 * pixel leaves a float sum as it is, so every column runs the same slots).
  int slots = 0;
  for (std::size_t k = 0, run = 0; k < xs.size(); ++k) {
    run = (k > 0 && xs[k].out == xs[k - 1].out) ? run + 1 : 1;
    slots = std::max(slots, int(run));
  }
  const int width = size.width;
  std::vector<int> slotIn(std::size_t(slots) * width, 0);
  std::vector<float> slotAlpha(std::size_t(slots) * width, 0.f);
  for (std::size_t k = 0, run = 0; k < xs.size(); ++k) {
    run = (k > 0 && xs[k].out == xs[k - 1].out) ? run + 1 : 0;
    slotIn[run * width + xs[k].out] = xs[k].in;
    slotAlpha[run * width + xs[k].out] = xs[k].alpha;
  }
  for (int k = 0; k < slots; ++k)  // unused slots point at a source pixel of their column's first
    for (int d = 0; d < width; ++d)
      if (slotAlpha[std::size_t(k) * width + d] == 0.f) slotIn[std::size_t(k) * width + d] = slotIn[d];

  cv::Mat out(size, CV_8U);
  std::vector<float> row(image.cols), buf(width), sum(width, 0.f);
  int previous = ys.empty() ? 0 : ys.front().out;
  for (const Share& y : ys) {
    // One source row spread over the output columns: buf[d] = 0 + share 0 + share 1 + ...
    const std::uint8_t* in = image.ptr<std::uint8_t>(y.in);
    for (int x = 0; x < image.cols; ++x) row[x] = float(in[x]);
    std::fill(buf.begin(), buf.end(), 0.f);
    for (int k = 0; k < slots; ++k) {
      const int* index = slotIn.data() + std::size_t(k) * width;
      const float* alpha = slotAlpha.data() + std::size_t(k) * width;
      for (int d = 0; d < width; ++d) buf[d] += row[index[d]] * alpha[d];
    }
    // Rows of one output row summed with their shares; the finished row rounded out.
    const float beta = y.alpha;
    if (y.out != previous) {
      std::uint8_t* o = out.ptr<std::uint8_t>(previous);
      for (int d = 0; d < width; ++d) {
        o[d] = cv::saturate_cast<std::uint8_t>(sum[d]);
        sum[d] = beta * buf[d];
      }
      previous = y.out;
    } else {
      for (int d = 0; d < width; ++d) sum[d] += beta * buf[d];
    }
  }
  std::uint8_t* o = out.ptr<std::uint8_t>(previous);
  for (int d = 0; d < width; ++d) o[d] = cv::saturate_cast<std::uint8_t>(sum[d]);
  return out;
}

}  // namespace fibseg
