#include "fibseg/segment/tune.hpp"

#include <opencv2/imgproc.hpp>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <sstream>

#include "fibseg/core/error.hpp"
#include "fibseg/core/image.hpp"

namespace fibseg::segment {

cv::Mat annotationLabels(const cv::Mat& annotation, const std::string& what) {
  if (annotation.empty()) throw Error("annotation " + what + ": empty image");
  const int channels = annotation.channels();
  if (annotation.depth() != CV_8U && annotation.depth() != CV_16U)
    throw Error("annotation " + what + ": expected an 8- or 16-bit PNG/TIFF");
  if (channels != 1 && channels != 3 && channels != 4)
    throw Error("annotation " + what + ": " + std::to_string(channels) + " channels; expected grey, RGB or RGBA");
  cv::Mat image;
  if (annotation.depth() == CV_16U) {
    double top = 0;
    cv::minMaxLoc(annotation.reshape(1), nullptr, &top);
    // 16-bit label values 1/2/3 stay; 16-bit colours are scaled to 8 bits.
    annotation.convertTo(image, CV_8U, top <= 3 ? 1.0 : 1.0 / 257.0);
  } else {
    image = annotation;
  }

  std::vector<cv::Mat> planes;
  cv::split(image, planes);
  double top = 0;
  cv::minMaxLoc(image.reshape(1), nullptr, &top);
  bool grey = channels == 1;
  if (!grey) {
    grey = top <= 3 && cv::countNonZero(planes[0] != planes[1]) == 0 && cv::countNonZero(planes[0] != planes[2]) == 0;
  }
  cv::Mat labels(image.size(), CV_8U, cv::Scalar(kUnknown));
  if (grey) {
    const cv::Mat& g = planes[0];
    if (top > 3) {
      cv::Point where;
      cv::minMaxLoc(g, nullptr, &top, nullptr, &where);
      throw Error("annotation " + what + ": grey value " + std::to_string(int(top)) + " at (" +
                  std::to_string(where.x) + ", " + std::to_string(where.y) +
                  "); expected 0 unpainted, 1 pore, 2 SE, 3 CAM (or a colour image painted light grey/orange/blue)");
    }
    labels.setTo(Pore, g == 1);
    labels.setTo(SolidElectrolyte, g == 2);
    labels.setTo(ActiveMaterial, g == 3);
  } else {
    // Painted colours are exact in a PNG; the tolerance forgives a soft brush edge, not a guess.
    constexpr int kTolerance = 24;
    for (int y = 0; y < image.rows; ++y) {
      const auto* row = image.ptr<std::uint8_t>(y);
      auto* out = labels.ptr<std::uint8_t>(y);
      for (int x = 0; x < image.cols; ++x) {
        const std::uint8_t* px = row + x * channels;  // B, G, R(, A)
        if (channels == 4 && px[3] == 0) continue;
        for (int p = 0; p < kPhaseCount; ++p) {
          const auto& rgb = kPhaseColoursRgb[p];
          if (std::abs(px[2] - rgb[0]) <= kTolerance && std::abs(px[1] - rgb[1]) <= kTolerance &&
              std::abs(px[0] - rgb[2]) <= kTolerance) {
            out[x] = static_cast<std::uint8_t>(p);
            break;
          }
        }
      }
    }
  }
  if (cv::countNonZero(labels != kUnknown) == 0)
    throw Error("annotation " + what + ": nothing painted; expected some pixels labelled 1 pore / 2 SE / 3 CAM "
                "or painted light grey (pore), orange (SE), blue (CAM)");
  return labels;
}

GaborSweep defaultGaborSweep() {
  GaborSweep s;
  s.kernelSizes = {15, 31};
  s.sigmas = {2, 4, 8};
  s.thetasDeg = {0, 45, 90, 135};
  s.lambdas = {8, 16, 32};
  s.gammas = {0.5, 1};
  s.psisDeg = {0, 90};
  return s;
}

std::vector<GaborParams> expandSweep(const GaborSweep& s) {
  auto check = [](bool empty, const char* name) {
    if (empty) throw Error(std::string("Gabor sweep: no values for ") + name + "; expected at least one");
  };
  check(s.kernelSizes.empty(), "kernel size");
  check(s.sigmas.empty(), "sigma");
  check(s.thetasDeg.empty(), "theta");
  check(s.lambdas.empty(), "lambda");
  check(s.gammas.empty(), "gamma");
  check(s.psisDeg.empty(), "psi");
  std::vector<GaborParams> sets;
  for (int k : s.kernelSizes)
    for (double sigma : s.sigmas)
      for (double theta : s.thetasDeg)
        for (double lambda : s.lambdas)
          for (double gamma : s.gammas)
            for (double psi : s.psisDeg) {
              GaborParams g{k, sigma, theta, lambda, gamma, psi};
              gaborKernel(g);  // validates, naming the bad value
              sets.push_back(g);
            }
  return sets;
}

namespace {

struct Painted {
  std::vector<int> index;            // pixel index of painted pixels outside the CAM mask
  std::vector<std::uint8_t> truth;   // their painted phase
  std::array<std::array<long long, 3>, 3> insideCam{};  // [truth][predicted CAM] counts (column 2)
};

void checkInputs(const cv::Mat& slice, const cv::Mat& cam, const cv::Mat* annotation) {
  bitDepthOf(slice, "slice to tune on");
  if (cam.size() != slice.size() || cam.type() != CV_8U)
    throw Error("Gabor tuning: the CAM mask must be an 8-bit image of the slice's size");
  if (annotation && (annotation->size() != slice.size() || annotation->type() != CV_8U))
    throw Error("Gabor tuning: the annotation is " + std::to_string(annotation->cols) + "x" +
                std::to_string(annotation->rows) + ", the slice " + std::to_string(slice.cols) + "x" +
                std::to_string(slice.rows) + "; expected the annotation of this (aligned, cropped) slice");
}

double iouOf(const std::array<std::array<long long, 3>, 3>& c, int p) {
  long long row = 0, col = 0;
  for (int q = 0; q < 3; ++q) {
    row += c[p][q];
    col += c[q][p];
  }
  const long long uni = row + col - c[p][p];
  return uni > 0 ? double(c[p][p]) / double(uni) : 0.0;
}

// Exact best threshold for one response: sorting the painted responses, every split point is a
// threshold; the confusion matrix is updated incrementally.
TuneCandidate bestThreshold(const std::vector<float>& response, const Painted& painted, const GaborParams& gabor) {
  const std::size_t n = painted.index.size();
  std::vector<std::pair<float, std::uint8_t>> values(n);
  std::array<long long, 3> total{0, 0, 0};
  for (std::size_t i = 0; i < n; ++i) {
    values[i] = {response[i], painted.truth[i]};
    ++total[painted.truth[i]];
  }
  std::sort(values.begin(), values.end());
  std::array<bool, 3> present{};
  for (int p = 0; p < 3; ++p)
    present[p] = total[p] + painted.insideCam[p][ActiveMaterial] > 0;
  const int phases = int(present[0]) + int(present[1]) + int(present[2]);

  TuneCandidate best{gabor};
  best.score = -1;
  std::array<long long, 3> below{0, 0, 0};  // painted truth counts predicted SE (response <= t)
  for (std::size_t i = 0; i <= n; ++i) {
    if (i > 0) ++below[values[i - 1].second];
    if (i > 0 && i < n && values[i].first == values[i - 1].first) continue;
    auto c = painted.insideCam;
    for (int p = 0; p < 3; ++p) {
      c[p][SolidElectrolyte] += below[p];
      c[p][Pore] += total[p] - below[p];
    }
    double sum = 0;
    for (int p = 0; p < 3; ++p)
      if (present[p]) sum += iouOf(c, p);
    const double score = sum / phases;
    if (score > best.score) {
      best.score = score;
      best.threshold = i == 0 ? values[0].first - 1.0
                     : i == n ? values[n - 1].first
                              : 0.5 * (double(values[i - 1].first) + double(values[i].first));
      best.poreIou = iouOf(c, Pore);
      best.seIou = iouOf(c, SolidElectrolyte);
      const double porePainted = double(c[Pore][0] + c[Pore][1] + c[Pore][2]);
      const double sePainted = double(c[SolidElectrolyte][0] + c[SolidElectrolyte][1] + c[SolidElectrolyte][2]);
      best.balancedAccuracy = 0.5 * ((porePainted > 0 ? c[Pore][Pore] / porePainted : 0) +
                                     (sePainted > 0 ? c[SolidElectrolyte][SolidElectrolyte] / sePainted : 0));
    }
  }
  return best;
}

cv::Mat continuous(const cv::Mat& m) { return m.isContinuous() ? m : m.clone(); }

}  // namespace

std::vector<float> responseAt(const cv::Mat& padded, int pad, int cols, const std::vector<int>& pixels,
                              const cv::Mat& kernel) {
  // Same correlation and border (reflect-101, via `padded`) as cv::filter2D, one pixel at a time.
  const int k = kernel.rows, r = k / 2;
  if (padded.type() != CV_32F || kernel.type() != CV_32F || r > pad)
    throw Error("Gabor response at pixels: expected float images and a kernel no wider than the padding");
  std::vector<float> out(pixels.size());
  for (std::size_t n = 0; n < pixels.size(); ++n) {
    const int y = pixels[n] / cols, x = pixels[n] % cols;
    double sum = 0;
    for (int i = 0; i < k; ++i) {
      const float* image = padded.ptr<float>(y + pad - r + i) + (x + pad - r);
      const float* weights = kernel.ptr<float>(i);
      float row[4] = {0, 0, 0, 0};  // four partial sums: lets the compiler vectorise
      int j = 0;
      for (; j + 4 <= k; j += 4)
        for (int l = 0; l < 4; ++l) row[l] += image[j + l] * weights[j + l];
      float rest = 0;
      for (; j < k; ++j) rest += image[j] * weights[j];
      sum += double(row[0]) + row[1] + row[2] + row[3] + rest;
    }
    out[n] = float(sum);
  }
  return out;
}

namespace {

}  // namespace

TuneResult tuneGabor(const cv::Mat& slice, const cv::Mat& camMaskIn, const cv::Mat& annotationIn,
                     const GaborSweep& sweep, Convolution method) {
  checkInputs(slice, camMaskIn, &annotationIn);
  const cv::Mat cam = continuous(camMaskIn), annotation = continuous(annotationIn);
  const std::vector<GaborParams> sets = expandSweep(sweep);

  TuneResult result;
  Painted painted;
  long long camRight = 0, camPainted = 0;
  const auto* a = annotation.ptr<std::uint8_t>();
  const auto* m = cam.ptr<std::uint8_t>();
  for (int i = 0; i < int(annotation.total()); ++i) {
    const int t = a[i];
    if (t >= kPhaseCount) continue;
    if (t == Pore) ++result.paintedPore;
    if (t == SolidElectrolyte) ++result.paintedSe;
    if (t == ActiveMaterial) ++result.paintedCam;
    ++camPainted;
    camRight += (t == ActiveMaterial) == (m[i] != 0);
    if (m[i]) {
      ++painted.insideCam[t][ActiveMaterial];
    } else {
      painted.index.push_back(i);
      painted.truth.push_back(static_cast<std::uint8_t>(t));
    }
  }
  long long porePaintedOutside = 0, sePaintedOutside = 0;
  for (auto t : painted.truth) {
    porePaintedOutside += t == Pore;
    sePaintedOutside += t == SolidElectrolyte;
  }
  if (porePaintedOutside == 0 || sePaintedOutside == 0)
    throw Error("Gabor tuning: the annotation has " + std::to_string(porePaintedOutside) + " pore and " +
                std::to_string(sePaintedOutside) + " SE pixels outside the active material (Otsu) mask; "
                "expected some of each to compare pores against SE");
  result.camAgreement = double(camRight) / double(camPainted);

  const cv::Mat input = poreCandidateImage(slice, cam);
  int reach = 0;
  for (const auto& g : sets) reach = std::max(reach, g.kernelSize / 2);
  cv::Mat padded;
  if (method == Convolution::Auto && reach < std::min(input.rows, input.cols))
    cv::copyMakeBorder(input, padded, reach, reach, reach, reach, cv::BORDER_REFLECT_101);
  result.candidates.resize(sets.size());
  tbb::parallel_for(std::size_t(0), sets.size(), [&](std::size_t i) {
    const int k = sets[i].kernelSize;
    std::vector<float> response;
    // A sparse annotation needs the response at few pixels: k^2 per painted pixel beats filtering
    // the whole slice (at best ~4k per pixel) when under a few percent of it is painted.
    if (!padded.empty() && double(painted.index.size()) * k * k < double(input.total()) * 4.0 * k) {
      response = responseAt(padded, reach, input.cols, painted.index, gaborKernel(sets[i]));
    } else {
      const cv::Mat full = continuous(gaborResponse(input, sets[i], method));
      response.resize(painted.index.size());
      for (std::size_t j = 0; j < painted.index.size(); ++j) response[j] = full.ptr<float>()[painted.index[j]];
    }
    result.candidates[i] = bestThreshold(response, painted, sets[i]);
  });
  std::stable_sort(result.candidates.begin(), result.candidates.end(),
                   [](const TuneCandidate& x, const TuneCandidate& y) { return x.score > y.score; });
  result.best = result.candidates.front();
  return result;
}

std::vector<TuneCandidate> untunedCandidates(const cv::Mat& slice, const cv::Mat& cam, const GaborSweep& sweep,
                                             Convolution method) {
  checkInputs(slice, cam, nullptr);
  const std::vector<GaborParams> sets = expandSweep(sweep);
  const cv::Mat input = poreCandidateImage(slice, cam);
  const cv::Mat outside = cam == 0;
  if (cv::countNonZero(outside) == 0)
    throw Error("Gabor sweep: the whole slice is above the Otsu threshold; expected some SE or pores");
  cv::Mat distanceToCam;
  cv::distanceTransform(outside, distanceToCam, cv::DIST_L2, 3);
  std::vector<TuneCandidate> out(sets.size());
  tbb::parallel_for(std::size_t(0), sets.size(), [&](std::size_t i) {
    const cv::Mat response = gaborResponse(input, sets[i], method);
    // CAM set to 0 darkens the response in a halo around every grain; Otsu over all non-CAM pixels
    // would split that halo from the rest. Judge only pixels beyond the filter's reach of CAM.
    const double reach = std::min(sets[i].kernelSize / 2.0, 3.0 * sets[i].sigma);
    cv::Mat judged = distanceToCam > reach;
    if (cv::countNonZero(judged) < 100) judged = outside;
    double lo = 0, hi = 0;
    cv::minMaxLoc(response, &lo, &hi, nullptr, nullptr, judged);
    out[i].gabor = sets[i];
    if (hi <= lo) {
      out[i].threshold = hi;
      return;
    }
    // Otsu on the response of the non-CAM pixels, quantised to 256 levels over its range.
    cv::Mat quantised;
    response.convertTo(quantised, CV_8U, 255.0 / (hi - lo), -lo * 255.0 / (hi - lo));
    std::vector<std::uint8_t> values;
    for (int y = 0; y < quantised.rows; ++y)
      for (int x = 0; x < quantised.cols; ++x)
        if (judged.at<std::uint8_t>(y, x)) values.push_back(quantised.at<std::uint8_t>(y, x));
    GreyHistogram histogram(8);
    histogram.add(cv::Mat(1, int(values.size()), CV_8U, values.data()));
    int t = 0;
    try {
      t = otsuThreshold(histogram);
    } catch (const Error&) {
      t = 127;
    }
    out[i].threshold = lo + (t + 0.5) * (hi - lo) / 255.0;
  });
  return out;
}

namespace {

std::string number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", v);
  return buffer;
}

}  // namespace

