// Issue 25: do the classifier's registry defaults hold on data no one tuned them for? Trains on
// strokes of two images and scores the others, for several image families, with the registry's
// learn defaults plus any `--set learn.key=value` given, and prints one line per set:
//   lco      lco-fibsem BSE, the strokes of tests/cli/lco_segmentation_test.cpp (2D), CAM IoU of 25
//   phantom  the fibseg phantom (3 phases, per-slice gain drift), tests/learn's strokes, seeds 7, 1, 2
//   blobs    a second family made here: 2, 4 or 5 phases of disks and bands with their own grey and
//            texture on a textured background, 8- and 16-bit, with and without a per-image gain
//   rare     blobs with one phase holding 1 % of the strokes
//   lco-stack-3d  (only when asked) an experiment: 3D auto-context against today's on lco-stack
// Usage: learn_defaults_check [--only lco|lco-stack|lco-stack-3d|electrode|phantom|phantom-stack|blobs|proportions|rare] [--set learn.key=value]...
// Environment: SHOW_PRESET=1 prints auto's table; ORACLE=1 scores every candidate against the
// truth; DUMP_DIR=D writes each scored image's labels, truth and grey to D (label_N.png, ...).
// Figures: bench/README.md, "Learn, defaults".
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "fibseg/align/align.hpp"
#include "fibseg/config/param_set.hpp"
#include "fibseg/learn/learn.hpp"
#include "fibseg/phantom/phantom.hpp"

namespace fs = std::filesystem;
using namespace fibseg;

namespace {

// Short 1 px strokes inside each phase's mask eroded by `inset` px, until about `fraction` of
// the image is painted; phase p gets share[p] of it. Code p + 1.
cv::Mat strokes(const cv::Mat& truth, int phases, double fraction, const std::vector<double>& share, int inset,
                unsigned seed, int length = 12) {
  cv::Mat annotation = cv::Mat::zeros(truth.size(), CV_8U);
  std::mt19937 rng(seed);
  for (int p = 0; p < phases; ++p) {
    cv::Mat inside = truth == p;
    if (inset > 0)
      cv::erode(inside, inside, cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * inset + 1, 2 * inset + 1}));
    std::vector<cv::Point> candidates;
    cv::findNonZero(inside, candidates);
    if (candidates.empty()) continue;
    std::uniform_int_distribution<std::size_t> pick(0, candidates.size() - 1);
    std::uniform_real_distribution<double> angle(0, CV_PI);
    const long long want = std::max<long long>(1, static_cast<long long>(fraction * truth.total() * share[p]));
    long long painted = 0;
    for (int attempt = 0; painted < want && attempt < 20000; ++attempt) {
      const cv::Point a = candidates[pick(rng)];
      const double t = angle(rng);
      const int len = static_cast<int>(std::min<long long>(length, want - painted + 1));
      cv::Mat line = cv::Mat::zeros(truth.size(), CV_8U);
      cv::line(line, a, a + cv::Point(int(len * std::cos(t)), int(len * std::sin(t))), 255, 1);
      line &= inside & (annotation == 0);
      annotation.setTo(p + 1, line);
      painted += cv::countNonZero(line);
    }
  }
  return annotation;
}

std::vector<double> ious(const std::vector<cv::Mat>& labels, const std::vector<cv::Mat>& truths, int phases) {
  std::vector<double> both(phases, 0), either(phases, 0);
  for (std::size_t i = 0; i < labels.size(); ++i)
    for (int p = 0; p < phases; ++p) {
      const cv::Mat a = labels[i] == p, b = truths[i] == p;
      both[p] += cv::countNonZero(a & b);
      either[p] += cv::countNonZero(a | b);
    }
  std::vector<double> out(phases);
  for (int p = 0; p < phases; ++p) out[p] = either[p] > 0 ? both[p] / either[p] : 1.0;
  return out;
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / v.size();
}

struct Image {
  cv::Mat grey, truth;
  std::vector<cv::Mat> neighbours;  // z-1, z+1 in this image's frame, when not the images beside it
  std::vector<cv::Mat> farNeighbours = {};  // z-2, z+2 in this frame (lco stack only: lco-stack-3d)
};

learn::TrainingContext contextOf(int phases) {
  learn::TrainingContext c;
  for (int p = 0; p < phases; ++p) {
    c.phaseNames.push_back("phase " + std::to_string(p));
    c.phaseValues.push_back(static_cast<std::uint8_t>(p));
  }
  c.denoise = "none";
  return c;
}

