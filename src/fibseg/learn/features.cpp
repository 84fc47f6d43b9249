// The multi-scale feature bank (in the spirit of ilastik's pixel classification): at each scale
// the smoothed grey value and its derivatives, which describe brightness, edges, blobs, ridges
// and texture around a pixel; plus a Gabor bank for oriented texture (curtaining, SE grain).
#include <opencv2/imgproc.hpp>
#include <tbb/parallel_for.h>
#include <tbb/parallel_invoke.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fibseg/core/error.hpp"
#include "fibseg/core/image.hpp"
#include "fibseg/learn/feature_bank.hpp"

namespace fibseg::learn {

namespace {

constexpr int kPerScale = 10;        // features per scale, see FeatureSpec
constexpr double kDogRatio = 1.6;    // DoG partner scale: the classic approximation of the LoG
constexpr double kTensorRatio = 2.0; // structure-tensor integration scale / derivative scale

std::string number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

int gaussianRadius(double sigma) { return std::max(1, static_cast<int>(std::ceil(3 * sigma))); }

cv::Mat gaussian(const cv::Mat& image, double sigma, detail::PlanePool* pool = nullptr) {
  cv::Mat out = detail::PlanePool::take(pool, image.size(), image.type());
  const int k = 2 * gaussianRadius(sigma) + 1;
  cv::GaussianBlur(image, out, cv::Size(k, k), sigma, sigma, cv::BORDER_REFLECT);
  return out;
}

// Energy of a complex Gabor filter (wavelength lambda, orientation theta, isotropic envelope of
// one-octave bandwidth, sigma = 0.56 lambda): |I * g e^{i k.x}|. With an isotropic envelope the
// complex kernel factorises into x and y parts, so it costs 2 row and 4 column passes instead of
// two full 2D convolutions. Its response to a flat region is ~0.002 of the grey level.
cv::Mat gaborEnergy(const cv::Mat& image, double lambda, double theta, detail::PlanePool* pool) {
  const double sigma = 0.56 * lambda;
  const int r = gaussianRadius(sigma);
  cv::Mat xRe(1, 2 * r + 1, CV_32F), xIm(1, 2 * r + 1, CV_32F), yRe(2 * r + 1, 1, CV_32F), yIm(2 * r + 1, 1, CV_32F);
  double sum = 0;
  for (int i = -r; i <= r; ++i) sum += std::exp(-i * i / (2 * sigma * sigma));
  for (int i = -r; i <= r; ++i) {
    const double g = std::exp(-i * i / (2 * sigma * sigma)) / sum;
    const double px = 2 * CV_PI * i * std::cos(theta) / lambda, py = 2 * CV_PI * i * std::sin(theta) / lambda;
    xRe.at<float>(i + r) = float(g * std::cos(px));
    xIm.at<float>(i + r) = float(g * std::sin(px));
    yRe.at<float>(i + r) = float(g * std::cos(py));
    yIm.at<float>(i + r) = float(g * std::sin(py));
  }
  // One 1D pass per factor; a factor that vanishes (sin 0 along an axis) is skipped.
  auto pass = [&](const cv::Mat& in, const cv::Mat& kernel) {
    cv::Mat out = detail::PlanePool::take(pool, in.size());
    cv::filter2D(in, out, CV_32F, kernel, cv::Point(-1, -1), 0, cv::BORDER_REFLECT);
    return out;
  };
  auto vanishes = [](const cv::Mat& kernel) { return cv::norm(kernel, cv::NORM_INF) < 1e-7; };
  const bool noXIm = vanishes(xIm), noYIm = vanishes(yIm);
  const cv::Mat a = pass(image, xRe);
  const cv::Mat b = noXIm ? cv::Mat() : pass(image, xIm);
  cv::Mat re = pass(a, yRe), im;
  if (!noXIm && !noYIm) cv::subtract(re, pass(b, yIm), re);
  if (!noYIm) im = pass(a, yIm);
  if (!noXIm) {
    if (im.empty())
      im = pass(b, yRe);
    else
      cv::add(im, pass(b, yRe), im);
  }
  if (im.empty()) {
    im = detail::PlanePool::take(pool, image.size());
    im.setTo(0);
  }
  cv::Mat energy = detail::PlanePool::take(pool, image.size());
  cv::magnitude(re, im, energy);
  return energy;
}

// Eigenvalues (larger first) of the symmetric 2x2 field [a b; b c]; optionally also its trace.
void eigenvalues(const cv::Mat& a, const cv::Mat& b, const cv::Mat& c, cv::Mat& large, cv::Mat& small,
                 cv::Mat* trace = nullptr) {
  large.create(a.size(), CV_32F);
  small.create(a.size(), CV_32F);
  if (trace) trace->create(a.size(), CV_32F);
  for (int y = 0; y < a.rows; ++y) {
    const float* pa = a.ptr<float>(y);
    const float* pb = b.ptr<float>(y);
    const float* pc = c.ptr<float>(y);
    float* pl = large.ptr<float>(y);
    float* ps = small.ptr<float>(y);
    float* pt = trace ? trace->ptr<float>(y) : nullptr;
    for (int x = 0; x < a.cols; ++x) {
      const float mean = 0.5f * (pa[x] + pc[x]);
      const float half = 0.5f * (pa[x] - pc[x]);
      const float root = std::sqrt(half * half + pb[x] * pb[x]);
      pl[x] = mean + root;
      ps[x] = mean - root;
      if (pt) pt[x] = pa[x] + pc[x];
    }
  }
}

// The per-scale features, with the elementwise steps fused into single passes: at these sizes
// the bank is limited by memory traffic more than by arithmetic. Split in three independent parts
// (out[1] holds the partner blur until differenceOfGaussians) so two cores share a scale's work.
void derivativeFeatures(const cv::Mat& image, double s, cv::Mat* out, detail::PlanePool* pool) {
  const cv::Mat g = gaussian(image, s, pool);
  out[0] = g;
  auto take = [&] { return detail::PlanePool::take(pool, g.size()); };
  // Derivatives of the smoothed image by central differences = Gaussian derivatives at scale s;
  // scale-normalised (times s per order) so the scales are comparable.
  cv::Mat gx = take(), gy = take(), gxx = take(), gyy = take(), gxy = take();
  cv::Sobel(g, gx, CV_32F, 1, 0, 1, 0.5 * s, 0, cv::BORDER_REFLECT);
  cv::Sobel(g, gy, CV_32F, 0, 1, 1, 0.5 * s, 0, cv::BORDER_REFLECT);
  cv::Sobel(g, gxx, CV_32F, 2, 0, 1, s * s, 0, cv::BORDER_REFLECT);
  cv::Sobel(g, gyy, CV_32F, 0, 2, 1, s * s, 0, cv::BORDER_REFLECT);
  cv::Sobel(g, gxy, CV_32F, 1, 1, 1, 0.25 * s * s, 0, cv::BORDER_REFLECT);
  out[4] = take(), out[5] = take(), out[2] = take();
  eigenvalues(gxx, gxy, gyy, out[4], out[5], &out[2]);  // trace of the Hessian = Laplacian
  // Gradient magnitude and the structure tensor's entries in one pass.
  cv::Mat jxx = take(), jxy = take(), jyy = take();
  out[3] = take();
  for (int y = 0; y < g.rows; ++y) {
    const float* px = gx.ptr<float>(y);
    const float* py = gy.ptr<float>(y);
    float *pxx = jxx.ptr<float>(y), *pxy = jxy.ptr<float>(y), *pyy = jyy.ptr<float>(y), *pm = out[3].ptr<float>(y);
    for (int x = 0; x < g.cols; ++x) {
      pxx[x] = px[x] * px[x];
      pxy[x] = px[x] * py[x];
      pyy[x] = py[x] * py[x];
      pm[x] = std::sqrt(pxx[x] + pyy[x]);
    }
  }
  const double rho = kTensorRatio * s;
  cv::Mat sxx, sxy, syy;
  tbb::parallel_invoke([&] { sxx = gaussian(jxx, rho, pool); }, [&] { sxy = gaussian(jxy, rho, pool); },
                       [&] { syy = gaussian(jyy, rho, pool); });
  out[6] = take(), out[7] = take();
  eigenvalues(sxx, sxy, syy, out[6], out[7]);
}

// Local mean and variance in a (4s+1)^2 window: the texture of SE vs the flat CAM grains.
void localStatistics(const cv::Mat& image, double s, cv::Mat* out, detail::PlanePool* pool) {
  const int r = std::max(1, static_cast<int>(std::lround(2 * s)));
  const cv::Size window(2 * r + 1, 2 * r + 1);
  cv::Mat meanSquare = detail::PlanePool::take(pool, image.size());
  out[8] = detail::PlanePool::take(pool, image.size());
  out[9] = detail::PlanePool::take(pool, image.size());
  cv::blur(image, out[8], window, cv::Point(-1, -1), cv::BORDER_REFLECT);
  cv::sqrBoxFilter(image, meanSquare, CV_32F, window, cv::Point(-1, -1), true, cv::BORDER_REFLECT);
  for (int y = 0; y < image.rows; ++y) {
    const float* pm = out[8].ptr<float>(y);
    const float* pq = meanSquare.ptr<float>(y);
    float* pv = out[9].ptr<float>(y);
    for (int x = 0; x < image.cols; ++x) pv[x] = std::max(pq[x] - pm[x] * pm[x], 0.0f);
  }
}

// Grey maximum, minimum and median in the local statistics' (4s+1)^2 window. A square window
// keeps the maximum and minimum separable (two 1D passes); OpenCV's median of a float image stops
// at 5x5, so larger windows take it on the image quantised to 1/255 of the normalised range.
void rankStatistics(const cv::Mat& image, double s, cv::Mat* out) {
  const int r = std::max(1, static_cast<int>(std::lround(2 * s)));
  const int k = 2 * r + 1;
  const cv::Mat window = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(k, k));
  cv::dilate(image, out[0], window);  // outside the image: neutral (OpenCV's default border)
  cv::erode(image, out[1], window);
  if (k <= 5) {
    cv::medianBlur(image, out[2], k);
    return;
  }
  cv::Mat bytes, median;
  image.convertTo(bytes, CV_8U, 255.0);  // saturates below 0 and above 1
  cv::medianBlur(bytes, median, k);
  median.convertTo(out[2], CV_32F, 1.0 / 255.0);
}

// The part of the bank computed on the neighbours: the same scales and Gabor filters, not the
// CNN (its cost would double, and its maps are already contextual).
FeatureSpec contextSpec(const FeatureSpec& spec) {
  FeatureSpec context = spec;
  context.cnnModel.clear();
  context.cnnModelDigest.clear();
  context.cnnChannels = 0;
  context.zContext = "none";
  return context;
}

bool hasContext(const FeatureSpec& spec) { return spec.zContext != "none"; }

// Whether z-1 and z+1 are context images each on its own (not their mean, "neighbours").
bool neighboursApart(const FeatureSpec& spec) { return spec.zContext == "above_below" || spec.zContext == "changes"; }

// The names of the context images, in the order contextImages returns them.
std::vector<std::string> contextNames(const FeatureSpec& spec) {
  if (spec.zContext == "neighbours") return {"z-neighbours "};
  if (neighboursApart(spec)) return {"z-1 ", "z+1 "};
  return {};
}

void appendContextFeatures(std::vector<cv::Mat>& planes, const std::vector<cv::Mat>& contexts,
                           const FeatureSpec& spec, detail::PlanePool* pool = nullptr) {
  std::vector<std::vector<cv::Mat>> banks;
  for (const auto& context : contexts)
    banks.push_back(detail::hasContextBanks(spec) ? detail::contextBank(context, spec, pool)
                                                  : detail::contextChangeSources(context, spec, pool));
  detail::appendContextBanks(planes, banks, spec, pool);
}

void checkSpec(const FeatureSpec& spec) {
  if (spec.scales.empty() && spec.gaborWavelengths.empty() && spec.cnnModel.empty())
    throw Error("feature specification: no features (learn.scales and learn.gabor_wavelengths are empty and "
                "there is no learn.cnn_model); expected at least one scale");
  for (double s : spec.scales)
    if (!(s > 0)) throw Error("feature specification: scale " + number(s) + " px; expected scales > 0");
  for (double l : spec.gaborWavelengths)
    if (!(l >= 2)) throw Error("feature specification: Gabor wavelength " + number(l) + " px; expected >= 2 px");
  if (!spec.gaborWavelengths.empty() && spec.gaborOrientations < 1)
    throw Error("feature specification: " + std::to_string(spec.gaborOrientations) +
                " Gabor orientations; expected at least 1");
  if (spec.normalisation != "training" && spec.normalisation != "percentile" && spec.normalisation != "fixed")
    throw Error("feature specification: normalisation '" + spec.normalisation +
                "'; expected training, fixed or percentile");
  if (spec.zContext != "none" && spec.zContext != "neighbours" && spec.zContext != "above_below" &&
      spec.zContext != "changes")
    throw Error("feature specification: z context '" + spec.zContext +
                "'; expected none, neighbours, above_below or changes");
  for (double s : spec.autoContextScales)
    if (!(s > 0)) throw Error("feature specification: auto-context scale " + number(s) + " px; expected scales > 0");
  if (spec.autoContextStep < 1 || spec.autoContextStep > 16)
    throw Error("feature specification: auto-context step " + std::to_string(spec.autoContextStep) +
                " px (learn.auto_context_step); expected 1..16");
  if (!spec.cnnModel.empty() && (spec.cnnModelDigest.empty() || spec.cnnChannels < 1))
    throw Error("feature specification: CNN model " + spec.cnnModel +
                " not resolved (internal: call resolveCnnModel before computing features)");
}

}  // namespace

