// Brightness equalisation between slices. Beam current and detector drift change a slice's gain
// and offset; the phase fractions change too, so means are biased and we match percentiles (robust
// linear map) or whole quantile functions (histogram matching) instead.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>

#include "fibseg/core/error.hpp"
#include "fibseg/core/histogram.hpp"
#include "fibseg/core/image.hpp"
#include "fibseg/intensity/intensity.hpp"

namespace fibseg::intensity {

namespace {

constexpr int kLevels = BrightnessStats::kQuantileLevels;

std::vector<double> histogramOf(const cv::Mat& slice, int bins) {
  std::vector<double> hist(bins, 0.0);
  if (slice.depth() == CV_8U) {
    std::array<std::uint64_t, 256> counts{};
    addCounts8u(slice, counts);
    for (int i = 0; i < bins && i < 256; ++i) hist[i] = double(counts[i]);
    return hist;
  }
  std::vector<long long> counts(bins, 0);
  for (int y = 0; y < slice.rows; ++y) {
    const ushort* row = slice.ptr<ushort>(y);
    for (int x = 0; x < slice.cols; ++x) ++counts[row[x]];
  }
  for (int i = 0; i < bins; ++i) hist[i] = double(counts[i]);
  return hist;
}

// Grey value g stands for the interval [g - 0.5, g + 0.5); pixels are spread evenly over it, so the
// quantile function is piecewise linear and an 8-bit median is not stuck on whole grey levels.
std::vector<double> quantilesOf(const std::vector<double>& hist) {
  double total = 0;
  for (double c : hist) total += c;
  std::vector<double> q(kLevels);
  std::size_t bin = 0;
  double below = 0;  // pixels in bins before `bin`
  for (int i = 0; i < kLevels; ++i) {
    const double target = total * i / (kLevels - 1);
    while (bin + 1 < hist.size() && below + hist[bin] < target) below += hist[bin++];
    // Skip empty bins so the top quantile lands on the last occupied grey level.
    while (bin + 1 < hist.size() && hist[bin] == 0) ++bin;
    const double within = hist[bin] > 0 ? std::clamp((target - below) / hist[bin], 0.0, 1.0) : 0.5;
    q[i] = double(bin) - 0.5 + within;
  }
  return q;
}

// Fraction of pixels below grey value v according to a quantile function (its inverse).
double fractionBelow(const std::vector<double>& q, double v) {
  if (v <= q.front()) return 0;
  if (v >= q.back()) return 1;
  const auto lower = std::lower_bound(q.begin(), q.end(), v);  // first >= v
  const auto upper = std::upper_bound(q.begin(), q.end(), v);  // first > v
  double level;
  if (lower != upper) {  // v is held by a run of levels: take the run's middle
    level = 0.5 * double((lower - q.begin()) + (upper - q.begin()) - 1);
  } else {
    const std::size_t hi = std::size_t(upper - q.begin()), lo = hi - 1;
    level = double(lo) + (v - q[lo]) / (q[hi] - q[lo]);
  }
  return level / (kLevels - 1);
}

double quantileAt(const std::vector<double>& q, double fraction) {
  const double pos = std::clamp(fraction, 0.0, 1.0) * (kLevels - 1);
  const int i = std::min(int(pos), kLevels - 2);
  const double t = pos - i;
  return q[i] + t * (q[i + 1] - q[i]);
}

void checkStats(const BrightnessStats& s, const char* what) {
  if (int(s.quantiles.size()) != kLevels || (s.bitDepth != 8 && s.bitDepth != 16))
    throw Error(std::string("brightness equalisation: ") + what +
                " statistics are empty or malformed (expected measureBrightness output with " +
                std::to_string(kLevels) + " quantiles)");
}

template <typename T>
cv::Mat applyLut(const cv::Mat& slice, const std::vector<T>& lut) {
  cv::Mat out(slice.size(), slice.type());
  for (int y = 0; y < slice.rows; ++y) {
    const T* in = slice.ptr<T>(y);
    T* o = out.ptr<T>(y);
    for (int x = 0; x < slice.cols; ++x) o[x] = lut[in[x]];
  }
  return out;
}

}  // namespace

double BrightnessStats::percentile(double percent) const {
  if (int(quantiles.size()) != kLevels)
    throw Error("brightness statistics: no quantiles measured (use measureBrightness)");
  return quantileAt(quantiles, percent / 100.0);
}

BrightnessStats measureBrightness(const cv::Mat& slice) {
  const int depth = bitDepthOf(slice, "brightness measurement");
  if (slice.empty()) throw Error("brightness measurement: empty slice (expected an image)");
  BrightnessStats stats;
  stats.bitDepth = depth;
  stats.quantiles = quantilesOf(histogramOf(slice, depth == 8 ? 256 : 65536));
  return stats;
}

BrightnessStats brightnessReference(const std::vector<BrightnessStats>& stats, BrightnessReference how) {
  if (stats.empty()) throw Error("brightness reference: no slice statistics (expected at least one slice)");
  for (std::size_t i = 0; i < stats.size(); ++i) {
    checkStats(stats[i], ("slice " + std::to_string(i)).c_str());
    if (stats[i].bitDepth != stats[0].bitDepth)
      throw Error("brightness reference: slice " + std::to_string(i) + " is " +
                  std::to_string(stats[i].bitDepth) + "-bit, slice 0 is " +
                  std::to_string(stats[0].bitDepth) + "-bit (expected one bit depth for the stack)");
  }
  if (how == BrightnessReference::FirstSlice) return stats.front();
  // Level-wise median: a median of monotone functions is monotone, and a few odd slices (a
  // blank one, a charging artefact) do not move it.
  BrightnessStats ref;
  ref.bitDepth = stats[0].bitDepth;
  ref.quantiles.resize(kLevels);
  std::vector<double> column(stats.size());
  for (int i = 0; i < kLevels; ++i) {
    for (std::size_t s = 0; s < stats.size(); ++s) column[s] = stats[s].quantiles[i];
    const std::size_t mid = column.size() / 2;
    std::nth_element(column.begin(), column.begin() + mid, column.end());
    double m = column[mid];
    if (column.size() % 2 == 0) m = 0.5 * (m + *std::max_element(column.begin(), column.begin() + mid));
    ref.quantiles[i] = m;
  }
  return ref;
}

bool needsBrightnessReference(const IntensityParams& params) {
  return params.brightness.method != BrightnessMethod::None;
}

cv::Mat equaliseBrightness(const cv::Mat& slice, const BrightnessStats& sliceStats,
                           const BrightnessStats& reference, const BrightnessParams& params) {
  if (params.method == BrightnessMethod::None) return slice.clone();
  const int depth = bitDepthOf(slice, "brightness equalisation");
  checkStats(sliceStats, "the slice's");
  checkStats(reference, "the reference");
  if (sliceStats.bitDepth != depth || reference.bitDepth != depth)
    throw Error("brightness equalisation: slice is " + std::to_string(depth) + "-bit but its statistics are " +
                std::to_string(sliceStats.bitDepth) + "-bit and the reference " +
                std::to_string(reference.bitDepth) + "-bit (expected all the same)");
  const int levels = depth == 8 ? 256 : 65536;
  const double maxGrey = levels - 1;

  std::vector<double> map(levels);
  if (params.method == BrightnessMethod::Percentiles) {
    if (!(params.lowPercentile >= 0 && params.lowPercentile < params.highPercentile && params.highPercentile <= 100))
      throw Error("brightness equalisation: percentiles " + std::to_string(params.lowPercentile) + " and " +
                  std::to_string(params.highPercentile) + " (expected 0 <= low < high <= 100)");
    // Least-squares line through the quantile-quantile pairs at every percent from low to high:
    // two percentiles alone follow any phase whose fraction changed; the whole range averages it.
    double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (double p = params.lowPercentile; p <= params.highPercentile + 1e-9; p += 1.0) {
      const double x = sliceStats.percentile(p), y = reference.percentile(p);
      n += 1, sx += x, sy += y, sxx += x * x, sxy += x * y;
    }
    const double variance = sxx - sx * sx / n;
    // A slice with no spread between the percentiles (blank) can only be shifted, not stretched.
    const double gain = variance > 1e-9 ? (sxy - sx * sy / n) / variance : 1.0;
    const double offset = (sy - gain * sx) / n;
    for (int g = 0; g < levels; ++g) map[g] = gain * g + offset;
  } else {
    // Histogram matching: grey g sits at fraction F(g) of the slice; it becomes the reference's
    // grey at the same fraction. Monotone, so the order of grey levels (and phases) is kept.
    for (int g = 0; g < levels; ++g) map[g] = quantileAt(reference.quantiles, fractionBelow(sliceStats.quantiles, g));
  }
  if (depth == 8) {
    cv::Mat lut(1, levels, CV_8U), out;
    for (int g = 0; g < levels; ++g) lut.at<uchar>(g) = uchar(std::clamp(std::lround(map[g]), 0L, long(maxGrey)));
    cv::LUT(slice, lut, out);  // OpenCV's vectorised lookup: the same bytes as a loop over the pixels
    return out;
  }
  std::vector<ushort> lut(levels);
  for (int g = 0; g < levels; ++g) lut[g] = ushort(std::clamp(std::lround(map[g]), 0L, long(maxGrey)));
  return applyLut(slice, lut);
}

}  // namespace fibseg::intensity
