// The four local filters are OpenCV's; 16-bit slices go through float where OpenCV's median and
// bilateral filters do not take 16-bit input (median: only up to 5x5), and are rounded back.
#include "fibseg/intensity/denoise.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "fibseg/core/error.hpp"
#include "fibseg/core/image.hpp"
#include "fibseg/intensity/nl_means.hpp"

namespace fibseg::intensity {

std::string describeDenoise(const DenoiseParams& p) {
  char text[160];
  switch (p.method) {
    case DenoiseMethod::None: return "none";
    case DenoiseMethod::Gaussian: std::snprintf(text, sizeof text, "gaussian sigma=%g px", p.gaussianSigma); break;
    case DenoiseMethod::Median: std::snprintf(text, sizeof text, "median size=%d px", p.medianSize); break;
    case DenoiseMethod::Bilateral:
      std::snprintf(text, sizeof text, "bilateral sigma_grey=%g sigma_px=%g px", p.bilateralSigmaGrey, p.bilateralSigmaPx);
      break;
    case DenoiseMethod::NonLocalMeans:
      std::snprintf(text, sizeof text, "nlm h=%g patch=%d px distance=%d px", p.nlmH, p.nlmPatchSize, p.nlmPatchDistance);
      break;
  }
  return text;
}

namespace {

cv::Mat medianOf(const cv::Mat& slice, int size) {
  if (size < 1 || size % 2 == 0)
    throw Error("denoise: median size " + std::to_string(size) + " px; expected an odd number of pixels");
  if (size == 1) return slice.clone();
  // OpenCV's medianBlur takes 8-bit at any size but 16-bit only up to 5; its border is a copy of
  // the edge pixel, so reflect-101 is added here to match the other filters.
  const int r = size / 2;
  cv::Mat padded, out;
  cv::copyMakeBorder(slice, padded, r, r, r, r, cv::BORDER_REFLECT_101);
  if (slice.depth() == CV_8U || size <= 5) {
    cv::medianBlur(padded, out, size);
  } else {
    // 16-bit, large window: the median of the top byte first would lose precision; a float
    // medianBlur is limited to 5 too, so take the exact median by sorting each window.
    out.create(padded.size(), CV_16U);
    std::vector<std::uint16_t> window(static_cast<std::size_t>(size) * size);
    for (int y = r; y < padded.rows - r; ++y)
      for (int x = r; x < padded.cols - r; ++x) {
        std::size_t i = 0;
        for (int dy = -r; dy <= r; ++dy)
          for (int dx = -r; dx <= r; ++dx) window[i++] = padded.at<std::uint16_t>(y + dy, x + dx);
        std::nth_element(window.begin(), window.begin() + window.size() / 2, window.end());
        out.at<std::uint16_t>(y, x) = window[window.size() / 2];
      }
  }
  return out(cv::Rect(r, r, slice.cols, slice.rows)).clone();
}

cv::Mat bilateralOf(const cv::Mat& slice, double sigmaGrey, double sigmaPx) {
  if (!(sigmaGrey > 0) || !(sigmaPx > 0))
    throw Error("denoise: bilateral sigmas must be positive (grey " + std::to_string(sigmaGrey) + ", px " +
                std::to_string(sigmaPx) + ")");
  const double scale = slice.depth() == CV_16U ? 257.0 : 1.0;  // sigma is on the 8-bit scale
  cv::Mat in = slice, out;
  if (slice.depth() == CV_16U) slice.convertTo(in, CV_32F);
  const int diameter = 2 * static_cast<int>(std::ceil(2 * sigmaPx)) + 1;  // +-2 sigma holds 95 %
  cv::bilateralFilter(in, out, diameter, sigmaGrey * scale, sigmaPx, cv::BORDER_REFLECT_101);
  if (slice.depth() == CV_16U) out.convertTo(out, CV_16U);
  return out;
}

}  // namespace

cv::Mat denoise(const cv::Mat& slice, const DenoiseParams& p) {
  bitDepthOf(slice, "denoise");
  cv::Mat out;
  switch (p.method) {
    case DenoiseMethod::None: return slice;
    case DenoiseMethod::Gaussian:
      if (!(p.gaussianSigma > 0)) throw Error("denoise: Gaussian sigma must be positive");
      cv::GaussianBlur(slice, out, cv::Size(), p.gaussianSigma, p.gaussianSigma, cv::BORDER_REFLECT_101);
      return out;
    case DenoiseMethod::Median: return medianOf(slice, p.medianSize);
    case DenoiseMethod::Bilateral: return bilateralOf(slice, p.bilateralSigmaGrey, p.bilateralSigmaPx);
    case DenoiseMethod::NonLocalMeans: return nonLocalMeans(slice, {p.nlmH, p.nlmPatchSize, p.nlmPatchDistance});
  }
  return out;
}

}  // namespace fibseg::intensity
