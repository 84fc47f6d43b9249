#pragma once
// scikit-image's denoise_nl_means (fast mode) ported line for line: one integral image of squared
// differences per shift, in skimage's order, so every patch distance is bitwise skimage's. This
// was fibseg's implementation until the blocked, vectorised one in src/fibseg/intensity/nl_means.cpp;
// the tests hold the fast one against it.
#include <opencv2/core.hpp>
#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fibseg/core/error.hpp"
#include "fibseg/core/image.hpp"
#include "fibseg/intensity/nl_means.hpp"

namespace fibseg::intensity::testing {
namespace reference_detail {

// skimage weighs patches with Schraudolph's exponential (skimage/_shared/fast_exp.h): the high
// 32 bits of a double set to a linear function of y. It is ~4 % off exp(y), and it is what
// the notebook's weights are, so fibseg uses it too (agreement with the notebook, not with exp).
// The constants as skimage's double version writes them: (int)(2^20 / ln 2 * y) truncated
// BEFORE the offset 1072693248 - 60801 is added. (1512775 * y + 1072632447 truncated after the
// sum is skimage's float32 version, visible from Python; it moves weights by 1 ulp of 2^-20 and
// the denoised slice by ~1e-8.) With this form fibseg matches skimage to 1e-15 on real slices.
inline double schraudolphExp(double y) {
  constexpr double expA = 1048576.0 / 0.6931471805599453;
  const std::int64_t high = static_cast<std::int32_t>(static_cast<int>(expA * y) + (1072693248 - 60801));
  const std::uint64_t bits = static_cast<std::uint64_t>(high) << 32;
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

// One thread's running sums over the padded image: patch weights and weighted grey values.
struct Accumulators {
  std::vector<double> weights, sums;
};

}  // namespace reference_detail
using namespace reference_detail;

inline cv::Mat nonLocalMeansLineForLine(const cv::Mat& slice, const NlMeansParams& params) {
  const int depth = bitDepthOf(slice, "non-local means input");
  if (params.patchSize < 1 || params.patchDistance < 1 || !(params.h > 0))
    throw Error("non-local means: patch size and patch distance must be >= 1 px and h > 0 (got patch " +
                std::to_string(params.patchSize) + ", distance " + std::to_string(params.patchDistance) +
                ", h " + std::to_string(params.h) + ")");
  const int s = params.patchSize % 2 == 0 ? params.patchSize + 1 : params.patchSize;  // as skimage
  const int offset = s / 2, d = params.patchDistance;
  const int pad = offset + d + 1;
  // numpy's 'reflect' padding (edge pixel not repeated) is OpenCV's BORDER_REFLECT_101; it needs
  // the image to be wider than the padding, as numpy does for a single reflection.
  if (slice.rows <= pad || slice.cols <= pad)
    throw Error("non-local means: the slice (" + std::to_string(slice.cols) + " x " + std::to_string(slice.rows) +
                " px) must be larger than patch radius + distance + 1 = " + std::to_string(pad) + " px");

  cv::Mat unit;
  slice.convertTo(unit, CV_64F, 1.0 / (depth == 8 ? 255.0 : 65535.0));
  cv::Mat padded;
  cv::copyMakeBorder(unit, padded, pad, pad, pad, pad, cv::BORDER_REFLECT_101);
  const int nRow = padded.rows, nCol = padded.cols;
  const double h2s2 = params.h * params.h * s * s;
  const double varDiff = 2 * params.sigma * params.sigma;
  constexpr double kDistanceCutoff = 5.0;
  const double* p = padded.ptr<double>();
  auto at = [&](int r, int c) { return p[static_cast<std::size_t>(r) * nCol + c]; };

  // skimage's outer loop over shifts (t_row in [-d, d], t_col in [0, d]; t_col = 0 counted twice,
  // hence alpha 1/2) accumulates into one weight and one sum image. Shifts are independent, so
  // each thread sums its shifts into its own pair and the pairs are added at the end.
  struct Shift { int row, col; };
  std::vector<Shift> shifts;
  for (int tr = -d; tr <= d; ++tr)
    for (int tc = 0; tc <= d; ++tc) shifts.push_back({tr, tc});
  const std::size_t n = static_cast<std::size_t>(nRow) * nCol;
  tbb::enumerable_thread_specific<Accumulators> perThread([n] { return Accumulators{std::vector<double>(n, 0.0), std::vector<double>(n, 0.0)}; });
  tbb::enumerable_thread_specific<std::vector<double>> integrals([n] { return std::vector<double>(n, 0.0); });

  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, shifts.size(), 1), [&](const tbb::blocked_range<std::size_t>& range) {
    Accumulators& acc = perThread.local();
    std::vector<double>& integral = integrals.local();
    for (std::size_t k = range.begin(); k != range.end(); ++k) {
      const int tRow = shifts[k].row, tCol = shifts[k].col;
      const double alpha = tCol == 0 ? 0.5 : 1.0;
      // Integral image of the squared difference between the image and its shifted copy (row and
      // column 0 stay 0, as in skimage's _integral_image_2d).
      std::fill(integral.begin(), integral.end(), 0.0);
      auto I = [&](int r, int c) -> double& { return integral[static_cast<std::size_t>(r) * nCol + c]; };
      for (int row = std::max(1, -tRow); row < std::min(nRow, nRow - tRow); ++row)
        for (int col = 1; col < nCol - tCol; ++col) {
          const double t = at(row, col) - at(row + tRow, col + tCol);
          I(row, col) = t * t - varDiff + I(row - 1, col) + I(row, col - 1) - I(row - 1, col - 1);
        }
      const int rowStart = std::max(offset, offset - tRow), rowEnd = std::min(nRow - offset, nRow - offset - tRow);
      for (int row = rowStart; row < rowEnd; ++row) {
        const int rowShift = row + tRow;
        for (int col = offset; col < nCol - offset - tCol; ++col) {
          double distance = I(row + offset, col + offset) + I(row - offset, col - offset) -
                            I(row - offset, col + offset) - I(row + offset, col - offset);
          distance = std::max(distance, 0.0) / h2s2;
          if (distance > kDistanceCutoff) continue;
          const int colShift = col + tCol;
          const double weight = alpha * schraudolphExp(-distance);
          const std::size_t a = static_cast<std::size_t>(row) * nCol + col;
          const std::size_t b = static_cast<std::size_t>(rowShift) * nCol + colShift;
          acc.weights[a] += weight;
          acc.weights[b] += weight;
          acc.sums[a] += weight * p[b];
          acc.sums[b] += weight * p[a];
        }
      }
    }
  });

  std::vector<double> weights(n, 0.0), sums(n, 0.0);
  for (const Accumulators& acc : perThread)
    for (std::size_t i = 0; i < n; ++i) {
      weights[i] += acc.weights[i];
      sums[i] += acc.sums[i];
    }
  cv::Mat result(slice.size(), CV_64F);
  for (int row = 0; row < slice.rows; ++row) {
    double* out = result.ptr<double>(row);
    for (int col = 0; col < slice.cols; ++col) {
      const std::size_t i = static_cast<std::size_t>(row + pad) * nCol + col + pad;
      out[col] = sums[i] / weights[i];  // the zero shift's weight is > 0: no division by zero
    }
  }
  return result;
}

}  // namespace fibseg::intensity::testing
