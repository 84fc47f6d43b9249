#include "fibseg/segment/segment.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>

#include "fibseg/core/error.hpp"
#include "fibseg/core/histogram.hpp"
#include "fibseg/core/image.hpp"

namespace fibseg::segment {

// ---- Otsu -----------------------------------------------------------------------------------

GreyHistogram::GreyHistogram(int bitDepth) : bitDepth_(bitDepth) {
  if (bitDepth != 8 && bitDepth != 16)
    throw Error("grey histogram: bit depth " + std::to_string(bitDepth) + "; expected 8 or 16");
  counts_.assign(bitDepth == 8 ? 256 : 65536, 0);
}

void GreyHistogram::add(const cv::Mat& slice) {
  const int depth = bitDepthOf(slice, "slice added to the grey histogram");
  if (depth != bitDepth_)
    throw Error("grey histogram: a " + std::to_string(depth) + "-bit slice added to a " +
                std::to_string(bitDepth_) + "-bit histogram; expected every slice of a stack to have the same depth");
  if (bitDepth_ == 8) {
    addCounts8u(slice, std::span<std::uint64_t, 256>(counts_.data(), 256));
    return;
  }
  for (int y = 0; y < slice.rows; ++y) {
    const auto* row = slice.ptr<std::uint16_t>(y);
    for (int x = 0; x < slice.cols; ++x) ++counts_[row[x]];
  }
}

GreyHistogram GreyHistogram::fromCounts(int bitDepth, std::vector<std::uint64_t> counts) {
  GreyHistogram h(bitDepth);
  if (counts.size() != h.counts_.size())
    throw Error("grey histogram of " + std::to_string(counts.size()) + " levels, expected " +
                std::to_string(h.counts_.size()) + " for " + std::to_string(bitDepth) + "-bit");
  h.counts_ = std::move(counts);
  return h;
}

void GreyHistogram::merge(const GreyHistogram& other) {
  if (other.bitDepth_ != bitDepth_)
    throw Error("grey histogram: cannot merge a " + std::to_string(other.bitDepth_) + "-bit histogram into a " +
                std::to_string(bitDepth_) + "-bit one");
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
}

std::uint64_t GreyHistogram::total() const {
  std::uint64_t sum = 0;
  for (auto c : counts_) sum += c;
  return sum;
}

int otsuThreshold(const GreyHistogram& histogram) {
  const auto& h = histogram.counts();
  const int bins = static_cast<int>(h.size());
  double total = 0, sumAll = 0;
  int lowest = -1, highest = -1;
  for (int i = 0; i < bins; ++i) {
    if (!h[i]) continue;
    total += double(h[i]);
    sumAll += double(i) * double(h[i]);
    if (lowest < 0) lowest = i;
    highest = i;
  }
  if (total == 0) throw Error("Otsu threshold: the histogram is empty; expected at least one pixel");
  if (lowest == highest)
    throw Error("Otsu threshold: every pixel has grey level " + std::to_string(lowest) +
                "; expected a slice with contrast between active material and the rest");
  // Between-class variance w0 w1 (mu0 - mu1)^2 for "class 0 = grey <= t". Empty bins between two
  // populations leave it flat; the middle of that plateau is the least arbitrary choice.
  double w0 = 0, sum0 = 0, best = -1;
  int bestFirst = lowest, bestLast = lowest;
  for (int t = lowest; t < highest; ++t) {
    w0 += double(h[t]);
    sum0 += double(t) * double(h[t]);
    const double w1 = total - w0;
    const double mu0 = sum0 / w0, mu1 = (sumAll - sum0) / w1;
    const double between = w0 * w1 * (mu0 - mu1) * (mu0 - mu1);
    if (between > best) {
      best = between;
      bestFirst = bestLast = t;
    } else if (between == best && bestLast == t - 1) {
      bestLast = t;
    }
  }
  return (bestFirst + bestLast) / 2;
}

int otsuThreshold(const cv::Mat& slice) {
  GreyHistogram histogram(bitDepthOf(slice, "slice for the Otsu threshold"));
  histogram.add(slice);
  return otsuThreshold(histogram);
}

cv::Mat camMask(const cv::Mat& slice, int threshold) {
  bitDepthOf(slice, "slice for the CAM mask");
  cv::Mat mask;
  cv::compare(slice, cv::Scalar(threshold), mask, cv::CMP_GT);
  return mask;
}

// ---- Gabor ----------------------------------------------------------------------------------

cv::Mat gaborKernel(const GaborParams& g) {
  auto bad = [](const std::string& name, const std::string& value, const std::string& expected) {
    return Error("Gabor filter: " + name + " = " + value + "; expected " + expected);
  };
  if (g.kernelSize < 1 || g.kernelSize % 2 == 0)
    throw bad("segment.gabor_kernel_size", std::to_string(g.kernelSize), "an odd number of pixels >= 1");
  if (!(g.sigma > 0)) throw bad("segment.gabor_sigma", std::to_string(g.sigma), "a positive number of pixels");
  if (!(g.lambda > 0)) throw bad("segment.gabor_lambda", std::to_string(g.lambda), "a positive number of pixels");
  if (!(g.gamma > 0)) throw bad("segment.gabor_gamma", std::to_string(g.gamma), "a positive aspect ratio");
  const double toRad = CV_PI / 180.0;
  return cv::getGaborKernel(cv::Size(g.kernelSize, g.kernelSize), g.sigma, g.thetaDeg * toRad, g.lambda,
                            g.gamma, g.psiDeg * toRad, CV_32F);
}

cv::Mat poreCandidateImage(const cv::Mat& slice, const cv::Mat& mask) {
  const int depth = bitDepthOf(slice, "slice for the pore filter");
  if (mask.size() != slice.size() || mask.type() != CV_8U)
    throw Error("pore filter: the CAM mask must be an 8-bit image of the slice's size");
  cv::Mat inverted;
  if (depth == 8) {
    // 255 - I, 0 under the mask, in one pass (the same floats as convertTo then setTo).
    inverted.create(slice.size(), CV_32F);
    for (int y = 0; y < slice.rows; ++y) {
      const std::uint8_t* in = slice.ptr<std::uint8_t>(y);
      const std::uint8_t* m = mask.ptr<std::uint8_t>(y);
      float* out = inverted.ptr<float>(y);
      for (int x = 0; x < slice.cols; ++x) out[x] = m[x] ? 0.f : float(255 - in[x]);
    }
    return inverted;
  }
  // 16-bit slices keep their precision as fractions of a grey level.
  slice.convertTo(inverted, CV_32F, -1.0 / 257.0, 255.0);
  inverted.setTo(0, mask);
  return inverted;
}

namespace {

// Singular values below this fraction of the largest are float rounding, not kernel.
constexpr double kRankTolerance = 1e-6;

// A Gabor kernel with psi = 0 (or 90) is point-symmetric, so its singular vectors are even or odd
// up to rounding. Making that exact lets OpenCV's row/column filters take their symmetric paths
// (half the multiplications); the change is at float rounding level.
void exactSymmetry(cv::Mat& vector) {
  cv::Mat flat = vector.reshape(1, 1), mirrored;
  cv::flip(flat, mirrored, 1);
  const double size = cv::norm(flat);
  if (size == 0) return;
  if (cv::norm(flat - mirrored) <= 1e-5 * size) flat = 0.5 * (flat + mirrored);
  else if (cv::norm(flat + mirrored) <= 1e-5 * size) flat = 0.5 * (flat - mirrored);
  else return;
  vector = flat.reshape(1, vector.rows);
}

cv::Mat spatialGabor(const cv::Mat& input, const cv::Mat& kernel) {
  // A Gabor kernel has low numerical rank (1 at 0/90 degrees, 2 with a round envelope); as a sum
  // of separable filters the direct convolution costs rank * 2k instead of k^2 per pixel.
  cv::Mat k64, w, u, vt;
  kernel.convertTo(k64, CV_64F);
  cv::SVD::compute(k64, w, u, vt);
  cv::Mat sum, term;
  const double largest = w.at<double>(0);
  for (int i = 0; i < w.rows; ++i) {
    const double s = w.at<double>(i);
    if (s <= largest * kRankTolerance) break;
    cv::Mat column = u.col(i) * s, row = vt.row(i);
    cv::Mat ky, kx;
    column.convertTo(ky, CV_32F);
    row.convertTo(kx, CV_32F);
    exactSymmetry(ky);
    exactSymmetry(kx);
    cv::sepFilter2D(input, term, CV_32F, kx, ky, cv::Point(-1, -1), 0, cv::BORDER_REFLECT_101);
    // The first term is the sum so far (0 + t is t: no pass over a zero image).
    if (sum.empty()) std::swap(sum, term);
    else sum += term;
  }
  if (sum.empty()) sum = cv::Mat::zeros(input.size(), CV_32F);
  return sum;
}

cv::Mat dftGabor(const cv::Mat& input, const cv::Mat& kernel) {
  const int r = kernel.rows / 2;
  cv::Mat padded;
  cv::copyMakeBorder(input, padded, r, r, r, r, cv::BORDER_REFLECT_101);
  const cv::Size size(cv::getOptimalDFTSize(padded.cols), cv::getOptimalDFTSize(padded.rows));
  cv::Mat image = cv::Mat::zeros(size, CV_32F), k = cv::Mat::zeros(size, CV_32F);
  padded.copyTo(image(cv::Rect(0, 0, padded.cols, padded.rows)));
  kernel.copyTo(k(cv::Rect(0, 0, kernel.cols, kernel.rows)));
  cv::Mat imageSpectrum, kernelSpectrum, product, result;
  cv::dft(image, imageSpectrum, 0, padded.rows);
  cv::dft(k, kernelSpectrum, 0, kernel.rows);
  // Correlation (what filter2D computes) = product with the kernel's conjugate spectrum.
  cv::mulSpectrums(imageSpectrum, kernelSpectrum, product, 0, true);
  cv::dft(product, result, cv::DFT_INVERSE | cv::DFT_SCALE | cv::DFT_REAL_OUTPUT, input.rows);
  return result(cv::Rect(0, 0, input.cols, input.rows)).clone();
}

}  // namespace

int separableRank(const cv::Mat& kernel) {
  cv::Mat k64, w;
  kernel.convertTo(k64, CV_64F);
  cv::SVD::compute(k64, w, cv::SVD::NO_UV);
  const double largest = w.at<double>(0);
  if (largest <= 0) return 0;
  int rank = 0;
  while (rank < w.rows && w.at<double>(rank) > largest * kRankTolerance) ++rank;
  return rank;
}

cv::Mat gaborResponse(const cv::Mat& input, const GaborParams& gabor, Convolution method) {
  if (input.empty() || input.channels() != 1)
    throw Error("Gabor filter: expected a non-empty single-channel image");
  cv::Mat source;
  if (input.type() == CV_32F) source = input;
  else input.convertTo(source, CV_32F);
  const cv::Mat kernel = gaborKernel(gabor);
  // Auto, from bench/segment_bench (2048x1536): a rank-1 separable sum beats filter2D at every
  // size; rank 2 beats it from 11x11 up (filter2D's direct k^2 cost, then its DFT from 13x13) and
  // loses at 7x7; for full-rank kernels filter2D beats both other methods at every size.
  if (method == Convolution::Auto) {
    const int rank = separableRank(kernel);
    method = rank == 1 || (rank == 2 && kernel.rows >= 11) ? Convolution::Spatial : Convolution::OpenCv;
  }
  switch (method) {
    case Convolution::Spatial: return spatialGabor(source, kernel);
    case Convolution::Dft: return dftGabor(source, kernel);
    case Convolution::Auto:
    case Convolution::OpenCv: break;
  }
  cv::Mat out;
  cv::filter2D(source, out, CV_32F, kernel, cv::Point(-1, -1), 0, cv::BORDER_REFLECT_101);
  return out;
}

// ---- labels ---------------------------------------------------------------------------------

SliceSegmentation segmentSlice(const cv::Mat& slice, const SegmentParams& params, int camThreshold) {
  return segmentSlice(slice, slice, params, camThreshold);
}

SliceSegmentation segmentSlice(const cv::Mat& slice, const cv::Mat& denoised, const SegmentParams& params,
                               int camThreshold) {
  if (denoised.size() != slice.size() || denoised.type() != slice.type())
    throw Error("segmentation: the denoised slice differs in size or type from the slice");
  SliceSegmentation out;
  out.camThreshold = (camThreshold < 0 ? otsuThreshold(denoised) : camThreshold) + params.otsuOffset;
  const cv::Mat cam = camMask(denoised, out.camThreshold);
  out.gaborResponse = gaborResponse(poreCandidateImage(slice, cam), params.gabor, params.convolution);
  cv::Mat pore;
  cv::compare(out.gaborResponse, cv::Scalar(params.poreThreshold), pore, cv::CMP_GT);
  out.labels = cv::Mat(slice.size(), CV_8U, cv::Scalar(SolidElectrolyte));
  out.labels.setTo(Pore, pore);
  out.labels.setTo(ActiveMaterial, cam);
  if (std::any_of(params.minIslandPx.begin(), params.minIslandPx.end(), [](int n) { return n > 0; }))
    out.labels = removeSmallIslands(out.labels, params.minIslandPx);
  return out;
}

cv::Mat removeSmallIslands(const cv::Mat& labelsIn, const std::array<int, 3>& minIslandPx) {
  if (labelsIn.type() != CV_8U) throw Error("island cleanup: labels must be 8-bit (0 pore, 1 SE, 2 CAM)");
  cv::Mat labels = labelsIn.clone();
  for (int phase = 0; phase < kPhaseCount; ++phase) {
    if (minIslandPx[phase] <= 0) continue;
    cv::Mat components, stats, centroids;
    const int n = cv::connectedComponentsWithStats(labels == phase, components, stats, centroids, 8, CV_32S);
    std::vector<char> small(n, 0);
    bool any = false;
    for (int c = 1; c < n; ++c) {
      small[c] = stats.at<int>(c, cv::CC_STAT_AREA) < minIslandPx[phase];
      any = any || small[c];
    }
    if (!any) continue;
    // Votes of each small island's outside 4-neighbours for the phase it should join.
    std::vector<std::array<long long, 3>> votes(n, {0, 0, 0});
    for (int y = 0; y < labels.rows; ++y) {
      const int* comp = components.ptr<int>(y);
      for (int x = 0; x < labels.cols; ++x) {
        const int c = comp[x];
        if (!c || !small[c]) continue;
        const int ny[4] = {y - 1, y + 1, y, y}, nx[4] = {x, x, x - 1, x + 1};
        for (int i = 0; i < 4; ++i) {
          if (ny[i] < 0 || nx[i] < 0 || ny[i] >= labels.rows || nx[i] >= labels.cols) continue;
          const int l = labels.at<std::uint8_t>(ny[i], nx[i]);
          if (l != phase && l < kPhaseCount) ++votes[c][l];
        }
      }
    }
    std::vector<int> target(n, -1);
    for (int c = 1; c < n; ++c) {
      if (!small[c]) continue;
      const auto& v = votes[c];
      const int best = int(std::max_element(v.begin(), v.end()) - v.begin());
      if (v[best] > 0) target[c] = best;  // an island touching nothing else stays
    }
    for (int y = 0; y < labels.rows; ++y) {
      const int* comp = components.ptr<int>(y);
      auto* row = labels.ptr<std::uint8_t>(y);
      for (int x = 0; x < labels.cols; ++x)
        if (comp[x] && target[comp[x]] >= 0) row[x] = static_cast<std::uint8_t>(target[comp[x]]);
    }
  }
  return labels;
}

// ---- outputs --------------------------------------------------------------------------------

namespace {
void checkLabels(const cv::Mat& labels, const char* what) {
  if (labels.empty() || labels.type() != CV_8U)
    throw Error(std::string(what) + ": labels must be a non-empty 8-bit image (0 pore, 1 SE, 2 CAM)");
}
}  // namespace

cv::Mat colourLabels(const cv::Mat& labels, const std::vector<std::array<std::uint8_t, 3>>& coloursRgb) {
  checkLabels(labels, "colour rendering");
  cv::Mat lut(1, 256, CV_8UC3, cv::Scalar(0, 0, 0));  // out-of-range labels show black
  for (std::size_t p = 0; p < coloursRgb.size() && p < 256; ++p) {
    const auto& rgb = coloursRgb[p];
    lut.at<cv::Vec3b>(int(p)) = cv::Vec3b(rgb[2], rgb[1], rgb[0]);
  }
  cv::Mat three, out;
  cv::cvtColor(labels, three, cv::COLOR_GRAY2BGR);
  cv::LUT(three, lut, out);
  return out;
}

cv::Mat colourLabels(const cv::Mat& labels) {
  return colourLabels(labels, {kPhaseColoursRgb.begin(), kPhaseColoursRgb.end()});
}

cv::Mat labelImage(const cv::Mat& labels, const std::vector<std::uint8_t>& levels) {
  checkLabels(labels, "label image");
  for (std::size_t i = 0; i < levels.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (levels[i] == levels[j])
        throw Error("label image: phases " + std::to_string(j) + " and " + std::to_string(i) +
                    " have the same grey value " + std::to_string(levels[i]) + "; expected different values");
  cv::Mat lut(1, 256, CV_8U);
  for (int i = 0; i < 256; ++i) lut.at<std::uint8_t>(i) = static_cast<std::uint8_t>(i);
  for (std::size_t p = 0; p < levels.size() && p < 256; ++p) lut.at<std::uint8_t>(int(p)) = levels[p];
  cv::Mat out;
  cv::LUT(labels, lut, out);
  return out;
}

PhaseFractions phaseFractions(const cv::Mat& labels, int phases) {
  checkLabels(labels, "phase fractions");
  PhaseFractions out;
  out.pixels.assign(phases, 0);
  out.fraction.assign(phases, 0.0);
  std::array<std::uint64_t, 256> counts{};
  addCounts8u(labels, counts);
  const bool allPhases = std::all_of(counts.begin() + std::min(std::max(phases, 0), 256), counts.end(),
                                     [](std::uint64_t n) { return n == 0; });
  for (int p = 0; p < phases && allPhases; ++p) out.pixels[p] = static_cast<long long>(p < 256 ? counts[p] : 0);
  for (int y = 0; y < labels.rows && !allPhases; ++y) {  // the first pixel that is no phase, for the message
    const auto* row = labels.ptr<std::uint8_t>(y);
    for (int x = 0; x < labels.cols; ++x) {
      if (row[x] >= phases)
        throw Error("phase fractions: label " + std::to_string(row[x]) + " at (" + std::to_string(x) + ", " +
                    std::to_string(y) + "); expected a phase index 0 to " + std::to_string(phases - 1));
      ++out.pixels[row[x]];
    }
  }
  const double total = double(labels.total());
  for (int p = 0; p < phases; ++p) out.fraction[p] = double(out.pixels[p]) / total;
  return out;
}

PhaseFractions combineFractions(const std::vector<PhaseFractions>& slices) {
  PhaseFractions out;
  long long total = 0;
  for (const auto& s : slices) {
    if (out.pixels.size() < s.pixels.size()) out.pixels.resize(s.pixels.size(), 0);
    for (std::size_t p = 0; p < s.pixels.size(); ++p) {
      out.pixels[p] += s.pixels[p];
      total += s.pixels[p];
    }
  }
  out.fraction.assign(out.pixels.size(), 0.0);
  if (total > 0)
    for (std::size_t p = 0; p < out.pixels.size(); ++p) out.fraction[p] = double(out.pixels[p]) / double(total);
  return out;
}

}  // namespace fibseg::segment
