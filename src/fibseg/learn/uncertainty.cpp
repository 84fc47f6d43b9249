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
  cv::Mat mean;
  cv::boxFilter(uncertainty, mean, CV_32F, {w, h}, {-1, -1}, true, cv::BORDER_REFLECT);
  std::vector<UncertainRegion> out;
  // Greedy: the highest mean window, then the highest one not overlapping those chosen.
  cv::Mat free(uncertainty.size(), CV_8U, cv::Scalar(255));
  for (int k = 0; k < count; ++k) {
    double best;
    cv::Point at;
    cv::minMaxLoc(mean, nullptr, &best, nullptr, &at, free);
    if (best <= 0) break;
    cv::Rect box(at.x - w / 2, at.y - h / 2, w, h);
    box.x = std::clamp(box.x, 0, uncertainty.cols - w);
    box.y = std::clamp(box.y, 0, uncertainty.rows - h);
    out.push_back({box, cv::mean(uncertainty(box))[0]});
    // Centres closer than a window to this one would overlap it.
    const cv::Rect blocked = cv::Rect(box.x - w / 2, box.y - h / 2, 2 * w, 2 * h) & cv::Rect({}, uncertainty.size());
    free(blocked).setTo(0);
    if (cv::countNonZero(free) == 0) break;
  }
  return out;
}

}  // namespace fibseg::learn