cv::Mat contactSheet(const cv::Mat& slice, const cv::Mat& cam, const std::vector<TuneCandidate>& candidates,
                     int tileWidth, int maxTiles, Convolution method) {
  checkInputs(slice, cam, nullptr);
  if (tileWidth < 32) throw Error("contact sheet: tile width " + std::to_string(tileWidth) + "; expected at least 32 px");
  const int tiles = std::min<int>(maxTiles, int(candidates.size()));
  if (tiles <= 0) throw Error("contact sheet: no parameter sets to show");
  const double scale = double(tileWidth) / slice.cols;
  const cv::Size tileSize(tileWidth, std::max(1, int(std::lround(slice.rows * scale))));
  constexpr int kCaption = 30;
  const int columns = std::min(tiles, std::max(1, int(std::ceil(std::sqrt(double(tiles))))));
  const int rows = (tiles + columns - 1) / columns;
  cv::Mat sheet(rows * (tileSize.height + kCaption), columns * tileSize.width, CV_8UC3, cv::Scalar(32, 32, 32));

  cv::Mat grey8;
  slice.convertTo(grey8, CV_8U, slice.depth() == CV_16U ? 1.0 / 257.0 : 1.0);
  cv::Mat greyBgr;
  cv::cvtColor(grey8, greyBgr, cv::COLOR_GRAY2BGR);
  const cv::Mat input = poreCandidateImage(slice, cam);

  tbb::parallel_for(0, tiles, [&](int i) {
    const TuneCandidate& c = candidates[i];
    const cv::Mat response = gaborResponse(input, c.gabor, method);
    cv::Mat labels(slice.size(), CV_8U, cv::Scalar(SolidElectrolyte));
    labels.setTo(Pore, response > c.threshold);
    labels.setTo(ActiveMaterial, cam);
    cv::Mat blended, small;
    cv::addWeighted(colourLabels(labels), 0.75, greyBgr, 0.25, 0, blended);
    cv::resize(blended, small, tileSize, 0, 0, cv::INTER_AREA);
    const int x0 = (i % columns) * tileSize.width, y0 = (i / columns) * (tileSize.height + kCaption);
    small.copyTo(sheet(cv::Rect(x0, y0, tileSize.width, tileSize.height)));
    const auto& g = c.gabor;
    const std::string line1 = "#" + std::to_string(i + 1) + " k" + std::to_string(g.kernelSize) + " s" + number(g.sigma) +
                              " th" + number(g.thetaDeg) + " l" + number(g.lambda) + " g" + number(g.gamma) +
                              " p" + number(g.psiDeg);
    std::string line2 = "thr " + number(c.threshold);
    if (c.score > 0) line2 += "  score " + number(c.score);
    // Each tile draws its caption in its own strip: text never spills into a neighbour's tile.
    cv::Mat caption(kCaption, tileSize.width, CV_8UC3, cv::Scalar(32, 32, 32));
    const cv::Scalar ink(235, 235, 235);
    cv::putText(caption, line1, cv::Point(3, 12), cv::FONT_HERSHEY_SIMPLEX, 0.35, ink, 1, cv::LINE_AA);
    cv::putText(caption, line2, cv::Point(3, 25), cv::FONT_HERSHEY_SIMPLEX, 0.35, ink, 1, cv::LINE_AA);
    caption.copyTo(sheet(cv::Rect(x0, y0 + tileSize.height, tileSize.width, kCaption)));
  });
  return sheet;
}

