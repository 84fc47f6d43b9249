// Shading correction. BSE detectors see a slice darker towards the bottom (the trench wall shadows
// the detector) and sometimes at the sides; the effect is smooth, so a very wide Gaussian or a
// low-order polynomial surface models it, while particles (much smaller) average out.
#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <string>

#include "fibseg/core/error.hpp"
#include "fibseg/core/image.hpp"
#include "fibseg/intensity/intensity.hpp"

namespace fibseg::intensity {

namespace {

// Large Gaussians are slow and need no full resolution: blur a shrunken copy (sigma ~8 px there).
cv::Mat gaussianBackground(const cv::Mat& f, double sigma) {
  if (sigma == 0) sigma = 0.25 * std::min(f.rows, f.cols);
  if (!(sigma > 0)) throw Error("shading correction: Gaussian sigma " + std::to_string(sigma) + " (expected > 0 px, or 0 for a quarter of the slice's shorter side)");
  const double shrink = std::max(1.0, sigma / 8.0);
  const cv::Size small(std::max(1, int(std::lround(f.cols / shrink))), std::max(1, int(std::lround(f.rows / shrink))));
  cv::Mat s;
  cv::resize(f, s, small, 0, 0, cv::INTER_AREA);
  cv::GaussianBlur(s, s, cv::Size(0, 0), sigma / shrink, sigma / shrink, cv::BORDER_REFLECT);
  cv::Mat bg;
  cv::resize(s, bg, f.size(), 0, 0, cv::INTER_LINEAR);
  return bg;
}

// Least-squares surface sum a_ij x^i y^j (i + j <= order) on coordinates scaled to [-1, 1],
// fitted to a shrunken copy (the fit needs a few thousand points, not millions).
cv::Mat polynomialBackground(const cv::Mat& f, int order) {
  if (order < 1 || order > 4)
    throw Error("shading correction: polynomial order " + std::to_string(order) + " (expected 1 to 4)");
  const double shrink = std::max(1.0, std::max(f.cols, f.rows) / 96.0);
  const cv::Size small(std::max(1, int(std::lround(f.cols / shrink))), std::max(1, int(std::lround(f.rows / shrink))));
  cv::Mat s;
  cv::resize(f, s, small, 0, 0, cv::INTER_AREA);

  std::vector<std::pair<int, int>> terms;  // (power of x, power of y)
  for (int total = 0; total <= order; ++total)
    for (int j = 0; j <= total; ++j) terms.push_back({total - j, j});
  const int n = int(terms.size());
  auto scaled = [](double pos, int size) { return size > 1 ? 2.0 * pos / (size - 1) - 1.0 : 0.0; };

  cv::Mat A(s.rows * s.cols, n, CV_64F), b(s.rows * s.cols, 1, CV_64F);
  for (int y = 0; y < s.rows; ++y) {
    // Pixel centres of the shrunken image mapped back to full-image coordinates.
    const double yy = scaled((y + 0.5) * f.rows / double(s.rows) - 0.5, f.rows);
    for (int x = 0; x < s.cols; ++x) {
      const double xx = scaled((x + 0.5) * f.cols / double(s.cols) - 0.5, f.cols);
      double* row = A.ptr<double>(y * s.cols + x);
      for (int t = 0; t < n; ++t) row[t] = std::pow(xx, terms[t].first) * std::pow(yy, terms[t].second);
      b.at<double>(y * s.cols + x) = s.at<float>(y, x);
    }
  }
  cv::Mat coef;
  cv::solve(A, b, coef, cv::DECOMP_QR);

  cv::Mat bg(f.size(), CV_32F);
  std::vector<double> xPoly(order + 1);  // coefficients of the row's polynomial in x
  for (int y = 0; y < f.rows; ++y) {
    const double yy = scaled(y, f.rows);
    std::fill(xPoly.begin(), xPoly.end(), 0.0);
    for (int t = 0; t < n; ++t) xPoly[terms[t].first] += coef.at<double>(t) * std::pow(yy, terms[t].second);
    float* out = bg.ptr<float>(y);
    for (int x = 0; x < f.cols; ++x) {
      const double xx = scaled(x, f.cols);
      double v = 0;
      for (int i = order; i >= 0; --i) v = v * xx + xPoly[i];
      out[x] = float(v);
    }
  }
  return bg;
}

// The background of a CV_32F copy of the slice.
cv::Mat backgroundOf(const cv::Mat& f, const ShadingParams& params) {
  switch (params.method) {
    case ShadingMethod::Gaussian: return gaussianBackground(f, params.sigma);
    case ShadingMethod::Polynomial: return polynomialBackground(f, params.polynomialOrder);
    case ShadingMethod::None: return cv::Mat(f.size(), CV_32F, cv::Scalar(cv::mean(f)[0]));
  }
  throw Error("shading correction: unknown method");
}

}  // namespace

cv::Mat estimateShading(const cv::Mat& slice, const ShadingParams& params) {
  bitDepthOf(slice, "shading correction");
  cv::Mat f;
  slice.convertTo(f, CV_32F);
  return backgroundOf(f, params);
}

cv::Mat correctShading(const cv::Mat& slice, const ShadingParams& params) {
  if (params.method == ShadingMethod::None) return slice.clone();
  bitDepthOf(slice, "shading correction");
  cv::Mat f;
  slice.convertTo(f, CV_32F);
  cv::Mat bg = backgroundOf(f, params);
  const double meanGrey = cv::mean(f)[0];
  const double bgMean = cv::mean(bg)[0];
  cv::Mat& out = f;  // corrected in place
  if (params.mode == ShadingMode::Divide) {
    // A background at or below zero (a polynomial overshooting in a black corner) would flip or
    // explode the ratio; one grey level is the darkest background we divide by.
    cv::max(bg, 1.0, bg);
    cv::divide(f, bg, out, bgMean);
  } else {
    cv::subtract(f, bg, out);
  }
  // Keep the mean exactly (division changes it slightly where content and shading correlate);
  // folded into the conversion back, which rounds and saturates.
  const double outMean = cv::mean(out)[0];
  cv::Mat result;
  if (params.mode == ShadingMode::Divide && outMean > 0) out.convertTo(result, slice.type(), meanGrey / outMean);
  else out.convertTo(result, slice.type(), 1.0, meanGrey - outMean);
  return result;
}

}  // namespace fibseg::intensity