std::vector<std::string> featureNames(const FeatureSpec& spec) {
  static const char* perScale[kPerScale] = {"gaussian",          "difference of gaussians", "laplacian of gaussian",
                                            "gradient magnitude", "hessian eigenvalue 1",    "hessian eigenvalue 2",
                                            "structure tensor eigenvalue 1", "structure tensor eigenvalue 2",
                                            "local mean",         "local variance"};
  std::vector<std::string> names{"grey"};
  for (double s : spec.scales)
    for (const char* name : perScale) names.push_back(std::string(name) + " s=" + number(s));
  for (double l : spec.gaborWavelengths)
    for (int o = 0; o < spec.gaborOrientations; ++o)
      names.push_back("gabor l=" + number(l) + " o=" + number(180.0 * o / spec.gaborOrientations));
  if (spec.rankFeatures)
    for (double s : spec.scales)
      for (const char* name : {"maximum", "minimum", "median"}) names.push_back(std::string(name) + " s=" + number(s));
  if (!spec.cnnModel.empty())
    for (int c = 0; c < spec.cnnChannels; ++c) names.push_back("cnn " + std::to_string(c));
  if (detail::hasContextBanks(spec))
    for (const auto& side : contextNames(spec))
      for (const auto& name : featureNames(contextSpec(spec))) names.push_back(side + name);
  for (const auto& side : contextNames(spec)) {
    names.push_back(side + "change grey");
    for (double s : spec.scales) names.push_back(side + "change gaussian s=" + number(s));
  }
  return names;
}