std::string tuneResultToml(const TuneCandidate& best) {
  auto exact = [](double v) {  // shortest text that reads back as the same double
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%.17g", v);
    for (int digits = 6; digits < 17; ++digits) {
      char shorter[40];
      std::snprintf(shorter, sizeof shorter, "%.*g", digits, v);
      if (std::strtod(shorter, nullptr) == v) return std::string(shorter);
    }
    return std::string(buffer);
  };
  const auto& g = best.gabor;
  return "[segment]\n"
         "gabor_kernel_size = " + std::to_string(g.kernelSize) + "\n"
         "gabor_sigma = " + exact(g.sigma) + "\n"
         "gabor_theta = " + exact(g.thetaDeg) + "\n"
         "gabor_lambda = " + exact(g.lambda) + "\n"
         "gabor_gamma = " + exact(g.gamma) + "\n"
         "gabor_psi = " + exact(g.psiDeg) + "\n"
         "pore_threshold = " + exact(best.threshold) + "\n";
}

namespace {

std::string trimmed(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// The key a line sets ("gabor_sigma = 2 # note" -> "gabor_sigma"), or "" for other lines.
std::string keyOf(const std::string& line) {
  const std::string t = trimmed(line);
  if (t.empty() || t[0] == '#' || t[0] == '[') return "";
  const auto eq = t.find('=');
  if (eq == std::string::npos) return "";
  std::string key = trimmed(t.substr(0, eq));
  if (key.size() >= 2 && (key.front() == '"' || key.front() == '\'')) key = key.substr(1, key.size() - 2);
  return key;
}

}  // namespace

std::string mergeTuneResultIntoToml(const std::string& existing, const TuneCandidate& best) {
  // The chosen lines, minus the header, keyed by name.
  std::vector<std::pair<std::string, std::string>> chosen;
  {
    std::istringstream in(tuneResultToml(best));
    std::string line;
    while (std::getline(in, line))
      if (!keyOf(line).empty()) chosen.emplace_back(keyOf(line), line);
  }
  std::vector<std::string> lines;
  {
    std::istringstream in(existing);
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
  }
  std::vector<bool> written(chosen.size(), false);
  std::vector<std::string> out;
  bool inSegment = false, sawSegment = false;
  auto flushMissing = [&] {
    for (std::size_t i = 0; i < chosen.size(); ++i)
      if (!written[i]) {
        out.push_back(chosen[i].second);
        written[i] = true;
      }
  };
  for (const std::string& line : lines) {
    const std::string t = trimmed(line);
    if (!t.empty() && t[0] == '[') {
      if (inSegment) {
        // Missing keys go after the section's last non-blank line.
        std::vector<std::string> blanks;
        while (!out.empty() && trimmed(out.back()).empty()) {
          blanks.push_back(out.back());
          out.pop_back();
        }
        flushMissing();
        out.insert(out.end(), blanks.begin(), blanks.end());
      }
      inSegment = t.rfind("[segment]", 0) == 0;
      sawSegment = sawSegment || inSegment;
      out.push_back(line);
      continue;
    }
    if (inSegment) {
      const std::string key = keyOf(line);
      auto it = std::find_if(chosen.begin(), chosen.end(), [&](const auto& c) { return c.first == key; });
      if (!key.empty() && it != chosen.end()) {
        const std::size_t i = std::size_t(it - chosen.begin());
        if (!written[i]) out.push_back(it->second);  // a repeated key is dropped, not duplicated
        written[i] = true;
        continue;
      }
    }
    out.push_back(line);
  }
  if (inSegment) flushMissing();
  if (!sawSegment) {
    if (!out.empty() && !trimmed(out.back()).empty()) out.push_back("");
    out.push_back("[segment]");
    flushMissing();
  }
  std::string text;
  for (const auto& line : out) text += line + "\n";
  return text;
}

}  // namespace fibseg::segment
