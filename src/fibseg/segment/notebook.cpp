#include "fibseg/segment/notebook.hpp"

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <numbers>
#include <vector>

#include "fibseg/core/error.hpp"
#include "fibseg/core/image.hpp"
#include "fibseg/intensity/nl_means.hpp"

namespace fibseg::segment {

double otsuThresholdLikeScikitImage(const cv::Mat& image) {
  cv::Mat values;
  if (image.type() == CV_64F) values = image;  // the denoised slice: no copy
  else image.convertTo(values, CV_64F);
  double lo = 0, hi = 0;
  cv::minMaxLoc(values, &lo, &hi);
  if (!(hi > lo)) throw Error("Otsu threshold: the denoised slice has a single grey level");
  constexpr int kBins = 256;
  // numpy.histogram's uniform bins: edges = linspace(lo, hi, 257); a value on an inner edge goes
  // to the upper bin, the top value to the last bin (numpy corrects the computed index by the edges).
  std::vector<double> edges(kBins + 1);
  for (int i = 0; i <= kBins; ++i) edges[i] = lo + (hi - lo) * i / kBins;
  edges[kBins] = hi;
  std::vector<double> counts(kBins, 0.0);
  const double norm = kBins / (hi - lo);
  for (int r = 0; r < values.rows; ++r) {
    const double* row = values.ptr<double>(r);
    for (int c = 0; c < values.cols; ++c) {
      int bin = static_cast<int>((row[c] - lo) * norm);
      if (bin >= kBins) bin = kBins - 1;
      if (bin > 0 && row[c] < edges[bin]) --bin;
      else if (bin < kBins - 1 && row[c] >= edges[bin + 1]) ++bin;
      counts[bin] += 1;
    }
  }
  std::vector<double> centres(kBins), weight1(kBins), weight2(kBins), mean1(kBins), mean2(kBins);
  for (int i = 0; i < kBins; ++i) centres[i] = (edges[i] + edges[i + 1]) / 2;
  double w = 0, m = 0;
  for (int i = 0; i < kBins; ++i) {
    w += counts[i];
    m += counts[i] * centres[i];
    weight1[i] = w;
    mean1[i] = m / w;  // NaN before the first filled bin, as in numpy; never the argmax
  }
  w = 0, m = 0;
  for (int i = kBins - 1; i >= 0; --i) {
    w += counts[i];
    m += counts[i] * centres[i];
    weight2[i] = w;
    mean2[i] = m / w;
  }
  int best = 0;
  double bestVariance = -1;
  for (int i = 0; i < kBins - 1; ++i) {
    const double variance = weight1[i] * weight2[i + 1] * std::pow(mean1[i] - mean2[i + 1], 2);
    if (variance > bestVariance) bestVariance = variance, best = i;  // numpy argmax: first maximum
  }
  return centres[best];
}

namespace {

// The notebook's Gabor kernel, cv2.getGaborKernel((90, 90), 1.0, pi/3, 10, 1.9, 0): 91 x 91 taps,
// but its envelope (sigma 1 px) leaves all but the central ones below 1e-10 of the peak. It is
// cropped to the smallest centred square whose dropped taps, all together, move a result of
// 8-bit input by less than 2^-20 of a grey level: 11 x 11. The result is then rounded to 8 bits,
// so only a value within 2^-20 of a half could round otherwise (the full kernel's filter2D, a
// float DFT, carries rounding of that order itself). It also lets OpenCV filter directly
// instead of by DFT (which it takes above 130 taps): about 5x less time.
const cv::Mat& notebookGaborKernel() {
  static const cv::Mat kernel = [] {
    const cv::Mat full = cv::getGaborKernel(cv::Size(90, 90), 1.0, std::numbers::pi / 3, 10, 1.9, 0);
    const int centre = full.rows / 2;
    const double total = cv::norm(full, cv::NORM_L1);
    for (int r = 1; r < centre; ++r) {
      const cv::Mat kept = full(cv::Rect(centre - r, centre - r, 2 * r + 1, 2 * r + 1));
      if (255 * (total - cv::norm(kept, cv::NORM_L1)) < std::ldexp(1.0, -20)) return kept.clone();
    }
    return full;
  }();
  return kernel;
}

}  // namespace

NotebookSegmentation segmentLikeNotebook(const cv::Mat& slice, const NotebookParams& p) {
  cv::Mat grey;
  if (bitDepthOf(slice, "notebook segmentation input") == 16) slice.convertTo(grey, CV_8U, 1.0 / 257);
  else grey = slice;

  if (p.lightAdjustment) {
    cv::Mat equalised;
    cv::createCLAHE(p.clipLimit, cv::Size(p.gridSize, p.gridSize))->apply(grey, equalised);
    grey = equalised;
  }

  // CAM: non-local means as the notebook calls scikit-image (h 0.04, patch 5, distance 6), Otsu.
  const cv::Mat denoised = intensity::nonLocalMeansUnitScale(grey, {0.04, 5, 6});
  NotebookSegmentation out;
  out.camThreshold = otsuThresholdLikeScikitImage(denoised);
  cv::Mat cam = denoised > out.camThreshold;  // 255 where CAM

  if (p.removeVerticalLines) {
    cv::Mat opened;
    cv::morphologyEx(cam, opened, cv::MORPH_OPEN, cv::getStructuringElement(cv::MORPH_RECT, p.horizontalKernel));
    cv::medianBlur(opened, cam, p.medianSmoothing);
  }

  // Pores: the notebook's Gabor filter, on the undenoised slice with CAM at 0 (not inverted: its
  // guide says inverted, its code does not), its 91 x 91 kernel cropped to its support, result
  // saturated to 8 bits.
  cv::Mat candidates = grey.clone();
  candidates.setTo(0, cam);
  cv::Mat filtered;
  cv::filter2D(candidates, filtered, CV_8U, notebookGaborKernel());
  filtered.setTo(255, cam);
  cv::medianBlur(filtered, out.gaborResponse, 5);

  out.labels = cv::Mat(grey.size(), CV_8U, cv::Scalar(SolidElectrolyte));
  out.labels.setTo(Pore, out.gaborResponse < p.poreThreshold);
  out.labels.setTo(ActiveMaterial, cam);
  return out;
}

}  // namespace fibseg::segment