std::vector<std::string> autoContextFeatureNames(const FeatureSpec& spec, const std::vector<std::string>& phases) {
  std::vector<std::string> names;
  if (spec.autoContextScales.empty()) return names;
  for (const auto& phase : phases) {
    names.push_back("stage 1 p(" + phase + ")");
    for (double s : spec.autoContextScales) names.push_back("stage 1 p(" + phase + ") s=" + number(s));
  }
  return names;
}

std::string featureSpecToJson(const FeatureSpec& spec) {
  nlohmann::json j;
  j["scales"] = spec.scales;
  j["gabor_wavelengths"] = spec.gaborWavelengths;
  j["gabor_orientations"] = spec.gaborOrientations;
  j["normalisation"] = spec.normalisation;
  if (spec.normalisation == "training") j["grey_range"] = {spec.greyLow, spec.greyHigh};
  j["cnn_model"] = spec.cnnModel;
  j["cnn_model_digest"] = spec.cnnModelDigest;
  j["cnn_channels"] = spec.cnnChannels;
  j["z_context"] = spec.zContext;
  j["rank_features"] = spec.rankFeatures;
  j["auto_context_scales"] = spec.autoContextScales;
  if (!spec.autoContextScales.empty()) j["auto_context_step"] = spec.autoContextStep;
  j["feature_names"] = featureNames(spec);
  return j.dump(2);
}