// Trains on images `trained` (their annotations given) and returns per-phase IoU on the others.
std::vector<double> medians(const cv::Mat& grey, const cv::Mat& codes, int phases, int offset) {
  std::vector<std::vector<float>> v(phases);
  for (int y = 0; y < grey.rows; ++y)
    for (int x = 0; x < grey.cols; ++x) {
      const int c = codes.at<std::uint8_t>(y, x) - offset;
      if (c >= 0 && c < phases) v[c].push_back(grey.type() == CV_8U ? grey.at<std::uint8_t>(y, x) : grey.at<std::uint16_t>(y, x));
    }
  std::vector<double> m(phases, -1);
  for (int p = 0; p < phases; ++p)
    if (v[p].size() > 20) {
      std::nth_element(v[p].begin(), v[p].begin() + v[p].size() / 2, v[p].end());
      m[p] = v[p][v[p].size() / 2];
    }
  return m;
}
// Gain and offset taking `from` medians to `to` (least squares over phases present in both).
cv::Mat mapped(const cv::Mat& grey, const std::vector<double>& from, const std::vector<double>& to) {
  double sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0;
  for (std::size_t p = 0; p < from.size(); ++p)
    if (from[p] >= 0 && to[p] >= 0) sx += from[p], sy += to[p], sxx += from[p] * from[p], sxy += from[p] * to[p], ++n;
  double a = 1, b = 0;
  if (n >= 2 && n * sxx - sx * sx > 1e-9) a = (n * sxy - sx * sy) / (n * sxx - sx * sx), b = (sy - a * sx) / n;
  else if (n >= 1) b = (sy - sx) / n;
  cv::Mat out;
  grey.convertTo(out, grey.type(), a, b);
  return out;
}

// The aligned neighbours of image i when the images are a stack's slices (none otherwise).
std::vector<cv::Mat> neighboursOf(const std::vector<Image>& images, std::size_t i, bool stack) {
  std::vector<cv::Mat> out;
  if (!stack) return out;
  if (!images[i].neighbours.empty()) return images[i].neighbours;
  if (i > 0) out.push_back(images[i - 1].grey);
  if (i + 1 < images.size()) out.push_back(images[i + 1].grey);
  return out;
}

// ORACLE=1: every auto candidate trained by hand on all the strokes and scored against the truth
// of the other images, as predicted and with the boundaries refined (auto's 2 px, sigma 1): what
// the cross-validation should have chosen. One line per candidate: mIoU, refined mIoU.
void oracle(const std::vector<Image>& images, const std::vector<std::size_t>& trained,
            const std::vector<learn::AnnotatedSlice>& examples, int phases, const learn::LearnParams& lp, bool stack) {
  const auto presets = learn::autoPresets(lp, stack);
  const std::vector<learn::BoundaryRefinement> refinements{{0, 1.0}, learn::kAutoRefinement, {3, 1.5}};
  const char* only = std::getenv("ORACLE_ONLY");  // candidates whose name holds this (e.g. "per-slice")
  for (const auto& p : presets) {
    if (only && p.name.find(only) == std::string::npos) continue;
    const auto model = learn::Classifier::train(examples, p.features, p.training, contextOf(phases));
    std::vector<std::vector<cv::Mat>> labels(refinements.size());
    const std::vector<learn::BoundaryRefinement> halfContrast{{1, 1.0, learn::RefineMethod::HalfContrast},
                                                              {2, 1.0, learn::RefineMethod::HalfContrast},
                                                              {3, 1.0, learn::RefineMethod::HalfContrast}};
    std::vector<std::vector<cv::Mat>> halfLabels(halfContrast.size());
    std::vector<cv::Mat> truths;
    for (std::size_t i = 0; i < images.size(); ++i) {
      if (std::find(trained.begin(), trained.end(), i) != trained.end()) continue;
      const cv::Mat l = model.predict(images[i].grey, model.needsNeighbours() ? neighboursOf(images, i, true)
                                                                              : std::vector<cv::Mat>{}).labels;
      for (std::size_t r = 0; r < refinements.size(); ++r)
        labels[r].push_back(learn::refineBoundaries(l, images[i].grey, refinements[r], phases));
      for (std::size_t h = 0; h < halfContrast.size(); ++h)
        halfLabels[h].push_back(learn::refineBoundaries(l, images[i].grey, halfContrast[h], phases));
      truths.push_back(images[i].truth);
    }
    std::printf("  oracle %-52s", p.name.c_str());
    for (std::size_t r = 0; r < refinements.size(); ++r) std::printf(" %.4f", mean(ious(labels[r], truths, phases)));
    std::printf("  (as predicted / refined 2 px s1 / 3 px s1.5)");
    for (const auto& h : halfLabels) std::printf(" %.4f", mean(ious(h, truths, phases)));
    std::printf(" (half contrast 1 / 2 / 3 px)\n");
    std::fflush(stdout);
  }
}

