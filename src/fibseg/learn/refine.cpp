// Boundary refinement of a classifier's labels: the boundary is moved onto the strongest grey
// edge within a narrow band around it (a seeded watershed). Annotators paint strokes inside each
// phase, a few pixels clear of its edges, so the classifier never learns what the last pixels
// before an edge are and places its boundary by interpolating between the phases' features,
// typically 1-3 px off the visible edge (lco-fibsem: a rim inside every particle).
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>
#include <tuple>

#include "fibseg/core/error.hpp"
#include "fibseg/learn/learn.hpp"

namespace fibseg::learn {

namespace {

// Gradient magnitude of the slice smoothed at `sigma`: the relief whose crests are the edges.
cv::Mat edgeRelief(const cv::Mat& slice, double sigma) {
  cv::Mat grey, gx, gy, magnitude;
  slice.convertTo(grey, CV_32F);
  if (sigma > 0) cv::GaussianBlur(grey, grey, {0, 0}, sigma);
  cv::Sobel(grey, gx, CV_32F, 1, 0);
  cv::Sobel(grey, gy, CV_32F, 0, 1);
  cv::magnitude(gx, gy, magnitude);
  return magnitude;
}

// Seeds (phase + 1; 0 = to flood): the pixels farther than `band` px from any other phase. A
// region no wider than the band has no such pixel, and the flood would erase it (a small
// particle, or a thin gap between two); its seeds are instead its pixels beyond half its largest
// inner distance, so every body and gap the classifier found keeps a seed: refinement moves
// boundaries, it never deletes or invents a region.
cv::Mat seedsOf(const cv::Mat& labels, int band, int phases) {
  cv::Mat markers(labels.size(), CV_32S, cv::Scalar(0));
  for (int phase = 0; phase < phases; ++phase) {
    const cv::Mat region = labels == phase;
    if (cv::countNonZero(region) == 0) continue;
    cv::Mat distance, component;
    cv::distanceTransform(region, distance, cv::DIST_L2, cv::DIST_MASK_PRECISE);
    const int count = cv::connectedComponents(region, component, 8, CV_32S);
    std::vector<float> deepest(count, 0.0f);
    for (int y = 0; y < labels.rows; ++y) {
      const int* c = component.ptr<int>(y);
      const float* d = distance.ptr<float>(y);
      for (int x = 0; x < labels.cols; ++x) deepest[c[x]] = std::max(deepest[c[x]], d[x]);
    }
    for (int y = 0; y < labels.rows; ++y) {
      const int* c = component.ptr<int>(y);
      const float* d = distance.ptr<float>(y);
      int* m = markers.ptr<int>(y);
      for (int x = 0; x < labels.cols; ++x)
        if (c[x] > 0 && d[x] > std::min(static_cast<float>(band), deepest[c[x]] / 2)) m[x] = phase + 1;
    }
  }
  return markers;
}

// Meyer's flooding: the unseeded pixels are reached from the seeds in order of increasing relief
// (4-connected; equal relief first come, first served), so floods from two phases meet on the
// crest between them.
void flood(cv::Mat& markers, const cv::Mat& relief) {
  const int w = markers.cols, h = markers.rows;
  int* label = markers.ptr<int>();
  const float* r = relief.ptr<float>();
  using Item = std::tuple<float, long long, int>;  // relief, arrival order, pixel
  std::priority_queue<Item, std::vector<Item>, std::greater<>> queue;
  long long order = 0;
  auto reach = [&](int i) {
    const int x = i % w, y = i / w;
    const int around[4] = {x + 1 < w ? i + 1 : -1, x > 0 ? i - 1 : -1, y + 1 < h ? i + w : -1, y > 0 ? i - w : -1};
    for (int j : around)
      if (j >= 0 && label[j] == 0) {
        label[j] = -label[i];  // queued: the phase of the flood that reached it first
        queue.emplace(r[j], order++, j);
      }
  };
  for (int i = 0; i < w * h; ++i)
    if (label[i] > 0) reach(i);
  while (!queue.empty()) {
    const int i = std::get<2>(queue.top());
    queue.pop();
    label[i] = -label[i];
    reach(i);
  }
}

// HalfContrast (see refineBoundaries): per phase, the local mean grey of its deep pixels (farther
// than the band from another phase) by normalised convolution, and where it is present.
cv::Mat halfContrast(const cv::Mat& labels, const cv::Mat& slice, int band, double sigma, int phases) {
  cv::Mat grey;
  slice.convertTo(grey, CV_32F);
  if (sigma > 0) cv::GaussianBlur(grey, grey, {0, 0}, sigma);
  // The local means: a box of 6 x band + 1 px (running sums: its cost does not grow with the band).
  const cv::Size window(6 * band + 1, 6 * band + 1);
  const cv::Mat reach = cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * band + 3, 2 * band + 3});
  std::vector<cv::Mat> mean(phases), weight(phases), near(phases);
  cv::Mat inBand = cv::Mat::zeros(labels.size(), CV_8U);
  for (int p = 0; p < phases; ++p) {
    const cv::Mat region = labels == p;
    if (cv::countNonZero(region) == 0) continue;
    cv::Mat distance, deep, sum;
    cv::distanceTransform(region, distance, cv::DIST_L2, cv::DIST_MASK_PRECISE);
    cv::threshold(distance, deep, band, 1.0, cv::THRESH_BINARY);  // CV_32F 0/1
    cv::boxFilter(deep, weight[p], CV_32F, window);
    cv::boxFilter(grey.mul(deep), sum, CV_32F, window);
    mean[p] = sum / cv::max(weight[p], 1e-6);
    cv::dilate(region, near[p], reach);
    inBand |= region & (distance <= band);
  }
  cv::Mat out = labels.clone();
  for (int y = 0; y < labels.rows; ++y) {
    const auto* b = inBand.ptr<std::uint8_t>(y);
    const float* g = grey.ptr<float>(y);
    auto* o = out.ptr<std::uint8_t>(y);
    for (int x = 0; x < labels.cols; ++x) {
      if (!b[x]) continue;
      float best = std::numeric_limits<float>::max();
      for (int p = 0; p < phases; ++p) {
        // A phase counts where it is present nearby and its mean rests on some deep pixels.
        if (near[p].empty() || !near[p].ptr<std::uint8_t>(y)[x] || weight[p].ptr<float>(y)[x] < 0.02f) continue;
        const float d = std::abs(g[x] - mean[p].ptr<float>(y)[x]);
        if (d < best) best = d, o[x] = static_cast<std::uint8_t>(p);
      }
    }
  }
  return out;
}

}  // namespace

