// Where the classifier hesitates, to tell a user where to paint next: the normalised entropy of
// the per-phase probabilities, and the windows where it is highest.
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "fibseg/core/error.hpp"
#include "fibseg/learn/learn.hpp"

namespace fibseg::learn {

cv::Mat uncertaintyOf(const std::vector<cv::Mat>& probabilities) {
  if (probabilities.size() < 2)
    throw Error("uncertainty: " + std::to_string(probabilities.size()) +
                " probability planes; expected one per phase (at least 2): predict with probabilities");
  const cv::Size size = probabilities[0].size();
  for (const auto& p : probabilities)
    if (p.type() != CV_32F || p.size() != size)
      throw Error("uncertainty: probability planes of different sizes or types; expected CV_32F planes of one size");
  cv::Mat out(size, CV_32F);
  const float scale = static_cast<float>(1.0 / std::log(static_cast<double>(probabilities.size())));
  for (int y = 0; y < size.height; ++y) {
    float* u = out.ptr<float>(y);
    std::fill(u, u + size.width, 0.0f);
    for (const auto& plane : probabilities) {
      const float* p = plane.ptr<float>(y);
      for (int x = 0; x < size.width; ++x)
        if (p[x] > 1e-7f) u[x] -= p[x] * std::log(p[x]);
    }
    for (int x = 0; x < size.width; ++x) u[x] = std::clamp(u[x] * scale, 0.0f, 1.0f);
  }
  return out;
}

std::vector<UncertainRegion> leastCertainRegions(const cv::Mat& uncertainty, int count, int windowPx) {
  if (uncertainty.type() != CV_32F || uncertainty.empty())
    throw Error("uncertainty: expected a non-empty CV_32F map (uncertaintyOf)");
  if (windowPx < 1) throw Error("uncertainty: window of " + std::to_string(windowPx) + " px; expected >= 1");
  const int w = std::min(windowPx, uncertainty.cols), h = std::min(windowPx, uncertainty.rows);
  // The mean of every window inside the map, by its top-left corner (from the integral image, so
  // each is exactly the mean of the box reported: no reflected border counts).
  cv::Mat sum;
  cv::integral(uncertainty, sum, CV_64F);
  cv::Mat mean(uncertainty.rows - h + 1, uncertainty.cols - w + 1, CV_32F);
  for (int y = 0; y < mean.rows; ++y)
    for (int x = 0; x < mean.cols; ++x)
      mean.at<float>(y, x) = static_cast<float>((sum.at<double>(y + h, x + w) - sum.at<double>(y, x + w) -
                                                 sum.at<double>(y + h, x) + sum.at<double>(y, x)) / (double(w) * h));
  std::vector<UncertainRegion> out;
  // Greedy: the highest mean window, then the highest one not overlapping those chosen.
  cv::Mat free(mean.size(), CV_8U, cv::Scalar(255));
  for (int k = 0; k < count; ++k) {
    double best;
    cv::Point at;
    cv::minMaxLoc(mean, nullptr, &best, nullptr, &at, free);
    if (best <= 0) break;
    const cv::Rect box(at.x, at.y, w, h);
    out.push_back({box, cv::mean(uncertainty(box))[0]});
    // Corners closer than a window to this one would overlap it.
    const cv::Rect blocked = cv::Rect(box.x - w + 1, box.y - h + 1, 2 * w - 1, 2 * h - 1) & cv::Rect({}, mean.size());
    free(blocked).setTo(0);
    if (cv::countNonZero(free) == 0) break;
  }
  return out;
}

}  // namespace fibseg::learn
