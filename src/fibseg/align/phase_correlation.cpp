#include "fibseg/align/phase_correlation.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <vector>

#include "fibseg/core/error.hpp"

namespace fibseg::align::detail {

namespace {

constexpr double kTaperFraction = 0.12;  // of each side, tapered to zero (Tukey window)
// Vertical-frequency rows dropped on each side of zero (per frame height): curtains vary along
// y only through their slow fade and the taper, which spreads them over about 1 / kTaperFraction
// rows of the spectrum.
constexpr int kCurtainNotchBins = 8;
// Below this many rows (a thin registration region, such as the protective cap) the notch would
// drop most vertical frequencies: there stripes are taken out by subtracting each column's mean
// (over so few rows they hardly fade) and the notch shrinks in proportion.
constexpr int kShortRows = 128;
constexpr double kWhiteningFloor = 0.1;  // of the mean magnitude in the band
constexpr int kPeakBoxPx = 5;            // half-width of the peak and its sidelobes, px

// Tukey window: flat in the middle, cosine taper at the ends. The border of a slice is a jump
// (the FFT sees the slice repeated), which is fixed in the frame like curtains; the taper hides it.
// Sampled at i + offset (offset may be fractional); 0 beyond the ends.
cv::Mat taper(int n, double offset = 0) {
  cv::Mat w(1, n, CV_32F);
  const int edge = std::max(2, int(std::lround(kTaperFraction * n)));
  auto rise = [&](double t) { return t >= edge ? 1.0 : 0.5 - 0.5 * std::cos(M_PI * (t + 0.5) / edge); };
  for (int i = 0; i < n; ++i) {
    const double t = i + offset;
    w.at<float>(i) = t < -0.5 || t > n - 0.5 ? 0.0f : float(std::max(0.0, std::min(rise(t), rise(n - 1 - t))));
  }
  return w;
}

double frequency(int index, int n) {  // cycles per px, in [-0.5, 0.5)
  return double(index < (n + 1) / 2 ? index : index - n) / n;
}

// Sub-pixel offset of a peak from three samples around it: a Gaussian through them (exact for the
// peak shape this weight gives), a parabola if a sample is not positive.
double peakOffset(double left, double centre, double right) {
  double d = 0;
  if (left > 0 && centre > 0 && right > 0) {
    const double l = std::log(left), c = std::log(centre), r = std::log(right);
    const double denominator = l - 2 * c + r;
    if (denominator < 0) d = 0.5 * (l - r) / denominator;
  } else {
    const double denominator = left - 2 * centre + right;
    if (denominator < 0) d = 0.5 * (left - right) / denominator;
  }
  return std::clamp(d, -0.5, 0.5);
}

// How far the peak at (px, py) stands above the rest of the surface searched (|dx|, |dy| <=
// maxShift): (peak - mean) / standard deviation outside a box around the peak (its own width and
// first sidelobes), over sqrt(2 ln N). The highest of N independent Gaussian values is about
// sqrt(2 ln N) standard deviations above their mean, so a peak chance alone produced scores about
// 1 (the surface is smooth, so less than 1), and a real match well above.
double peakSignificance(const cv::Mat& surface, int px, int py, int maxShift) {
  const int w = surface.cols, h = surface.rows;
  double sum = 0, sum2 = 0, peak = 0;
  long long n = 0;
  for (int dy = -maxShift; dy <= maxShift; ++dy) {
    const float* row = surface.ptr<float>((dy % h + h) % h);
    for (int dx = -maxShift; dx <= maxShift; ++dx) {
      const double v = row[(dx % w + w) % w];
      if (dx == px && dy == py) peak = v;
      if (std::abs(dx - px) <= kPeakBoxPx && std::abs(dy - py) <= kPeakBoxPx) continue;
      sum += v, sum2 += v * v, ++n;
    }
  }
  if (n < 16) return 0;
  const double mean = sum / n, spread = std::sqrt(std::max(0.0, sum2 / n - mean * mean));
  if (spread <= 0) return 0;
  const double positions = double(2 * maxShift + 1) * (2 * maxShift + 1);
  return (peak - mean) / spread / std::sqrt(2 * std::log(std::max(positions, 3.0)));
}

}  // namespace

PhaseCorrelator::PhaseCorrelator(cv::Size size, const RegistrationParams& params)
    : size_(size), params_(params) {
  if (size.width < 8 || size.height < 8)
    throw Error("align: slices of " + std::to_string(size.width) + " x " + std::to_string(size.height) +
                " px are too small to register; expected at least 8 x 8 (check the ROI)");
  if (params.fineSigmaPx < 0 || params.coarseSigmaPx <= params.fineSigmaPx)
    throw Error("align: band-pass sigmas fine " + std::to_string(params.fineSigmaPx) + " px and coarse " +
                std::to_string(params.coarseSigmaPx) + " px; expected 0 <= fine < coarse");
  dftSize_ = {cv::getOptimalDFTSize(size.width), cv::getOptimalDFTSize(size.height)};
  window_ = taper(size.height).t() * taper(size.width);

  sqrtWeight_.create(dftSize_, CV_32F);
  const double fine = 2 * M_PI * M_PI * params.fineSigmaPx * params.fineSigmaPx;
  const double coarse = 2 * M_PI * M_PI * params.coarseSigmaPx * params.coarseSigmaPx;
  const double notchBins = kCurtainNotchBins * std::min(1.0, double(size.height) / kShortRows);
  const int notch = params.suppressCurtaining ? int(std::ceil(notchBins * double(dftSize_.height) / size.height)) : -1;
  for (int y = 0; y < dftSize_.height; ++y) {
    const double fy = frequency(y, dftSize_.height);
    const int fyBins = std::abs(y < (dftSize_.height + 1) / 2 ? y : y - dftSize_.height);
    float* row = sqrtWeight_.ptr<float>(y);
    for (int x = 0; x < dftSize_.width; ++x) {
      const double fx = frequency(x, dftSize_.width), f2 = fx * fx + fy * fy;
      const double weight = fyBins <= notch ? 0.0 : std::exp(-fine * f2) * (1 - std::exp(-coarse * f2));
      row[x] = float(std::sqrt(weight));
    }
  }
}

void requireSliceSize(const cv::Mat& slice, cv::Size size) {
  if (slice.size() != size || slice.channels() != 1)
    throw Error("align: a slice of " + std::to_string(slice.cols) + " x " + std::to_string(slice.rows) +
                " px (" + std::to_string(slice.channels()) + " channels) among slices of " +
                std::to_string(size.width) + " x " + std::to_string(size.height) +
                "; expected every cropped slice single-channel and the same size");
}

bool PhaseCorrelator::shortRegion() const { return std::min(size_.width, size_.height) < kShortRows; }

// window(x + offset), zero where that falls outside the frame.
cv::Mat PhaseCorrelator::shiftedWindow(cv::Point2d offset) const {
  return taper(size_.height, offset.y).t() * taper(size_.width, offset.x);
}

PhaseCorrelator::Spectrum PhaseCorrelator::prepare(const cv::Mat& slice, const cv::Mat& window) const {
  return whiten(transform(slice, window));
}

cv::Mat PhaseCorrelator::transform(const cv::Mat& slice, const cv::Mat& window) const {
  requireSliceSize(slice, size_);
  cv::Mat image;
  slice.convertTo(image, CV_32F);
  if (params_.suppressCurtaining && size_.height < kShortRows) {
    cv::Mat columnMeans;
    cv::reduce(image, columnMeans, 0, cv::REDUCE_AVG);
    image -= cv::repeat(columnMeans, image.rows, 1);
  }
  image -= cv::mean(image);
  image = image.mul(window.empty() ? window_ : window);
  cv::Mat padded = cv::Mat::zeros(dftSize_, CV_32F);
  image.copyTo(padded(cv::Rect(cv::Point(0, 0), size_)));
  cv::Mat transformed;
  cv::dft(padded, transformed, cv::DFT_COMPLEX_OUTPUT);
  return transformed;
}

void PhaseCorrelator::addMoved(cv::Mat& sum, const cv::Mat& transformed, cv::Point2d offset) const {
  if (sum.empty()) sum = cv::Mat::zeros(dftSize_, CV_32FC2);
  // image(x + o) has the transform T(f) exp(+2 pi i f.o); the ramp is separable in x and y.
  // (Products written out: std::complex's operator* checks for infinities and is several times
  // slower.)
  std::vector<float> rampXRe(dftSize_.width), rampXIm(dftSize_.width);
  for (int x = 0; x < dftSize_.width; ++x) {
    const double angle = 2 * M_PI * frequency(x, dftSize_.width) * offset.x;
    rampXRe[x] = float(std::cos(angle)), rampXIm[x] = float(std::sin(angle));
  }
  for (int y = 0; y < dftSize_.height; ++y) {
    const double angle = 2 * M_PI * frequency(y, dftSize_.height) * offset.y;
    const float yRe = float(std::cos(angle)), yIm = float(std::sin(angle));
    const float* in = transformed.ptr<float>(y);
    float* out = sum.ptr<float>(y);
    for (int x = 0; x < dftSize_.width; ++x) {
      const float rRe = rampXRe[x] * yRe - rampXIm[x] * yIm, rIm = rampXRe[x] * yIm + rampXIm[x] * yRe;
      const float a = in[2 * x], b = in[2 * x + 1];
      out[2 * x] += a * rRe - b * rIm;
      out[2 * x + 1] += a * rIm + b * rRe;
    }
  }
}

PhaseCorrelator::Spectrum PhaseCorrelator::whiten(cv::Mat transformed) const {
  Spectrum spectrum;
  spectrum.values = std::move(transformed);
  // Whitening divides by the magnitude plus a floor: frequencies where the slice has almost no
  // signal (beyond its blur, say) carry only leakage and rounding, and would otherwise count as
  // much as the structure.
  cv::Mat magnitude(dftSize_, CV_32F);
  double sum = 0;
  long long count = 0;
  for (int y = 0; y < dftSize_.height; ++y) {
    const auto* value = spectrum.values.ptr<cv::Vec2f>(y);
    const float* w = sqrtWeight_.ptr<float>(y);
    float* m = magnitude.ptr<float>(y);
    for (int x = 0; x < dftSize_.width; ++x) {
      m[x] = std::sqrt(value[x][0] * value[x][0] + value[x][1] * value[x][1]);
      if (w[x] > 0) sum += m[x], ++count;
    }
  }
  const float floor = float(kWhiteningFloor * (count ? sum / count : 0.0));
  double energy = 0;
  for (int y = 0; y < dftSize_.height; ++y) {
    auto* value = spectrum.values.ptr<cv::Vec2f>(y);
    const float* w = sqrtWeight_.ptr<float>(y);
    const float* m = magnitude.ptr<float>(y);
    for (int x = 0; x < dftSize_.width; ++x) {
      if (m[x] + floor > 1e-20f && w[x] > 0) {
        value[x] *= w[x] / (m[x] + floor);
        energy += double(value[x][0]) * value[x][0] + double(value[x][1]) * value[x][1];
      } else {
        value[x] = {0, 0};
      }
    }
  }
  spectrum.energy = energy;
  return spectrum;
}

int PhaseCorrelator::maxShiftFor(int lag) const {
  const int limit = std::min(dftSize_.width, dftSize_.height) / 2 - 2;
  const int wanted = params_.maxShiftPx > 0 ? lag * params_.maxShiftPx : std::min(size_.width, size_.height) / 4;
  return std::max(1, std::min(wanted, limit));
}

// The correlation surface is band-limited: c(s) = sum_k P(k) exp(2 pi i k.s) is defined for
// every real s, and its maximum is where the slices match. A few Newton steps on c from the
// 3-point estimate find that maximum exactly; the 3-point fit alone is off by up to ~0.05 px
// ("pixel locking") because the notch and the high-pass make the peak not quite Gaussian.
cv::Point2d PhaseCorrelator::refinePeak(const cv::Mat& product, cv::Point2d start) const {
  const int w = dftSize_.width, h = dftSize_.height;
  std::vector<double> fx(w), fy(h), phaseXRe(w), phaseXIm(w);
  for (int x = 0; x < w; ++x) fx[x] = frequency(x, w);
  for (int y = 0; y < h; ++y) fy[y] = frequency(y, h);
  cv::Point2d s = start;
  for (int iteration = 0; iteration < 4; ++iteration) {
    for (int x = 0; x < w; ++x)
      phaseXRe[x] = std::cos(2 * M_PI * fx[x] * s.x), phaseXIm[x] = std::sin(2 * M_PI * fx[x] * s.x);
    double gx = 0, gy = 0, hxx = 0, hxy = 0, hyy = 0;
    for (int y = 0; y < h; ++y) {
      // The phase is separable: sum each row with the x phase (moments 0, 1, 2 in fx), then turn
      // the row sums by the y phase. Products written out: std::complex's operator* checks for
      // infinities and is several times slower.
      const float* p = product.ptr<float>(y);
      double s0Re = 0, s0Im = 0, s1Re = 0, s1Im = 0, s2Re = 0, s2Im = 0;
      for (int x = 0; x < w; ++x) {
        const double re = p[2 * x] * phaseXRe[x] - p[2 * x + 1] * phaseXIm[x];
        const double im = p[2 * x] * phaseXIm[x] + p[2 * x + 1] * phaseXRe[x];
        s0Re += re, s0Im += im;
        s1Re += re * fx[x], s1Im += im * fx[x];
        s2Re += re * fx[x] * fx[x], s2Im += im * fx[x] * fx[x];
      }
      const double yRe = std::cos(2 * M_PI * fy[y] * s.y), yIm = std::sin(2 * M_PI * fy[y] * s.y);
      // e = row sum * y phase; c = sum Re(e); dc/ds = -2 pi sum Im(e) f; d2c/ds2 = -(2 pi)^2 sum Re(e) f f^T
      const double rowA = s0Re * yRe - s0Im * yIm, rowB = s0Re * yIm + s0Im * yRe;
      const double rowAx = s1Re * yRe - s1Im * yIm, rowGx = s1Re * yIm + s1Im * yRe;
      const double rowAxx = s2Re * yRe - s2Im * yIm;
      gx += rowGx;
      gy += rowB * fy[y];
      hxy += rowAx * fy[y];
      hyy += rowA * fy[y] * fy[y];
      hxx += rowAxx;
    }
    // Newton on c: s -= H^-1 g with g = -2 pi (gx, gy), H = -(2 pi)^2 [[hxx, hxy], [hxy, hyy]].
    const double det = hxx * hyy - hxy * hxy;
    if (!(hxx > 0 && det > 0)) return start;  // not a maximum here: keep the 3-point estimate
    const double k = 1.0 / (2 * M_PI);
    const double dx = -k * (hyy * gx - hxy * gy) / det, dy = -k * (hxx * gy - hxy * gx) / det;
    s += cv::Point2d(dx, dy);
    if (std::abs(s.x - start.x) > 1 || std::abs(s.y - start.y) > 1) return start;  // diverged
    if (std::abs(dx) + std::abs(dy) < 1e-4) break;
  }
  return s;
}

PairShift PhaseCorrelator::correlate(const Spectrum& fixed, const Spectrum& moving, int maxShift, bool refine) const {
  PairShift result;
  if (fixed.energy <= 0 || moving.energy <= 0) return result;  // a flat slice: nothing to match
  cv::Mat product, surface;
  cv::mulSpectrums(moving.values, fixed.values, product, 0, /*conjB=*/true);
  cv::idft(product, surface, cv::DFT_REAL_OUTPUT);

  const int w = dftSize_.width, h = dftSize_.height;
  auto at = [&](int dy, int dx) { return surface.at<float>((dy % h + h) % h, (dx % w + w) % w); };
  int bestX = 0, bestY = 0;
  float best = -1e30f;
  for (int dy = -maxShift; dy <= maxShift; ++dy) {
    const float* row = surface.ptr<float>((dy % h + h) % h);
    for (int dx = 0; dx <= maxShift; ++dx)  // non-negative shifts: the start of the row
      if (row[dx] > best) best = row[dx], bestX = dx, bestY = dy;
    for (int dx = 1; dx <= maxShift; ++dx)  // negative shifts: the end of the row
      if (row[w - dx] > best) best = row[w - dx], bestX = -dx, bestY = dy;
  }

  const double ox = peakOffset(at(bestY, bestX - 1), best, at(bestY, bestX + 1));
  const double oy = peakOffset(at(bestY - 1, bestX), best, at(bestY + 1, bestX));
  result.shift = {bestX + ox, bestY + oy};
  if (refine) result.shift = refinePeak(product, result.shift);
  result.peak = std::clamp(best / std::sqrt(fixed.energy * moving.energy), 0.0, 1.0);
  result.quality = peakSignificance(surface, bestX, bestY, maxShift);
  return result;
}

PairShift PhaseCorrelator::match(const cv::Mat& fixed, const Spectrum& fixedSpectrum, const cv::Mat& moving,
                                 const Spectrum& movingSpectrum, int maxShift) const {
  const PairShift first = correlate(fixedSpectrum, movingSpectrum, maxShift, /*refine=*/true);
  // Both slices were tapered by the same window, i.e. compared on the same part of the frame,
  // where their content differs by the shift: how much of the same content both windows show
  // falls off with the shift, which pulls the estimate towards zero - by ~1% of it on a whole
  // slice, by up to 20% on a region a few dozen pixels high, whose tapers are a large part of it.
  // So compare again on the content both slices show: the window times itself moved by the
  // shift found, placed on each slice where that content lies. Skipped where the pull is
  // negligible: under a pixel on a region at least kShortRows across. On a short region the pull
  // is large enough that the windows are placed again with the better estimate (a few rounds).
  const bool wholePixel = std::abs(first.shift.x) >= 0.5 || std::abs(first.shift.y) >= 0.5;
  if (first.peak <= 0 || (!wholePixel && !shortRegion())) return first;
  PairShift best = first;
  for (int round = 0; round < (shortRegion() ? 4 : 1); ++round) {
    const cv::Mat onFixed = window_.mul(shiftedWindow(best.shift));  // content at x shows in moving at x + shift
    const cv::Mat onMoving = window_.mul(shiftedWindow(-best.shift));
    const PairShift next = correlate(prepare(fixed, onFixed), prepare(moving, onMoving), maxShift, true);
    if (next.peak <= 0) break;
    const double change = cv::norm(next.shift - best.shift);
    best = next;
    if (change < 0.005) break;
  }
  return best;
}

}  // namespace fibseg::align::detail