FeatureSpec featureSpecFromJson(const std::string& text, const std::string& where) {
  try {
    const auto j = nlohmann::json::parse(text);
    FeatureSpec spec;
    spec.scales = j.at("scales").get<std::vector<double>>();
    spec.gaborWavelengths = j.at("gabor_wavelengths").get<std::vector<double>>();
    spec.gaborOrientations = j.at("gabor_orientations").get<int>();
    spec.normalisation = j.at("normalisation").get<std::string>();
    if (spec.normalisation == "training") {
      const auto range = j.at("grey_range").get<std::vector<double>>();
      if (range.size() != 2 || !(range[1] > range[0]))
        throw Error(where + ": grey_range of normalisation training must be [low, high] with high > low");
      spec.greyLow = range[0], spec.greyHigh = range[1];
    }
    spec.cnnModel = j.at("cnn_model").get<std::string>();
    spec.cnnModelDigest = j.at("cnn_model_digest").get<std::string>();
    spec.cnnChannels = j.at("cnn_channels").get<int>();
    spec.zContext = j.value("z_context", std::string("none"));  // models from before z context: none
    // Models from before these existed: no rank features, one stage.
    spec.rankFeatures = j.value("rank_features", false);
    spec.autoContextScales = j.value("auto_context_scales", std::vector<double>{});
    spec.autoContextStep = j.value("auto_context_step", 1);  // before it: every pixel
    if (spec.autoContextStep < 1 || spec.autoContextStep > 16)
      throw Error(where + ": auto_context_step " + std::to_string(spec.autoContextStep) + "; expected 1..16");
    return spec;
  } catch (const nlohmann::json::exception& e) {
    throw Error(where + ": not a feature specification (" + e.what() +
                "); expected keys scales, gabor_wavelengths, gabor_orientations, normalisation, cnn_model, "
                "cnn_model_digest, cnn_channels");
  }
}