std::vector<double> trainAndScore(const std::vector<Image>& images, const std::vector<std::size_t>& trained,
                                  const std::vector<cv::Mat>& annotations, int phases, const learn::LearnParams& lp,
                                  bool stack = false) {
  const bool phaseMap = std::getenv("PHASEMAP") != nullptr;
  std::vector<learn::AnnotatedSlice> examples;
  std::vector<double> reference(phases, 0);
  for (std::size_t k = 0; k < trained.size(); ++k) {
    const auto m = medians(images[trained[k]].grey, annotations[k], phases, 1);
    for (int p = 0; p < phases; ++p) reference[p] += m[p] / trained.size();
  }
  for (std::size_t k = 0; k < trained.size(); ++k) {
    cv::Mat g = images[trained[k]].grey;
    if (phaseMap) g = mapped(g, medians(g, annotations[k], phases, 1), reference);
    examples.push_back({g, annotations[k], "image " + std::to_string(trained[k]), neighboursOf(images, trained[k], stack)});
  }
  const auto model = learn::trainModel(examples, lp, contextOf(phases));
  if (std::getenv("SHOW_PRESET")) std::printf("%s", model.presetChoiceText().c_str());
  if (std::getenv("ORACLE")) oracle(images, trained, examples, phases, lp, stack);
  std::vector<cv::Mat> labels, truths;
  for (std::size_t i = 0; i < images.size(); ++i) {
    if (std::find(trained.begin(), trained.end(), i) != trained.end()) continue;
    cv::Mat g = images[i].grey;
    for (int it = 0; phaseMap && it < 2; ++it)
      g = mapped(g, medians(g, model.predict(g).labels, phases, 0), reference);
    cv::Mat l = model.predict(g, model.needsNeighbours() ? neighboursOf(images, i, true) : std::vector<cv::Mat>{}).labels;
    // learn.refine_band when set, else what auto chose (as fibseg run and predict apply it).
    const auto refine = learn::refinementFor(lp, model);
    if (refine.bandPx > 0) l = learn::refineBoundaries(l, images[i].grey, refine, phases);
    if (std::getenv("PER_IMAGE")) {
      const auto one = ious({l}, {images[i].truth}, phases);
      std::printf("  image %zu: mean grey %.1f, IoU", i, cv::mean(images[i].grey)[0]);
      for (double v : one) std::printf(" %.3f", v);
      std::printf("\n");
    }
    if (const char* dump = std::getenv("DUMP_DIR")) {
      cv::imwrite(std::string(dump) + "/label_" + std::to_string(i) + ".png", l);
      cv::imwrite(std::string(dump) + "/truth_" + std::to_string(i) + ".png", images[i].truth);
      cv::imwrite(std::string(dump) + "/grey_" + std::to_string(i) + ".png", images[i].grey);
    }
    labels.push_back(l);
    truths.push_back(images[i].truth);
  }
  return ious(labels, truths, phases);
}

void print(const std::string& name, const std::vector<double>& iou) {
  std::printf("%-44s mIoU %.4f  per phase", name.c_str(), mean(iou));
  for (double v : iou) std::printf(" %.3f", v);
  std::printf("\n");
  std::fflush(stdout);
}

void lco(const learn::LearnParams& lp) {
  const fs::path root = fs::path(FIBSEG_REAL_DATA_ROOT) / "lco-fibsem";
  if (!fs::exists(root / "masks")) {
    std::printf("lco: no data at %s, skipped\n", root.c_str());
    return;
  }
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(root / "masks")) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  std::vector<Image> images;
  for (const auto& n : names)
    images.push_back({cv::imread((root / "bse" / n).string(), cv::IMREAD_GRAYSCALE),
                      (cv::imread((root / "masks" / n).string(), cv::IMREAD_GRAYSCALE) == 1) / 255});
  // The test's strokes: 12 px lines inside each phase eroded by 4 px, 1.5 % of the slice, half each.
  std::vector<cv::Mat> annotations;
  for (std::size_t i : {4u, 17u}) annotations.push_back(strokes(images[i].truth, 2, 0.015, {0.5, 0.5}, 4, 11 + i));
  print("lco 2D (CAM = phase 1)", trainAndScore(images, {4, 17}, annotations, 2, lp));
}

