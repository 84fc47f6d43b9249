#pragma once
// Measures the intensity tests judge corrections by, on phantom stacks with known truth.
#include <opencv2/core.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "fibseg/intensity/intensity.hpp"
#include "fibseg/phantom/phantom.hpp"

namespace fibseg::intensity::testing {

/// A phantom whose truth labels line up with its raw slices (no drift), small enough to be quick.
inline phantom::PhantomParams stillPhantom(int bitDepth = 8, unsigned seed = 3) {
  phantom::PhantomParams p;
  p.width = 256;
  p.height = 208;
  p.slices = 16;
  p.seed = seed;
  p.bitDepth = bitDepth;
  p.randomWalk = 0;
  p.steadyDriftX = 0;
  p.steadyDriftY = 0;
  return p;
}

/// Raw slice z without the data bar.
inline cv::Mat contentOf(const phantom::Phantom& ph, int z) {
  return ph.rawSlice(z)(cv::Rect(0, 0, ph.params().width, ph.contentHeight())).clone();
}

inline double spread(const std::vector<double>& v) {
  double mean = 0;
  for (double x : v) mean += x;
  mean /= v.size();
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / v.size());
}

inline double quantile(std::vector<float> v, double f) {
  if (v.empty()) return 0;
  const std::size_t k = std::min(v.size() - 1, std::size_t(f * (v.size() - 1) + 0.5));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

/// Grey values of each phase over a whole stack (pooled: brightness differences between slices
/// widen the pooled peaks, which is what equalisation must undo).
struct PhaseGreys {
  std::array<std::vector<float>, 3> values;
  void add(const cv::Mat& image, const cv::Mat& truth) {
    for (int y = 0; y < image.rows; ++y)
      for (int x = 0; x < image.cols; ++x) {
        const float v = image.depth() == CV_8U ? image.at<uchar>(y, x) : image.at<ushort>(y, x);
        values[truth.at<uchar>(y, x)].push_back(v);
      }
  }
  double peak(int phase) const { return quantile(values[phase], 0.5); }
  double width(int phase) const {
    return 0.5 * (quantile(values[phase], 0.84) - quantile(values[phase], 0.16));
  }
  /// Distance between two phases' histogram peaks over the sum of their half-widths.
  double separation(int a, int b) const { return std::fabs(peak(a) - peak(b)) / (width(a) + width(b)); }
};

}  // namespace fibseg::intensity::testing