std::string describeFeatureDifferences(const FeatureSpec& model, const FeatureSpec& wanted) {
  auto list = [](const std::vector<double>& v) {
    std::string s;
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + number(v[i]);
    return "[" + s + "]";
  };
  std::string out;
  auto differ = [&](const std::string& what, const std::string& a, const std::string& b) {
    if (a != b) out += what + ": model " + a + ", configuration " + b + "\n";
  };
  differ("learn.scales", list(model.scales), list(wanted.scales));
  differ("learn.gabor_wavelengths", list(model.gaborWavelengths), list(wanted.gaborWavelengths));
  if (!model.gaborWavelengths.empty() || !wanted.gaborWavelengths.empty())
    differ("learn.gabor_orientations", std::to_string(model.gaborOrientations), std::to_string(wanted.gaborOrientations));
  differ("learn.normalisation", model.normalisation, wanted.normalisation);
  differ("learn.z_context", model.zContext, wanted.zContext);
  differ("learn.rank_features", model.rankFeatures ? "true" : "false", wanted.rankFeatures ? "true" : "false");
  differ("learn.auto_context_scales", list(model.autoContextScales), list(wanted.autoContextScales));
  if (model.cnnModel.empty() != wanted.cnnModel.empty())
    differ("learn.cnn_model", model.cnnModel.empty() ? "none" : model.cnnModel,
           wanted.cnnModel.empty() ? "none" : wanted.cnnModel);
  else if (model.cnnModelDigest != wanted.cnnModelDigest)
    out += "learn.cnn_model: model used " + model.cnnModel + " (digest " + model.cnnModelDigest +
           "), configuration " + wanted.cnnModel + " (digest " + wanted.cnnModelDigest + "): different files\n";
  return out;
}

void resolveCnnModel(FeatureSpec& spec) {
  if (spec.cnnModel.empty()) {
    spec.cnnModelDigest.clear();
    spec.cnnChannels = 0;
    return;
  }
  spec.cnnModelDigest = detail::fileDigest(spec.cnnModel);
  detail::CnnRunner runner(spec.cnnModel);
  spec.cnnChannels = runner.channels();
}

std::vector<cv::Mat> computeFeatures(const cv::Mat& slice, const FeatureSpec& spec) {
  return computeFeatures(slice, {}, spec);
}

std::vector<cv::Mat> computeFeatures(const cv::Mat& slice, const std::vector<cv::Mat>& neighbours,
                                     const FeatureSpec& spec) {
  checkSpec(spec);
  std::unique_ptr<detail::CnnRunner> cnn;
  if (!spec.cnnModel.empty()) cnn = std::make_unique<detail::CnnRunner>(spec.cnnModel);
  const auto contexts = detail::contextImages(neighbours, spec, slice.size(), "slice");
  auto planes = detail::bankFeatures(detail::normaliseSlice(slice, spec), spec, cnn.get());
  appendContextFeatures(planes, contexts, spec);
  return planes;
}