// lco-fibsem as a stack: the 27 masked slices, each with its neighbours of the 30-slice series
// (z +- 1; z +- 2 for lco-stack-3d; empty where the series ends) registered with the registry
// defaults and moved into its raw frame (as the test's StackScoring does); the test's strokes on
// slices 4 and 17 in `annotations`. None without the data (said).
std::vector<Image> lcoStackImages(std::vector<cv::Mat>& annotations) {
  const fs::path root = fs::path(FIBSEG_REAL_DATA_ROOT) / "lco-fibsem";
  if (!fs::exists(root / "masks")) {
    std::printf("lco: no data at %s, skipped\n", root.c_str());
    return {};
  }
  std::vector<std::string> masked, all;
  for (const auto& e : fs::directory_iterator(root / "masks")) masked.push_back(e.path().filename().string());
  for (const auto& e : fs::directory_iterator(root / "bse")) all.push_back(e.path().filename().string());
  std::sort(masked.begin(), masked.end());
  std::sort(all.begin(), all.end());
  std::vector<cv::Mat> raw;
  for (const auto& n : all) raw.push_back(cv::imread((root / "bse" / n).string(), cv::IMREAD_GRAYSCALE));
  const auto shifts =
      align::shiftsOf(align::registerSlices(raw, config::alignParamsFrom(config::ParamSet::defaults()).registration));
  auto intoFrameOf = [&](std::size_t from, std::size_t to) {
    if (from >= raw.size()) return cv::Mat();
    const cv::Rect frame(0, 0, raw[to].cols, raw[to].rows);
    cv::Mat moved = align::applyShift(raw[from], shifts[from] - shifts[to], frame);
    const cv::Mat reached =
        align::applyShift(cv::Mat(raw[from].size(), CV_8U, cv::Scalar(255)), shifts[from] - shifts[to], frame);
    raw[to].copyTo(moved, reached < 255);
    return moved;
  };
  std::vector<Image> images;
  for (const auto& n : masked) {
    const std::size_t z = std::find(all.begin(), all.end(), n) - all.begin();
    Image im{raw[z], (cv::imread((root / "masks" / n).string(), cv::IMREAD_GRAYSCALE) == 1) / 255, {}};
    for (std::size_t m : {z - 1, z + 1}) im.neighbours.push_back(intoFrameOf(m, z));
    for (std::size_t m : {z - 2, z + 2}) im.farNeighbours.push_back(intoFrameOf(m, z));
    images.push_back(im);
  }
  for (std::size_t i : {4u, 17u}) annotations.push_back(strokes(images[i].truth, 2, 0.015, {0.5, 0.5}, 4, 11 + i));
  return images;
}

// lco-stack as auto trains it; auto may add z context.
void lcoStack(const learn::LearnParams& lp) {
  std::vector<cv::Mat> annotations;
  const auto images = lcoStackImages(annotations);
  if (images.empty()) return;
  print("lco stack (CAM = phase 1)", trainAndScore(images, {4, 17}, annotations, 2, lp, true));
}

// lco-stack-3d (bench/README.md, Learn defaults, section 13): would a second stage that also sees
// the neighbours' first-stage probabilities (3D auto-context) beat today's, which sees its own
// slice's only? Both second stages, trained here with XGBoost directly (the registry's rounds,
// depth, rate), see the bank with the neighbours' changes and the first stage's probabilities,
// raw and smoothed at 1, 2, 4, 8 px; the 3D one also each neighbour's P(CAM), raw, smoothed at 2
// and 4 px, and its change from the slice's. The first stage is one-stage per-slice grey, without
// or with z changes (a neighbour's first stage then needs z +- 2). Cross-fitted: the rows of
// slice 4's strokes get first-stage probabilities from a first stage trained on slice 17's
// strokes, and the other way round; the 25 scored slices from one trained on both. Labels refined
// as auto refined them on lco (half contrast, 1 px). One line per (first stage, second stage).
std::vector<cv::Mat> secondStagePlanes(const Image& im, const learn::FeatureSpec& bank,
                                       const learn::Classifier& first, bool firstHasZ, bool threeD) {
  auto orSelf = [&](const cv::Mat& m, const cv::Mat& self) { return m.empty() ? self : m; };
  const std::vector<cv::Mat> near{orSelf(im.neighbours[0], im.grey), orSelf(im.neighbours[1], im.grey)};
  auto probabilities = [&](const cv::Mat& slice, const std::vector<cv::Mat>& around) {
    return first.predict(slice, firstHasZ ? around : std::vector<cv::Mat>{}, true).probabilities;
  };
  auto planes = learn::computeFeatures(im.grey, near, bank);
  const auto own = probabilities(im.grey, near);
  auto addSmoothed = [&](const cv::Mat& p, std::initializer_list<double> sigmas) {
    planes.push_back(p);
    for (double sigma : sigmas) {
      cv::Mat smoothed;
      cv::GaussianBlur(p, smoothed, {0, 0}, sigma);
      planes.push_back(smoothed);
    }
  };
  for (const auto& p : own) addSmoothed(p, {1, 2, 4, 8});
  if (threeD)
    for (int k = 0; k < 2; ++k) {
      const cv::Mat camThere = probabilities(near[k], {orSelf(im.farNeighbours[k], near[k]), im.grey})[1];
      addSmoothed(camThere, {2, 4});
      planes.push_back(camThere - own[1]);
    }
  return planes;
}