const char* refineMethodName(RefineMethod method) {
  return method == RefineMethod::HalfContrast ? "half_contrast" : "watershed";
}

RefineMethod refineMethodFrom(const std::string& text, const std::string& where) {
  if (text == "watershed") return RefineMethod::Watershed;
  if (text == "half_contrast") return RefineMethod::HalfContrast;
  throw Error(where + ": refine method \"" + text + "\"; expected watershed or half_contrast");
}

cv::Mat refineBoundaries(const cv::Mat& labels, const cv::Mat& slice, const BoundaryRefinement& refinement, int phases) {
  const int bandPx = refinement.bandPx;
  const double sigma = refinement.sigma;
  if (labels.type() != CV_8U || labels.size() != slice.size())
    throw Error("boundary refinement: labels must be an 8-bit image of the slice's size");
  if (bandPx < 0 || sigma < 0) throw Error("boundary refinement: learn.refine_band and learn.refine_sigma must be >= 0");
  if (bandPx == 0) return labels.clone();
  if (refinement.method == RefineMethod::HalfContrast) return halfContrast(labels, slice, bandPx, sigma, phases);
  cv::Mat markers = seedsOf(labels, bandPx, phases);
  flood(markers, edgeRelief(slice, sigma));
  cv::Mat out;
  markers.convertTo(out, CV_8U, 1, -1);
  return out;
}

}  // namespace fibseg::learn