namespace detail {

cv::Mat PlanePool::take(PlanePool* pool, cv::Size size, int type) {
  if (!pool) return cv::Mat(size, type);
  std::lock_guard<std::mutex> lock(pool->mutex_);
  // Free: held by the pool alone (read atomically, as OpenCV counts references).
  auto isFree = [](cv::Mat& m) { return CV_XADD(&m.u->refcount, 0) == 1; };
  // Only a plane of this very size: a part of a larger one would be a region of interest, and
  // OpenCV's filters read the pixels around a region of interest instead of reflecting at its edge.
  for (auto& m : pool->planes_)
    if (m.size() == size && m.type() == type && isFree(m)) return m;
  std::erase_if(pool->planes_, [&](cv::Mat& m) { return (m.size() != size || m.type() != type) && isFree(m); });
  pool->planes_.emplace_back(size, type);
  return pool->planes_.back();
}

std::string fileDigest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read " + path + "; expected a readable ONNX model file");
  std::uint64_t hash = 1469598103934665603ull;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    for (std::streamsize i = 0; i < in.gcount(); ++i) {
      hash ^= static_cast<unsigned char>(buffer[i]);
      hash *= 1099511628211ull;
    }
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

std::pair<double, double> greyPercentiles(const std::vector<cv::Mat>& slices) {
  // 1st and 99th percentile from the histogram: robust to a few saturated or dead pixels.
  const int depth = bitDepthOf(slices.at(0), "slice to classify");
  const int bins = depth == 8 ? 256 : 65536;
  std::vector<long long> histogram(bins, 0);
  long long total = 0;
  for (const auto& slice : slices) {
    total += static_cast<long long>(slice.total());
    for (int y = 0; y < slice.rows; ++y) {
      if (depth == 8) {
        const auto* p = slice.ptr<std::uint8_t>(y);
        for (int x = 0; x < slice.cols; ++x) ++histogram[p[x]];
      } else {
        const auto* p = slice.ptr<std::uint16_t>(y);
        for (int x = 0; x < slice.cols; ++x) ++histogram[p[x]];
      }
    }
  }
  auto percentile = [&](double q) {
    const long long rank = static_cast<long long>(q * (total - 1));
    long long seen = 0;
    for (int v = 0; v < bins; ++v)
      if ((seen += histogram[v]) > rank) return v;
    return bins - 1;
  };
  return {percentile(0.01), percentile(0.99)};
}

cv::Mat normaliseSlice(const cv::Mat& slice, const FeatureSpec& spec) {
  bitDepthOf(slice, "slice to classify");
  cv::Mat out;
  const bool trainedRange = spec.normalisation == "training" && spec.greyHigh > spec.greyLow;
  if (spec.normalisation == "fixed" || (spec.normalisation == "training" && !trainedRange)) {
    slice.convertTo(out, CV_32F, 1.0 / maxGreyOf(slice));
    return out;
  }
  if (spec.normalisation != "percentile" && !trainedRange)
    throw Error("feature specification: normalisation '" + spec.normalisation +
                "'; expected training, fixed or percentile");
  const auto [low, high] = trainedRange ? std::pair{spec.greyLow, spec.greyHigh} : greyPercentiles({slice});
  const double range = high > low ? high - low : 1.0;  // a flat slice stays flat
  slice.convertTo(out, CV_32F, 1.0 / range, -low / range);
  return out;
}

std::vector<cv::Mat> contextImages(const std::vector<cv::Mat>& neighbours, const FeatureSpec& spec, cv::Size size,
                                   const std::string& where) {
  if (!hasContext(spec)) return {};
  std::vector<cv::Mat> given;
  for (const auto& neighbour : neighbours) {
    if (neighbour.empty()) continue;
    if (neighbour.size() != size)
      throw Error(where + ": a neighbouring slice is " + std::to_string(neighbour.cols) + "x" +
                  std::to_string(neighbour.rows) + "; expected the slice's size " + std::to_string(size.width) + "x" +
                  std::to_string(size.height) + " (aligned slices of one stack)");
    given.push_back(normaliseSlice(neighbour, spec));
  }
  if (given.empty() || neighbours.size() > 2)
    throw Error(where + ": the features have z context (learn.z_context = " + spec.zContext +
                "), which needs the slice's aligned neighbours z-1 and z+1; expected a stack of at least 2 "
                "slices (a multi-page TIFF or a folder of aligned slices), or a model trained with "
                "learn.z_context = none for single images");
  if (neighboursApart(spec)) {
    // One side missing (the ends of a stack): the other stands in for it.
    if (given.size() == 1) given.push_back(given[0]);
    return given;
  }
  cv::Mat sum = given[0].clone();
  for (std::size_t i = 1; i < given.size(); ++i) sum += given[i];
  return {sum / static_cast<double>(given.size())};
}

int featureHalo(const FeatureSpec& spec) {
  int halo = 0;
  for (double s : spec.scales) {
    halo = std::max(halo, gaussianRadius(kDogRatio * s));
    halo = std::max(halo, gaussianRadius(s) + 1 + gaussianRadius(kTensorRatio * s));
    halo = std::max(halo, static_cast<int>(std::lround(2 * s)));
  }
  for (double l : spec.gaborWavelengths) halo = std::max(halo, gaussianRadius(0.56 * l));
  // The CNN's receptive field is not known from outside; 32 px covers a few 3x3 conv blocks
  // with pooling. Beyond it, band edges see reflected context.
  if (!spec.cnnModel.empty()) halo = std::max(halo, 32);
  return halo + 2;
}

std::vector<cv::Mat> bankFeatures(const cv::Mat& normalised, const FeatureSpec& spec, CnnRunner* cnn,
                                  PlanePool* pool) {
  checkSpec(spec);
  const int scales = static_cast<int>(spec.scales.size());
  const int gabors = static_cast<int>(spec.gaborWavelengths.size()) * spec.gaborOrientations;
  const int ranked = spec.rankFeatures ? scales : 0;
  std::vector<cv::Mat> planes(1 + kPerScale * scales + gabors + 3 * ranked);
  planes[0] = PlanePool::take(pool, normalised.size(), normalised.type());
  normalised.copyTo(planes[0]);
  // Independent tasks: per scale the derivative features, the partner blur of the difference of
  // Gaussians and the local statistics; one per Gabor filter.
  const int tasks = 3 * scales + gabors + ranked;
  tbb::parallel_for(0, tasks, [&](int t) {
    if (t < 3 * scales) {
      cv::Mat* out = &planes[1 + kPerScale * (t / 3)];
      const double s = spec.scales[t / 3];
      if (t % 3 == 0) derivativeFeatures(normalised, s, out, pool);
      if (t % 3 == 1) out[1] = gaussian(normalised, kDogRatio * s, pool);
      if (t % 3 == 2) localStatistics(normalised, s, out, pool);
    } else if (t >= 3 * scales + gabors) {
      const int k = t - 3 * scales - gabors;
      rankStatistics(normalised, spec.scales[k], &planes[1 + kPerScale * scales + gabors + 3 * k]);
    } else {
      const int g = t - 3 * scales;
      const double lambda = spec.gaborWavelengths[g / spec.gaborOrientations];
      const double theta = CV_PI * (g % spec.gaborOrientations) / spec.gaborOrientations;
      planes[1 + kPerScale * scales + g] = gaborEnergy(normalised, lambda, theta, pool);
    }
  });
  for (int k = 0; k < scales; ++k) {  // difference of Gaussians: sigma minus 1.6 sigma
    cv::Mat* out = &planes[1 + kPerScale * k];
    cv::subtract(out[0], out[1], out[1]);
  }
  if (cnn) {
    auto maps = cnn->run(normalised);
    if (static_cast<int>(maps.size()) != spec.cnnChannels)
      throw Error("CNN model " + spec.cnnModel + " gave " + std::to_string(maps.size()) +
                  " feature maps; the feature specification expects " + std::to_string(spec.cnnChannels));
    for (auto& m : maps) planes.push_back(std::move(m));
  }
  return planes;
}

std::vector<cv::Mat> contextBank(const cv::Mat& context, const FeatureSpec& spec, PlanePool* pool) {
  return bankFeatures(context, contextSpec(spec), nullptr, pool);
}

bool hasContextBanks(const FeatureSpec& spec) { return hasContext(spec) && spec.zContext != "changes"; }

std::vector<cv::Mat> contextChangeSources(const cv::Mat& context, const FeatureSpec& spec, PlanePool* pool) {
  std::vector<cv::Mat> planes(1 + spec.scales.size());
  planes[0] = context;
  tbb::parallel_for(std::size_t{0}, spec.scales.size(),
                    [&](std::size_t k) { planes[1 + k] = gaussian(context, spec.scales[k], pool); });
  return planes;
}

// Each context image's bank, then its change from the slice (smoothed grey at every scale, and
// the raw grey): a tree compares one feature with a threshold, so "the same grey above as here"
// (a cut body continuing, or a view through a pore that stays the same) is easier to learn from
// a difference than from two separate grey levels.
void appendContextBanks(std::vector<cv::Mat>& planes, const std::vector<std::vector<cv::Mat>>& banks,
                        const FeatureSpec& spec, PlanePool* pool) {
  const std::size_t ownPlanes = planes.size();
  const std::size_t perBank = 1 + spec.scales.size();
  const bool wholeBanks = hasContextBanks(spec);
  for (const auto& bank : banks) {
    if (ownPlanes == 0 || bank.size() < perBank)
      throw Error("feature bank: z context without the slice's bank (internal)");
    if (wholeBanks)
      for (const auto& plane : bank) planes.push_back(plane);
  }
  // Per context the change of the raw grey, then of the smoothed grey at each scale. Without
  // whole banks ("changes") a context is given as its change sources: just those planes, in order.
  const std::size_t first = planes.size();
  planes.resize(first + banks.size() * perBank);
  tbb::parallel_for(std::size_t{0}, banks.size() * perBank, [&](std::size_t task) {
    const std::size_t k = task % perBank, g = k == 0 ? 0 : 1 + kPerScale * (k - 1);
    const auto& bank = banks[task / perBank];
    planes[first + task] = PlanePool::take(pool, planes[g].size());
    cv::subtract(bank[wholeBanks ? g : k], planes[g], planes[first + task]);
  });
}

void forEachBand(const cv::Mat& normalised, const std::vector<cv::Mat>& contexts, const FeatureSpec& spec,
                 CnnRunner* cnn, long long bandPixels,
                 const std::function<void(cv::Range rows, const std::vector<cv::Mat>& planes)>& visit,
                 PlanePool* pool) {
  if (hasContext(spec) != !contexts.empty())
    throw Error("feature bank: z context images missing (internal: pass contextImages)");
  const int halo = featureHalo(spec);
  const long long wanted = std::max<long long>({bandPixels / std::max(1, normalised.cols), 16, halo});
  const int bandRows = static_cast<int>(std::min<long long>(wanted, std::max(1, normalised.rows)));
  for (int y0 = 0; y0 < normalised.rows; y0 += bandRows) {
    const int y1 = std::min(normalised.rows, y0 + bandRows);
    const int top = std::max(0, y0 - halo), bottom = std::min(normalised.rows, y1 + halo);
    // A copy, so filters see reflected borders at the halo's edge, far from the band itself.
    cv::Mat withHalo = PlanePool::take(pool, cv::Size(normalised.cols, bottom - top), normalised.type());
    normalised.rowRange(top, bottom).copyTo(withHalo);
    auto planes = bankFeatures(withHalo, spec, cnn, pool);
    std::vector<cv::Mat> bandContexts;
    for (const auto& context : contexts) {
      bandContexts.push_back(PlanePool::take(pool, cv::Size(context.cols, bottom - top), context.type()));
      context.rowRange(top, bottom).copyTo(bandContexts.back());
    }
    appendContextFeatures(planes, bandContexts, spec, pool);
    if (top != y0 || bottom != y1)
      for (auto& plane : planes) plane = plane.rowRange(y0 - top, y1 - top);
    visit(cv::Range(y0, y1), planes);
  }
}

int autoContextHalo(const FeatureSpec& spec) {
  int halo = 0;
  const int step = spec.autoContextStep;
  for (double s : spec.autoContextScales) halo = std::max(halo, gaussianRadius(s / step));
  // On the grid: the blur's radius plus the grid row the interpolation takes below a pixel.
  return step == 1 ? halo : step * (halo + 2);
}

cv::Size firstStageGrid(cv::Size slice, const FeatureSpec& spec) {
  const int step = spec.autoContextStep;
  return {(slice.width + step - 1) / step, (slice.height + step - 1) / step};
}

namespace {

// Rows `rows` (slice coordinates) of the bilinear interpolation of `grid`, whose rows are those
// of the grid from `gridTop` on, sampled at every step-th pixel of the slice (grid (i, j) is slice
// pixel (step i, step j)); past the last grid point the last one holds. A pixel's value depends
// only on the grid values, not on the band it is computed in.
cv::Mat interpolateGrid(const cv::Mat& grid, int gridTop, int gridRowsTotal, cv::Range rows, int cols, int step,
                        PlanePool* pool) {
  cv::Mat out = PlanePool::take(pool, cv::Size(cols, rows.size()));
  const int gridCols = grid.cols;
  std::vector<float> between(gridCols);  // the grid row interpolated to the pixel's row
  for (int y = rows.start; y < rows.end; ++y) {
    const int g0 = y / step, g1 = std::min(g0 + 1, gridRowsTotal - 1);
    const float wy = static_cast<float>(y % step) / step;
    const float* a = grid.ptr<float>(g0 - gridTop);
    const float* b = grid.ptr<float>(g1 - gridTop);
    for (int i = 0; i < gridCols; ++i) between[i] = a[i] + wy * (b[i] - a[i]);
    // Separable: along the row between grid columns i and i + 1, step pixels at a time.
    float* o = out.ptr<float>(y - rows.start);
    for (int i = 0, x = 0; i < gridCols && x < cols; ++i) {
      const float left = between[i], slope = (i + 1 < gridCols ? between[i + 1] : left) - left;
      for (int k = 0; k < step && x < cols; ++k, ++x) o[x] = left + (static_cast<float>(k) / step) * slope;
    }
  }
  return out;
}

}  // namespace

void appendAutoContextFeatures(std::vector<cv::Mat>& planes, const std::vector<cv::Mat>& probabilities,
                               cv::Range rows, const FeatureSpec& spec, int sliceCols, PlanePool* pool) {
  if (spec.autoContextScales.empty()) return;
  const int step = spec.autoContextStep;
  const int rowsTotal = probabilities.empty() ? 0 : probabilities[0].rows;  // grid rows
  const int halo = step == 1 ? autoContextHalo(spec) : autoContextHalo(spec) / step - 2;
  // The grid rows the band's pixels interpolate from, and the blur's halo around them.
  const int firstRow = rows.start / step, lastRow = step == 1 ? rows.end : std::min(rowsTotal, (rows.end - 1) / step + 2);
  const int top = std::max(0, firstRow - halo), bottom = std::min(rowsTotal, lastRow + halo);
  // Per phase the probability, then its blur at each scale; the blurs are independent tasks.
  const std::size_t scales = spec.autoContextScales.size(), first = planes.size();
  planes.resize(first + probabilities.size() * (1 + scales));
  tbb::parallel_for(std::size_t{0}, probabilities.size() * (1 + scales), [&](std::size_t task) {
    const cv::Mat& p = probabilities[task / (1 + scales)];
    const std::size_t k = task % (1 + scales);
    if (step == 1 && k == 0) {
      planes[first + task] = p.rowRange(rows);
      return;
    }
    // A copy with halo, so the blur reflects at the halo's edge, far from the band, as the bank's
    // filters do: with the halo at least the kernel's radius, band features equal whole-slice ones.
    cv::Mat withHalo = PlanePool::take(pool, cv::Size(p.cols, bottom - top), p.type());
    p.rowRange(top, bottom).copyTo(withHalo);
    const cv::Mat smoothed = k == 0 ? withHalo : gaussian(withHalo, spec.autoContextScales[k - 1] / step, pool);
    planes[first + task] = step == 1 ? smoothed.rowRange(rows.start - top, rows.end - top)
                                     : interpolateGrid(smoothed, top, rowsTotal, rows, sliceCols, step, pool);
  });
}

}  // namespace detail
}  // namespace fibseg::learn