void lcoStack3d(const learn::LearnParams& lp) {
  std::vector<cv::Mat> annotations;
  const auto images = lcoStackImages(annotations);
  if (images.empty()) return;
  const std::vector<std::size_t> trained{4, 17};
  auto check = [](int status) {
    if (status != 0) throw std::runtime_error(std::string("xgboost: ") + XGBGetLastError());
  };
  for (bool firstHasZ : {false, true}) {
    learn::FeatureSpec bank = lp.features;
    bank.normalisation = "percentile";
    bank.autoContextScales = {};
    bank.zContext = "changes";
    learn::FeatureSpec firstSpec = bank;
    if (!firstHasZ) firstSpec.zContext = "none";
    auto firstOn = [&](const std::vector<std::size_t>& which) {
      std::vector<learn::AnnotatedSlice> examples;
      for (std::size_t k : which)
        examples.push_back({images[trained[k]].grey, annotations[k], "image", images[trained[k]].neighbours});
      return learn::Classifier::train(examples, firstSpec, lp.training, contextOf(2));
    };
    const learn::Classifier firstOn4 = firstOn({0}), firstOn17 = firstOn({1}), firstOnBoth = firstOn({0, 1});
    for (bool threeD : {false, true}) {
      std::vector<float> rows, labels;
      int features = 0;
      for (std::size_t k = 0; k < trained.size(); ++k) {
        const auto planes = secondStagePlanes(images[trained[k]], bank, k == 0 ? firstOn17 : firstOn4, firstHasZ, threeD);
        features = static_cast<int>(planes.size());
        for (int y = 0; y < annotations[k].rows; ++y)
          for (int x = 0; x < annotations[k].cols; ++x)
            if (const int code = annotations[k].at<std::uint8_t>(y, x)) {
              for (const auto& p : planes) rows.push_back(p.at<float>(y, x));
              labels.push_back(static_cast<float>(code - 1));
            }
      }
      DMatrixHandle train;
      check(XGDMatrixCreateFromMat(rows.data(), labels.size(), features, NAN, &train));
      check(XGDMatrixSetFloatInfo(train, "label", labels.data(), labels.size()));
      BoosterHandle booster;
      check(XGBoosterCreate(&train, 1, &booster));
      for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
               {"objective", "multi:softprob"}, {"num_class", "2"}, {"max_depth", std::to_string(lp.training.maxDepth)},
               {"eta", std::to_string(lp.training.learningRate)}, {"tree_method", "hist"}, {"seed", "1"}})
        check(XGBoosterSetParam(booster, key.c_str(), value.c_str()));
      for (int round = 0; round < lp.training.rounds; ++round) check(XGBoosterUpdateOneIter(booster, round, train));
      std::vector<cv::Mat> predicted, truths;
      for (std::size_t i = 0; i < images.size(); ++i) {
        if (std::find(trained.begin(), trained.end(), i) != trained.end()) continue;
        const auto planes = secondStagePlanes(images[i], bank, firstOnBoth, firstHasZ, threeD);
        const int pixels = static_cast<int>(images[i].grey.total());
        std::vector<float> table(static_cast<std::size_t>(pixels) * features);
        for (int f = 0; f < features; ++f)
          for (int j = 0; j < pixels; ++j) table[static_cast<std::size_t>(j) * features + f] = planes[f].ptr<float>()[j];
        DMatrixHandle all;
        check(XGDMatrixCreateFromMat(table.data(), pixels, features, NAN, &all));
        bst_ulong length;
        const float* out;
        check(XGBoosterPredict(booster, all, 0, 0, 0, &length, &out));
        cv::Mat label(images[i].grey.size(), CV_8U);
        for (int j = 0; j < pixels; ++j) label.data[j] = out[2 * j + 1] > out[2 * j] ? 1 : 0;
        check(XGDMatrixFree(all));
        predicted.push_back(learn::refineBoundaries(label, images[i].grey, learn::kAutoHalfContrast, 2));
        truths.push_back(images[i].truth);
      }
      check(XGBoosterFree(booster));
      check(XGDMatrixFree(train));
      double camMean = 0;
      for (std::size_t i = 0; i < predicted.size(); ++i) camMean += ious({predicted[i]}, {truths[i]}, 2)[1] / predicted.size();
      char name[120];
      std::snprintf(name, sizeof name, "lco stack, first stage %s, %s auto-context (%d features)",
                    firstHasZ ? "with z changes" : "2D", threeD ? "3D" : "2D", features);
      print(name, ious(predicted, truths, 2));
      std::printf("  CAM IoU, mean of the %zu slices: %.4f\n", predicted.size(), camMean);
    }
  }
}

