#include "fibseg/intensity/nl_means.hpp"

#include <opencv2/core.hpp>
#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "fibseg/core/error.hpp"
#include "fibseg/core/image.hpp"

namespace fibseg::intensity {
namespace {

// skimage weighs patches with Schraudolph's exponential (skimage/_shared/fast_exp.h): the high
// 32 bits of a double set to a linear function of y. It is ~4 % off exp(y), and it is what
// the notebook's weights are, so fibseg uses it too (agreement with the notebook, not with exp).
// The constants as skimage's double version writes them: (int)(2^20 / ln 2 * y) truncated
// BEFORE the offset 1072693248 - 60801 is added. (1512775 * y + 1072632447 truncated after the
// sum is skimage's float32 version, visible from Python; it moves weights by 1 ulp of 2^-20.)
constexpr double kExpA = 1048576.0 / 0.6931471805599453;
constexpr std::int32_t kExpOffset = 1072693248 - 60801;
constexpr double kDistanceCutoff = 5.0;  // skimage: patches further apart than this weigh 0

struct Geometry {
  int offset = 0, nRow = 0, nCol = 0;
  double h2s2 = 0, varDiff = 0;
  // The weight's exponent as one multiplication of the window sum: -kExpA / h^2 s^2 (a division
  // per pixel and shift was the kernel's slowest instruction). It moves the exponent's last
  // bit (2^-20 of the weight) at most, in rare pixels; the cut-off below stays exact.
  double expScale = 0;
  // skimage's cut-off, distance = sum / h^2 s^2 > 5, as sum >= farSum: the smallest window sum
  // whose rounded quotient exceeds 5 (the quotient is monotone in the sum), so no pair changes
  // sides. On 8-bit input sums land exactly on the cut-off, where an approximate test would.
  double farSum = 0;
};

// The smallest x with fl(x / divisor) > limit (divisor > 0): the exact form of skimage's test.
double smallestSumBeyond(double limit, double divisor) {
  double x = limit * divisor;
  while (x / divisor > limit) x = std::nextafter(x, -1.0);
  while (!(x / divisor > limit)) x = std::nextafter(x, 2 * x + 1);
  return x;
}

// What one thread adds up over its row blocks: patch weights and weighted grey values, over
// the whole padded image (a block's shifts reach `distance` rows outside it).
struct Accumulators {
  std::vector<double> weights, sums;
};

// Accumulators kept from call to call (about 7.5 MB a thread for a 0.45 Mpx slice): allocating
// them afresh for every slice cost a page fault per 4 kB, about a tenth of the kernel's time.
// A pool rather than thread_local: a thread waiting in one slice's parallel_for may run a block
// of another slice's, which must not share its accumulators.
class AccumulatorPool {
 public:
  std::unique_ptr<Accumulators> take(std::size_t n) {
    std::unique_ptr<Accumulators> acc;
    {
      std::lock_guard lock(mutex_);
      if (!free_.empty()) {
        acc = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (!acc) acc = std::make_unique<Accumulators>();
    acc->weights.assign(n, 0.0);
    acc->sums.assign(n, 0.0);
    return acc;
  }
  void give(std::unique_ptr<Accumulators> acc) {
    std::lock_guard lock(mutex_);
    if (free_.size() < kKept) free_.push_back(std::move(acc));
  }

 private:
  static constexpr std::size_t kKept = 8;  // a few slices at once on a few threads
  std::mutex mutex_;
  std::vector<std::unique_ptr<Accumulators>> free_;
};

AccumulatorPool& accumulatorPool() {
  static AccumulatorPool pool;
  return pool;
}

// One thread's scratch, for one row and one row shift: the column sums of each column shift
// (0 .. d), and the weights of each column shift, stored at the column of the partner pixel's
// row they belong to, with d zeros in front and zeros wherever a shift is undefined.
struct Scratch {
  std::vector<double> columnSums, weights;
};

// One row of one row shift tRow, all column shifts 0 .. d at once: for each shift the window sums
// of its column sums, the weights, and the symmetric accumulation into both pixels of each pair
// (skimage's). Each pixel gathers its d + 1 contributions in registers and adds them to its
// accumulators once: the row's own pixels (A) while the weights are made, the partner row's (B)
// in a second pass over the stored weights. (Adding each shift's weights straight into B in
// memory made every load overlap the previous shift's store, which the core does not forward.)
struct RowTask {
  const double* colSums;  // (d + 1) rows of nCol
  double* weightRows;     // (d + 1) rows of d + nCol: weightRows[t * (d + nCol) + d + col]
  const double *pa, *pb;  // the row and its partner row (tRow rows away), both unshifted
  double *weightsA, *sumsA, *weightsB, *sumsB;
  int nCol, d, offset;
  double expScale, farSum;
  double* weightRow(int tCol) const { return weightRows + std::size_t(tCol) * (d + nCol) + d; }
};

// fastExp(-distance) with the exponent already scaled: expScale * window sum.
inline double fastExpScaled(double scaled) {
  // Clamped so the conversion stays defined for the far patches that weigh 0 anyway.
  scaled = std::max(scaled, -2.0e9);
  const std::int32_t high = static_cast<std::int32_t>(scaled) + kExpOffset;
  return std::bit_cast<double>(static_cast<std::uint64_t>(static_cast<std::uint32_t>(high)) << 32);
}

// Weights of the columns [colBegin, colEnd) one at a time, into A and the weight rows; a shift
// tCol covers distance columns up to nCol - offset - tCol (exclusive).
void weighColumns(const RowTask& t, int colBegin, int colEnd) {
  for (int col = colBegin; col < colEnd; ++col) {
    double weightA = 0, sumA = 0;
    for (int tCol = 0; tCol <= t.d && col < t.nCol - t.offset - tCol; ++tCol) {
      const double* colSum = t.colSums + std::size_t(tCol) * t.nCol;
      double sum = 0;
      for (int k = -t.offset + 1; k <= t.offset; ++k) sum += colSum[col + k];
      sum = std::max(sum, 0.0);
      const double alpha = tCol == 0 ? 0.5 : 1.0;
      const double w = sum >= t.farSum ? 0.0 : alpha * fastExpScaled(sum * t.expScale);
      weightA += w;
      sumA += w * t.pb[col + tCol];
      t.weightRow(tCol)[col] = w;
    }
    t.weightsA[col] += weightA;
    t.sumsA[col] += sumA;
  }
}

// The partner row's pixels [colBegin, colEnd) one at a time: pixel j pairs with the row's pixel
// j - tCol of each shift.
void gatherColumns(const RowTask& t, int colBegin, int colEnd) {
  for (int col = colBegin; col < colEnd; ++col) {
    double weightB = 0, sumB = 0;
    for (int tCol = 0; tCol <= t.d; ++tCol) {
      const double w = t.weightRow(tCol)[col - tCol];
      weightB += w;
      sumB += w * t.pa[col - tCol];
    }
    t.weightsB[col] += weightB;
    t.sumsB[col] += sumB;
  }
}

// Four doubles at a time (no FMA: contraction would change the rounding).
__attribute__((target("avx2"))) inline void weighRowAvx2(const RowTask& t) {
  const __m256d zero = _mm256_setzero_pd(), scale = _mm256_set1_pd(t.expScale), half = _mm256_set1_pd(0.5);
  const __m256d floor = _mm256_set1_pd(-2.0e9), farSum = _mm256_set1_pd(t.farSum);
  const __m128i offset = _mm_set1_epi32(kExpOffset);
  const int colFirst = t.offset, colLast = t.nCol - t.offset - t.d;  // every shift defined
  int col = colFirst;
  for (; col + 4 <= colLast; col += 4) {
    __m256d weightA = zero, sumA = zero;
    for (int tCol = 0; tCol <= t.d; ++tCol) {
      const double* colSum = t.colSums + std::size_t(tCol) * t.nCol + col;
      __m256d sum = zero;
      for (int k = -t.offset + 1; k <= t.offset; ++k) sum = _mm256_add_pd(sum, _mm256_loadu_pd(colSum + k));
      sum = _mm256_max_pd(sum, zero);
      const __m256d scaled = _mm256_max_pd(_mm256_mul_pd(sum, scale), floor);
      const __m128i high = _mm_add_epi32(_mm256_cvttpd_epi32(scaled), offset);
      __m256d e = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_cvtepu32_epi64(high), 32));
      if (tCol == 0) e = _mm256_mul_pd(half, e);
      const __m256d w = _mm256_andnot_pd(_mm256_cmp_pd(sum, farSum, _CMP_GE_OQ), e);
      weightA = _mm256_add_pd(weightA, w);
      sumA = _mm256_add_pd(sumA, _mm256_mul_pd(w, _mm256_loadu_pd(t.pb + col + tCol)));
      _mm256_storeu_pd(t.weightRow(tCol) + col, w);
    }
    _mm256_storeu_pd(t.weightsA + col, _mm256_add_pd(_mm256_loadu_pd(t.weightsA + col), weightA));
    _mm256_storeu_pd(t.sumsA + col, _mm256_add_pd(_mm256_loadu_pd(t.sumsA + col), sumA));
  }
  weighColumns(t, col, t.nCol - t.offset);
  const int last = t.nCol - t.offset;
  for (col = t.offset; col + 4 <= last; col += 4) {
    __m256d weightB = zero, sumB = zero;
    for (int tCol = 0; tCol <= t.d; ++tCol) {
      const __m256d w = _mm256_loadu_pd(t.weightRow(tCol) + col - tCol);
      weightB = _mm256_add_pd(weightB, w);
      sumB = _mm256_add_pd(sumB, _mm256_mul_pd(w, _mm256_loadu_pd(t.pa + col - tCol)));
    }
    _mm256_storeu_pd(t.weightsB + col, _mm256_add_pd(_mm256_loadu_pd(t.weightsB + col), weightB));
    _mm256_storeu_pd(t.sumsB + col, _mm256_add_pd(_mm256_loadu_pd(t.sumsB + col), sumB));
  }
  gatherColumns(t, col, last);
}

#if defined(__clang__)
// Clang takes no vector-width preference in a target attribute (and compiles the fuzz build).
#define FIBSEG_AVX512 "avx512f,avx512dq,avx512vl,avx512bw"
#else
// GCC 12 warns inside its own AVX-512 headers (_mm512_cvttpd_epi32's undefined start value).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// GCC vectorises the block's plain loops 256 bits wide unless told to use the whole register.
#define FIBSEG_AVX512 "avx512f,avx512dq,avx512vl,avx512bw,prefer-vector-width=512"
#endif

// Eight doubles at a time: the same operations in the same order as weighRowAvx2 and the
// column-at-a-time functions, so the result does not depend on the machine.
__attribute__((target(FIBSEG_AVX512))) inline void weighRowAvx512(const RowTask& t) {
  const __m512d zero = _mm512_setzero_pd(), scale = _mm512_set1_pd(t.expScale), half = _mm512_set1_pd(0.5);
  const __m512d floor = _mm512_set1_pd(-2.0e9), farSum = _mm512_set1_pd(t.farSum);
  const __m256i offset = _mm256_set1_epi32(kExpOffset);
  const int colFirst = t.offset, colLast = t.nCol - t.offset - t.d;
  int col = colFirst;
  for (; col + 8 <= colLast; col += 8) {
    __m512d weightA = zero, sumA = zero;
    for (int tCol = 0; tCol <= t.d; ++tCol) {
      const double* colSum = t.colSums + std::size_t(tCol) * t.nCol + col;
      __m512d sum = zero;
      for (int k = -t.offset + 1; k <= t.offset; ++k) sum = _mm512_add_pd(sum, _mm512_loadu_pd(colSum + k));
      sum = _mm512_max_pd(sum, zero);
      const __m512d scaled = _mm512_max_pd(_mm512_mul_pd(sum, scale), floor);
      const __m256i high = _mm256_add_epi32(_mm512_cvttpd_epi32(scaled), offset);
      __m512d e = _mm512_castsi512_pd(_mm512_slli_epi64(_mm512_cvtepu32_epi64(high), 32));
      if (tCol == 0) e = _mm512_mul_pd(half, e);
      const __m512d w = _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(sum, farSum, _CMP_LT_OQ), e);
      weightA = _mm512_add_pd(weightA, w);
      sumA = _mm512_add_pd(sumA, _mm512_mul_pd(w, _mm512_loadu_pd(t.pb + col + tCol)));
      _mm512_storeu_pd(t.weightRow(tCol) + col, w);
    }
    _mm512_storeu_pd(t.weightsA + col, _mm512_add_pd(_mm512_loadu_pd(t.weightsA + col), weightA));
    _mm512_storeu_pd(t.sumsA + col, _mm512_add_pd(_mm512_loadu_pd(t.sumsA + col), sumA));
  }
  weighColumns(t, col, t.nCol - t.offset);
  const int last = t.nCol - t.offset;
  for (col = t.offset; col + 8 <= last; col += 8) {
    __m512d weightB = zero, sumB = zero;
    for (int tCol = 0; tCol <= t.d; ++tCol) {
      const __m512d w = _mm512_loadu_pd(t.weightRow(tCol) + col - tCol);
      weightB = _mm512_add_pd(weightB, w);
      sumB = _mm512_add_pd(sumB, _mm512_mul_pd(w, _mm512_loadu_pd(t.pa + col - tCol)));
    }
    _mm512_storeu_pd(t.weightsB + col, _mm512_add_pd(_mm512_loadu_pd(t.weightsB + col), weightB));
    _mm512_storeu_pd(t.sumsB + col, _mm512_add_pd(_mm512_loadu_pd(t.sumsB + col), sumB));
  }
  gatherColumns(t, col, last);
}

// All shifts of one block of rows [rowBegin, rowEnd), for every shift (tRow, tCol) with tRow in
// [-d, d] and tCol in [0, d] (tCol = 0 counted from both sides, hence alpha 1/2), as skimage's
// fast mode: distance(row, col) = sum over the 2*offset x 2*offset window
// rows (row - offset, row + offset], cols (col - offset, col + offset] of
// (p - p_shifted)^2 - 2 sigma^2 (skimage's integral-image corners give exactly that window),
// divided by h^2 s^2; weight = alpha * fastExp(-distance) unless distance > 5; each pair adds
// to both pixels. Skimage sums the window by corners of a whole-image integral; here it is summed
// column-wise (rolled down the block's rows) then row-wise (the same terms: distances agree to
// rounding), so a row block's work stays in cache and vectorises. Per row, the column sums of
// all d + 1 column shifts are rolled first, then weighed together, so the row's own
// accumulators are read and written once per row shift rather than once per shift.
enum class Simd { Baseline, Avx2, Avx512 };

template <Simd kSimd>
[[gnu::always_inline]] inline void accumulateBlockImpl(const double* p, const Geometry& g, int d, int rowBegin,
                                                       int rowEnd, Scratch& scratch, Accumulators& acc) {
  const int offset = g.offset, nRow = g.nRow, nCol = g.nCol;
  const int window = 2 * offset;  // rows (and columns) summed per distance
  double* const weights = acc.weights.data();
  double* const sums = acc.sums.data();
  const double varDiff = g.varDiff;
  for (int tRow = -d; tRow <= d; ++tRow) {
    // Rows whose distance to the shifted patch is defined (skimage's loop bounds).
    const int first = std::max({rowBegin, offset, offset - tRow});
    const int last = std::min({rowEnd, nRow - offset, nRow - offset - tRow});
    for (int row = first; row < last; ++row) {
      // Column sums over the window's rows (row - offset, row + offset] of the squared
      // differences (p - p shifted by (tRow, tCol))^2 - 2 sigma^2: summed for the block's first
      // row, then rolled down (the row entering added, the row leaving taken off).
      for (int tCol = 0; tCol <= d; ++tCol) {
        double* __restrict colSum = scratch.columnSums.data() + std::size_t(tCol) * nCol;
        const int colEnd = nCol - tCol;  // difference columns 1 .. colEnd - 1
        if (row == first || window == 0) {
          for (int col = 1; col < colEnd; ++col) colSum[col] = 0;
          for (int k = -offset + 1; k <= offset; ++k) {
            const double* __restrict a = p + std::size_t(row + k) * nCol;
            const double* __restrict b = p + std::size_t(row + k + tRow) * nCol + tCol;
            for (int col = 1; col < colEnd; ++col) {
              const double t = a[col] - b[col];
              colSum[col] += t * t - varDiff;
            }
          }
        } else {
          const double* __restrict aIn = p + std::size_t(row + offset) * nCol;
          const double* __restrict bIn = p + std::size_t(row + offset + tRow) * nCol + tCol;
          const double* __restrict aOut = p + std::size_t(row - offset) * nCol;
          const double* __restrict bOut = p + std::size_t(row - offset + tRow) * nCol + tCol;
          for (int col = 1; col < colEnd; ++col) {
            const double tIn = aIn[col] - bIn[col], tOut = aOut[col] - bOut[col];
            colSum[col] += (tIn * tIn - varDiff) - (tOut * tOut - varDiff);
          }
        }
      }
      const std::size_t a = std::size_t(row) * nCol, b = std::size_t(row + tRow) * nCol;
      const RowTask task{scratch.columnSums.data(), scratch.weights.data(), p + a, p + b, weights + a, sums + a,
                         weights + b, sums + b, nCol, d, offset, g.expScale, g.farSum};
      if constexpr (kSimd == Simd::Avx512) {
        weighRowAvx512(task);
      } else if constexpr (kSimd == Simd::Avx2) {
        weighRowAvx2(task);
      } else {
        weighColumns(task, offset, nCol - offset);
        gatherColumns(task, offset, nCol - offset);
      }
    }
  }
}

// The block compiled three times: AVX-512 and AVX2 (chosen at run time) and the x86-64 baseline.
// Every version adds and multiplies the same doubles in the same order (no FMA), so they agree.
__attribute__((target(FIBSEG_AVX512))) void accumulateBlockAvx512(const double* p, const Geometry& g, int d,
                                                                  int rowBegin, int rowEnd, Scratch& scratch,
                                                                  Accumulators& acc) {
  accumulateBlockImpl<Simd::Avx512>(p, g, d, rowBegin, rowEnd, scratch, acc);
}
__attribute__((target("avx2"))) void accumulateBlockAvx2(const double* p, const Geometry& g, int d, int rowBegin,
                                                         int rowEnd, Scratch& scratch, Accumulators& acc) {
  accumulateBlockImpl<Simd::Avx2>(p, g, d, rowBegin, rowEnd, scratch, acc);
}
void accumulateBlockBaseline(const double* p, const Geometry& g, int d, int rowBegin, int rowEnd, Scratch& scratch,
                             Accumulators& acc) {
  accumulateBlockImpl<Simd::Baseline>(p, g, d, rowBegin, rowEnd, scratch, acc);
}

#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace

cv::Mat nonLocalMeansUnitScale(const cv::Mat& slice, const NlMeansParams& params) {
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

  // Padded at the slice's own depth, then scaled (each pixel's value is the same either way):
  // one double image instead of two.
  cv::Mat paddedGrey, padded;
  cv::copyMakeBorder(slice, paddedGrey, pad, pad, pad, pad, cv::BORDER_REFLECT_101);
  paddedGrey.convertTo(padded, CV_64F, 1.0 / (depth == 8 ? 255.0 : 65535.0));
  Geometry g;
  g.offset = offset, g.nRow = padded.rows, g.nCol = padded.cols;
  g.h2s2 = params.h * params.h * s * s;
  g.varDiff = 2 * params.sigma * params.sigma;
  g.expScale = -kExpA / g.h2s2;
  g.farSum = smallestSumBeyond(kDistanceCutoff, g.h2s2);
  const double* p = padded.ptr<double>();

  // Blocks of rows small enough that a block's accumulator rows (the block and `d` rows either
  // side), its input rows and its differences stay in the core's cache for all its shifts.
  constexpr int kBlockRows = 16;
  const std::size_t n = static_cast<std::size_t>(g.nRow) * g.nCol;
  tbb::enumerable_thread_specific<std::unique_ptr<Accumulators>> perThread([n] { return accumulatorPool().take(n); });
  tbb::enumerable_thread_specific<Scratch> scratches([&] {
    return Scratch{std::vector<double>(std::size_t(d + 1) * g.nCol, 0.0),
                   std::vector<double>(std::size_t(d + 1) * (d + g.nCol), 0.0)};
  });
  const int blocks = (g.nRow + kBlockRows - 1) / kBlockRows;
  tbb::parallel_for(tbb::blocked_range<int>(0, blocks, 1), [&](const tbb::blocked_range<int>& range) {
    Accumulators& acc = *perThread.local();
    Scratch& scratch = scratches.local();
    static const bool avx2 = __builtin_cpu_supports("avx2");
    static const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
    for (int b = range.begin(); b != range.end(); ++b) {
      const int rowEnd = std::min(g.nRow, (b + 1) * kBlockRows);
      if (avx512) accumulateBlockAvx512(p, g, d, b * kBlockRows, rowEnd, scratch, acc);
      else if (avx2) accumulateBlockAvx2(p, g, d, b * kBlockRows, rowEnd, scratch, acc);
      else accumulateBlockBaseline(p, g, d, b * kBlockRows, rowEnd, scratch, acc);
    }
  });

  cv::Mat result(slice.size(), CV_64F);
  std::vector<const Accumulators*> parts;
  for (const auto& acc : perThread) parts.push_back(acc.get());
  tbb::parallel_for(0, slice.rows, [&](int row) {
    double* out = result.ptr<double>(row);
    for (int col = 0; col < slice.cols; ++col) {
      const std::size_t i = static_cast<std::size_t>(row + pad) * g.nCol + col + pad;
      double weight = 0, sum = 0;
      for (const Accumulators* acc : parts) weight += acc->weights[i], sum += acc->sums[i];
      out[col] = sum / weight;  // the zero shift's weight is > 0: no division by zero
    }
  });
  for (auto& acc : perThread) accumulatorPool().give(std::move(acc));
  return result;
}

cv::Mat nonLocalMeans(const cv::Mat& slice, const NlMeansParams& params) {
  const cv::Mat unit = nonLocalMeansUnitScale(slice, params);
  cv::Mat out;
  unit.convertTo(out, slice.type(), maxGreyOf(slice));
  return out;
}

}  // namespace fibseg::intensity
