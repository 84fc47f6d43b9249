#include "fibseg/align/shift_cubic.hpp"

#include <opencv2/core.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "fibseg/core/error.hpp"

namespace fibseg::align {
namespace {

// OpenCV's constants (imgproc.hpp, imgwarp.cpp): source points in 1/32 px, coordinates of
// warpAffine in 1/1024 px, weights in 1/2^15.
constexpr int kTabBits = 5, kTabSize = 1 << kTabBits;
constexpr int kAbBits = 10, kAbScale = 1 << kAbBits;
constexpr int kRoundDelta = kAbScale / kTabSize / 2;
constexpr int kCoefBits = 15, kCoefScale = 1 << kCoefBits;

using Weights = std::array<int, 16>;  // [row i][column j], i, j = 0..3 for offsets -1..2

// OpenCV's interpolateCubic, float for float.
void cubicCoefficients(float x, float* c) {
  const float a = -0.75f;
  c[0] = ((a * (x + 1) - 5 * a) * (x + 1) + 8 * a) * (x + 1) - 4 * a;
  c[1] = ((a + 2) * x - (a + 3)) * x * x + 1;
  c[2] = ((a + 2) * (1 - x) - (a + 3)) * (1 - x) * (1 - x) + 1;
  c[3] = 1.f - c[0] - c[1] - c[2];
}

// OpenCV's fixed-point table entry for the fraction (fy, fx) / 32 (initInterTab2D): products of
// the 1D coefficients rounded to 2^-15, the rounding remainder moved onto the largest (or
// smallest) of the four central weights so they sum to exactly 2^15.
Weights tableEntry(int fy, int fx) {
  const float scale = 1.f / kTabSize;
  float ty[4], tx[4];
  cubicCoefficients(float(fy) * scale, ty);
  cubicCoefficients(float(fx) * scale, tx);
  Weights w{};
  int sum = 0;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) sum += w[i * 4 + j] = cv::saturate_cast<short>(ty[i] * tx[j] * kCoefScale);
  if (sum != kCoefScale) {
    const int diff = sum - kCoefScale;
    int maxI = 2, maxJ = 2, minI = 2, minJ = 2;
    for (int i = 2; i < 4; ++i)
      for (int j = 2; j < 4; ++j) {
        if (w[i * 4 + j] < w[minI * 4 + minJ]) minI = i, minJ = j;
        else if (w[i * 4 + j] > w[maxI * 4 + maxJ]) maxI = i, maxJ = j;
      }
    if (diff < 0) w[maxI * 4 + maxJ] = short(w[maxI * 4 + maxJ] - diff);
    else w[minI * 4 + minJ] = short(w[minI * 4 + minJ] - diff);
  }
  return w;
}

const std::vector<Weights>& table() {
  static const std::vector<Weights> t = [] {
    std::vector<Weights> entries(kTabSize * kTabSize);
    for (int fy = 0; fy < kTabSize; ++fy)
      for (int fx = 0; fx < kTabSize; ++fx) entries[fy * kTabSize + fx] = tableEntry(fy, fx);
    return entries;
  }();
  return t;
}

// One output row: the 4 source rows, each already extended so that lines[i][x + j] is the
// neighbour j (offset j - 1) of output pixel x. Integer arithmetic: any order gives the same sum.
template <int kDummy>
[[gnu::always_inline]] inline void weighRowImpl(const std::uint8_t* const* lines, const Weights& w, int width,
                                                std::int32_t* acc, std::uint8_t* out) {
  for (int x = 0; x < width; ++x) acc[x] = 1 << (kCoefBits - 1);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      const std::int32_t weight = w[i * 4 + j];
      const std::uint8_t* __restrict line = lines[i] + j;
      std::int32_t* __restrict a = acc;
      for (int x = 0; x < width; ++x) a[x] += weight * line[x];
    }
  for (int x = 0; x < width; ++x) out[x] = cv::saturate_cast<std::uint8_t>(acc[x] >> kCoefBits);
}

__attribute__((target("avx2"))) void weighRowAvx2(const std::uint8_t* const* lines, const Weights& w, int width,
                                                  std::int32_t* acc, std::uint8_t* out) {
  weighRowImpl<1>(lines, w, width, acc, out);
}
void weighRowBaseline(const std::uint8_t* const* lines, const Weights& w, int width, std::int32_t* acc,
                      std::uint8_t* out) {
  weighRowImpl<0>(lines, w, width, acc, out);
}

}  // namespace

cv::Mat shiftCubic8u(const cv::Mat& slice, double sx, double sy, cv::Size size) {
  if (slice.type() != CV_8U || slice.empty()) throw Error("align: shiftCubic8u expects a non-empty 8-bit slice");
  if (size.width <= 0 || size.height <= 0) throw Error("align: shiftCubic8u given an empty output size");
  const std::vector<Weights>& weights = table();
  static const bool avx2 = __builtin_cpu_supports("avx2");
  // warpAffine's source column of output x, in 1/32 px: (round(sx * 1024) + 16 + 1024 x) >> 5;
  // the 1024 x keeps the fraction, so it is the same in every column.
  const int x32 = (cv::saturate_cast<int>(sx * kAbScale) + kRoundDelta) >> (kAbBits - kTabBits);
  const int firstColumn = (x32 >> kTabBits) - 1, fx = x32 & (kTabSize - 1);  // neighbour 0 of output 0
  cv::Mat out(size, CV_8U);
  const int width = size.width;
  // The four extended source rows: line[k] = slice(row, clamp(firstColumn + k)).
  std::vector<std::uint8_t> extended(4 * std::size_t(width + 3));
  std::vector<std::int32_t> acc(width);
  const auto extend = [&](int row, std::uint8_t* line) {
    const std::uint8_t* src = slice.ptr<std::uint8_t>(row);
    const int last = slice.cols - 1;
    const int k0 = std::clamp(-firstColumn, 0, width + 3), k1 = std::clamp(last + 1 - firstColumn, k0, width + 3);
    std::fill(line, line + k0, src[0]);
    if (k1 > k0) std::copy(src + firstColumn + k0, src + firstColumn + k1, line + k0);
    std::fill(line + k1, line + width + 3, src[last]);
  };
  for (int y = 0; y < size.height; ++y) {
    // Rows as warpAffine computes them: round((y + sy) * 1024) per row.
    const int y32 = (cv::saturate_cast<int>((1.0 * y + sy) * kAbScale) + kRoundDelta) >> (kAbBits - kTabBits);
    const int firstRow = (y32 >> kTabBits) - 1, fy = y32 & (kTabSize - 1);
    const std::uint8_t* lines[4];
    for (int i = 0; i < 4; ++i) {
      std::uint8_t* line = extended.data() + i * std::size_t(width + 3);
      extend(std::clamp(firstRow + i, 0, slice.rows - 1), line);
      lines[i] = line;
    }
    const Weights& w = weights[fy * kTabSize + fx];
    if (avx2) weighRowAvx2(lines, w, width, acc.data(), out.ptr<std::uint8_t>(y));
    else weighRowBaseline(lines, w, width, acc.data(), out.ptr<std::uint8_t>(y));
  }
  return out;
}

}  // namespace fibseg::align