// A second stack family with real 3D geometry: TauFactor's segmented electrode (256^3, 3
// phases, isotropic voxels as in FIB-SEM), rendered as BSE-like slices: a grey per phase (not in
// label order), blur 1.2 px, shot noise, vertical curtaining stripes that change slowly with z,
// a brightness drift over the stack plus per-slice gain jitter (as an equalised-but-imperfect
// stack), 8- or 16-bit. 14 slices from z = 100, strokes `inset` px inside the phases on slices 3
// and 10 (with their neighbours), scored on the other 12. (Inset 2 px leaves the binder, 1-2 px
// wide, almost no strokes.)
void electrodeStack(const learn::LearnParams& lp, int bitDepth, int inset, unsigned seed) {
  const fs::path file = fs::path(FIBSEG_REAL_DATA_ROOT) / "taufactor-electrode" / "electrode.tiff";
  std::vector<cv::Mat> volume;
  if (!fs::exists(file) || !cv::imreadmulti(file.string(), volume, cv::IMREAD_UNCHANGED)) {
    std::printf("electrode: no data at %s, skipped\n", file.c_str());
    return;
  }
  std::mt19937 rng(seed);
  std::normal_distribution<double> gauss(0, 1);
  const int first = 100 + static_cast<int>(seed % 7) * 10, count = 14;
  const double greyOf[3] = {45, 165, 110};  // label 0 pore (dark), 85 active (bright), 170 binder (mid)
  const cv::Size size = volume[0].size();
  cv::Mat curtain(1, size.width, CV_32F), curtainStep(1, size.width, CV_32F);
  cv::randn(curtain, 0, 6);
  std::vector<Image> images;
  for (int z = first; z < first + count; ++z) {
    cv::Mat truth(size, CV_8U), image(size, CV_32F);
    for (int y = 0; y < size.height; ++y)
      for (int x = 0; x < size.width; ++x) {
        const int phase = volume[z].at<std::uint8_t>(y, x) / 85;
        truth.at<std::uint8_t>(y, x) = static_cast<std::uint8_t>(phase);
        image.at<float>(y, x) = static_cast<float>(greyOf[phase]);
      }
    cv::randn(curtainStep, 0, 1.5);
    curtain += curtainStep;
    cv::GaussianBlur(image, image, {0, 0}, 1.2);
    for (int y = 0; y < size.height; ++y) image.row(y) += curtain;
    cv::Mat shot(size, CV_32F);
    cv::randn(shot, 0, 10);
    image += shot;
    const double gain = (1 - 0.08 * (z - first) / count) * (1 + 0.03 * gauss(rng));
    image = image * gain + 3 * gauss(rng);
    cv::Mat grey;
    if (bitDepth == 8) image.convertTo(grey, CV_8U);
    else image.convertTo(grey, CV_16U, 40.0, 2000.0);
    images.push_back({grey, truth, {}});
  }
  std::vector<cv::Mat> annotations;
  for (int z : {3, 10})
    annotations.push_back(strokes(images[z].truth, 3, 0.01, {1 / 3., 1 / 3., 1 / 3.}, inset, 400 + z + seed, 10));
  char name[96];
  std::snprintf(name, sizeof name, "electrode stack %d-bit, strokes %d px in, seed %u", bitDepth, inset, seed);
  print(name, trainAndScore(images, {3, 10}, annotations, 3, lp, true));
}

// The phantom as a stack: strokes on slices 1 and 4 (their neighbours given, as `fibseg train
// --stack` gives them, so auto may choose z context), painted up to the phase edges or `inset`
// px clear of them (as the lco-fibsem strokes are); the other 4 slices predicted with theirs.
void phantomStackSet(const learn::LearnParams& lp, int inset) {
  for (unsigned seed : {7u, 1u, 2u}) {
    phantom::PhantomParams p;
    p.width = 256, p.height = 224, p.slices = 6, p.seed = seed, p.randomWalk = 0, p.steadyDriftX = 0,
    p.steadyDriftY = 0;
    p.gainJitter = 0, p.offsetJitter = 0, p.brightnessTrend = 0;  // an equalised stack, as in fibseg run
    const phantom::Phantom ph(p);
    std::vector<Image> images;
    for (int z = 0; z < p.slices; ++z)
      images.push_back({ph.rawSlice(z).rowRange(0, ph.contentHeight()).clone(), ph.truthLabels(z)});
    std::vector<cv::Mat> annotations;
    for (int z : {1, 4})
      annotations.push_back(strokes(images[z].truth, 3, 0.01, {1 / 3., 1 / 3., 1 / 3.}, inset, 100 + z, 10));
    print("phantom stack seed " + std::to_string(seed) + ", strokes " + std::to_string(inset) + " px in",
          trainAndScore(images, {1, 4}, annotations, 3, lp, true));
  }
}

void phantomSet(const learn::LearnParams& lp, bool equalised) {
  for (unsigned seed : {7u, 1u, 2u}) {
    phantom::PhantomParams p;
    p.width = 256, p.height = 224, p.slices = 6, p.seed = seed, p.randomWalk = 0, p.steadyDriftX = 0,
    p.steadyDriftY = 0;
    if (equalised) p.gainJitter = 0, p.offsetJitter = 0, p.brightnessTrend = 0;
    const phantom::Phantom ph(p);
    std::vector<Image> images;
    for (int z = 0; z < p.slices; ++z)
      images.push_back({ph.rawSlice(z).rowRange(0, ph.contentHeight()).clone(), ph.truthLabels(z)});
    std::vector<cv::Mat> annotations;
    for (int z : {1, 4}) annotations.push_back(strokes(images[z].truth, 3, 0.01, {1 / 3., 1 / 3., 1 / 3.}, 0, 100 + z, 10));
    print(std::string("phantom seed ") + std::to_string(seed) + (equalised ? " (no gain drift)" : " (gain drift)"),
          trainAndScore(images, {1, 4}, annotations, 3, lp));
  }
}

// The second family: `phases` phases. Phase 0 is the background (smooth grey + fine noise); the
// others are disks of their own radius range and bands, each with its own mean grey and texture
// (noise, stripes or speckle); two of them may share a mean grey and differ only in texture.
// `gain`: the images' gains spread by this much around 1 (per image), as an uncorrected detector.
// `proportions`: each image's count of bodies of each phase is scaled by 4^u, u uniform in -1..1
// (phase fractions that differ from image to image, as the CT set of issue 25 has).
std::vector<Image> blobImages(int phases, int bitDepth, double gain, unsigned seed, int count = 6,
                              bool proportions = false) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  const cv::Size size(320, 256);
  std::vector<double> greys(phases), textures(phases);
  for (int p = 0; p < phases; ++p) greys[p] = 60 + 130.0 * p / std::max(1, phases - 1);
  if (phases >= 4) greys[3] = greys[1];  // same mean as phase 1: only texture tells them apart
  for (int p = 0; p < phases; ++p) textures[p] = p % 3;
  std::vector<Image> out;
  for (int i = 0; i < count; ++i) {
    cv::Mat truth(size, CV_8U, cv::Scalar(0));
    for (int p = 1; p < phases; ++p) {
      const double rMin = 3 + 3 * p, rMax = 8 + 6 * p;
      const double scale = proportions ? std::pow(4.0, 2 * u(rng) - 1) : 1.0;
      const int n = static_cast<int>(1600.0 / (rMax * rMax) * 8 * scale);
      for (int k = 0; k < n; ++k) {
        const double v = u(rng), w = u(rng);  // y first: GCC's order when both were arguments
        const cv::Point c(int(w * size.width), int(v * size.height));
        if (p == phases - 1 && phases >= 3 && k % 4 == 0)  // some elongated bodies
          cv::ellipse(truth, c, cv::Size(int(rMax * 1.5), int(rMin * 0.6) + 1), u(rng) * 180, 0, 360, p, -1);
        else
          cv::circle(truth, c, int(rMin + u(rng) * (rMax - rMin)), p, -1);
      }
    }
    cv::Mat noise(size, CV_32F), image(size, CV_32F);
    cv::randn(noise, 0, 1);
    cv::Mat fine;
    cv::GaussianBlur(noise, fine, {0, 0}, 0.8);
    fine *= 1.0 / 0.35;
    for (int y = 0; y < size.height; ++y)
      for (int x = 0; x < size.width; ++x) {
        const int p = truth.at<std::uint8_t>(y, x);
        double v = greys[p];
        if (textures[p] == 1) v += 14 * std::sin(2 * CV_PI * (x + y) / 6.0);
        if (textures[p] == 2) v += 14 * fine.at<float>(y, x);
        image.at<float>(y, x) = static_cast<float>(v);
      }
    cv::GaussianBlur(image, image, {0, 0}, 1.0);
    cv::Mat shot(size, CV_32F);
    cv::randn(shot, 0, 9);
    image += shot;
    const double g = 1 + gain * (2 * u(rng) - 1);
    image = image * g;
    cv::Mat grey;
    if (bitDepth == 8) image.convertTo(grey, CV_8U);
    else image.convertTo(grey, CV_16U, 40.0, 2000.0);  // a 16-bit detector using 2000..12000
    out.push_back({grey, truth});
  }
  return out;
}

void blobs(const learn::LearnParams& lp) {
  for (int phases : {2, 4, 5})
    for (int depth : {8, 16})
      for (double gain : {0.0, 0.15}) {
        const auto images = blobImages(phases, depth, gain, 1000 + phases * 10 + depth);
        std::vector<cv::Mat> annotations;
        for (std::size_t i : {0u, 3u})
          annotations.push_back(strokes(images[i].truth, phases, 0.01, std::vector<double>(phases, 1.0 / phases), 1,
                                        200 + i));
        char name[80];
        std::snprintf(name, sizeof name, "blobs %d phases %d-bit gain +-%.0f%%", phases, depth, 100 * gain);
        print(name, trainAndScore(images, {0, 3}, annotations, phases, lp));
      }
}

// Blobs whose phase fractions differ from image to image (each phase's body count x 4^(-1..1)),
// same grey per phase in every image: a per-slice grey mapping follows the proportions here.
void proportionsSet(const learn::LearnParams& lp) {
  for (int phases : {3, 4})
    for (int depth : {8, 16}) {
      const auto images = blobImages(phases, depth, 0.0, 5000 + phases * 10 + depth, 6, true);
      std::vector<cv::Mat> annotations;
      for (std::size_t i : {0u, 3u})
        annotations.push_back(strokes(images[i].truth, phases, 0.01, std::vector<double>(phases, 1.0 / phases), 1,
                                      600 + i));
      char name[80];
      std::snprintf(name, sizeof name, "blobs, proportions per image, %d phases %d-bit", phases, depth);
      print(name, trainAndScore(images, {0, 3}, annotations, phases, lp));
    }
}

void rare(const learn::LearnParams& lp) {
  for (int phases : {3, 4}) {
    const auto images = blobImages(phases, 8, 0.0, 3000 + phases);
    std::vector<double> share(phases, 0.99 / (phases - 1));
    share[phases - 1] = 0.01;  // the rarest phase: 1 % of the strokes
    std::vector<cv::Mat> annotations;
    for (std::size_t i : {0u, 3u}) annotations.push_back(strokes(images[i].truth, phases, 0.02, share, 1, 300 + i));
    long long rarePx = 0, all = 0;
    for (const auto& a : annotations) rarePx += cv::countNonZero(a == phases), all += cv::countNonZero(a);
    char name[80];
    std::snprintf(name, sizeof name, "rare: %d phases, last %lld of %lld px", phases, rarePx, all);
    print(name, trainAndScore(images, {0, 3}, annotations, phases, lp));
  }
}

}  // namespace

int main(int argc, char** argv) {
  auto params = config::ParamSet::defaults();
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--set" && i + 1 < argc) {
      const std::string kv = argv[++i];
      const auto eq = kv.find('=');
      params.set(kv.substr(0, eq), kv.substr(eq + 1), "command line");
    } else if (a == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else {
      std::cerr << "usage: learn_defaults_check [--only lco|lco-stack|lco-stack-3d|electrode|phantom|phantom-stack|blobs|proportions|rare] [--set learn.key=value]...\n";
      return 2;
    }
  }
  const auto lp = config::learnParamsFrom(params);
  if (only.empty() || only == "lco") lco(lp);
  if (only.empty() || only == "phantom") phantomSet(lp, false), phantomSet(lp, true);
  if (only.empty() || only == "lco-stack") lcoStack(lp);
  if (only == "lco-stack-3d") lcoStack3d(lp);  // an experiment, not a set: only when asked
  if (only.empty() || only == "electrode")
    for (unsigned seed : {1u, 2u})
      for (int depth : {8, 16})
        for (int inset : {0, 1}) electrodeStack(lp, depth, inset, seed);
  if (only.empty() || only == "phantom-stack") phantomStackSet(lp, 0), phantomStackSet(lp, 2);
  if (only.empty() || only == "blobs") blobs(lp);
  if (only.empty() || only == "proportions") proportionsSet(lp);
  if (only.empty() || only == "rare") rare(lp);
  return 0;
}
