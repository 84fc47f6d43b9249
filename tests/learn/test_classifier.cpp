// The trained classifier against the phantom's truth: a user paints ~1% of the pixels of two
// slices as short strokes inside each phase; the model must segment the other slices.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <xgboost/c_api.h>
#include <opencv2/imgproc.hpp>

#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iostream>
#include <random>
#include <unistd.h>

#include "fibseg/core/error.hpp"
#include "fibseg/core/image.hpp"
#include "fibseg/learn/forest.hpp"
#include "fibseg/learn/learn.hpp"
#include "fibseg/measure/score.hpp"
#include "fibseg/phantom/phantom.hpp"

namespace fs = std::filesystem;
using namespace fibseg;
using testing::HasSubstr;

namespace {

learn::TrainingContext threePhases() { return {{"pore", "SE", "CAM"}, {0, 1, 2}, {}, 0, "none"}; }

phantom::PhantomParams driftFreePhantom() {
  phantom::PhantomParams p;
  p.width = 256;
  p.height = 224;
  p.slices = 6;
  p.seed = 7;
  p.randomWalk = 0;
  p.steadyDriftX = 0;
  p.steadyDriftY = 0;
  return p;
}

cv::Mat contentOf(const phantom::Phantom& ph, int z) {
  return ph.rawSlice(z).rowRange(0, ph.contentHeight()).clone();
}

// Strokes as a user draws them: short 1 px lines across a phase, clipped to it (a careful
// annotator paints right up to the visible edge, never across it), until about `fraction` of
// the slice's pixels are labelled, shared equally between the phases. (Keeping every stroke
// 1 px away from the edges instead gives mean IoU 0.90-0.94 on the same phantoms: the model
// then never sees the blurred boundary pixels.)
cv::Mat strokeAnnotation(const cv::Mat& truth, double fraction, unsigned seed) {
  cv::Mat annotation = cv::Mat::zeros(truth.size(), CV_8U);
  std::mt19937 rng(seed);
  const long long perPhase = static_cast<long long>(fraction * truth.total() / kPhaseCount);
  for (int phase = 0; phase < kPhaseCount; ++phase) {
    const cv::Mat inside = truth == phase;
    std::vector<cv::Point> candidates;
    cv::findNonZero(inside, candidates);
    if (candidates.empty()) continue;
    std::uniform_int_distribution<std::size_t> pick(0, candidates.size() - 1);
    std::uniform_real_distribution<double> angle(0, CV_PI);
    long long painted = 0;
    for (int attempt = 0; painted < perPhase && attempt < 10000; ++attempt) {
      const cv::Point start = candidates[pick(rng)];
      const double a = angle(rng);
      const cv::Point end = start + cv::Point(int(10 * std::cos(a)), int(10 * std::sin(a)));
      cv::Mat stroke = cv::Mat::zeros(truth.size(), CV_8U);
      cv::line(stroke, start, end, 255, 1);
      stroke &= inside;
      stroke &= (annotation == 0);
      painted += cv::countNonZero(stroke);
      annotation.setTo(phase + 1, stroke);
    }
  }
  return annotation;
}

learn::FeatureSpec defaultSpec() {
  learn::FeatureSpec spec;
  spec.scales = {0.7, 1.6, 3.5};  // the registry's defaults
  spec.gaborWavelengths = {4};
  spec.gaborOrientations = 4;
  spec.normalisation = "percentile";
  spec.cnnChannels = 0;
  return spec;
}

learn::TrainingParams defaultTraining() {
  learn::TrainingParams t;
  t.rounds = 15;  // the registry's defaults
  t.maxDepth = 4;
  t.learningRate = 0.3;
  t.samplesPerPhase = 50000;
  t.seed = 1;
  return t;
}

}  // namespace

TEST(Classifier, SparseStrokesOnTwoSlicesSegmentTheOthers) {
  const phantom::Phantom ph(driftFreePhantom());
  const std::vector<int> annotated = {1, 4};
  std::vector<learn::AnnotatedSlice> examples;
  long long labelled = 0, pixels = 0;
  for (int z : annotated) {
    const cv::Mat truth = ph.truthLabels(z);
    const cv::Mat annotation = strokeAnnotation(truth, 0.01, 100 + z);
    labelled += cv::countNonZero(annotation);
    pixels += truth.total();
    examples.push_back({contentOf(ph, z), annotation, "phantom slice " + std::to_string(z)});
  }
  EXPECT_LT(double(labelled) / pixels, 0.012);  // it really is sparse
  const auto model = learn::Classifier::train(examples, defaultSpec(), defaultTraining(), threePhases());

  measure::SegmentationScorer scorer;
  for (int z = 0; z < ph.params().slices; ++z) {
    if (std::find(annotated.begin(), annotated.end(), z) != annotated.end()) continue;
    scorer.add(model.predict(contentOf(ph, z)).labels, ph.truthLabels(z));
  }
  const auto score = scorer.result();
  std::cout << measure::formatSegmentationScore(score) << "\n";
  EXPECT_GE(score.meanIou, 0.92);
}

namespace {

// Three phases: a noisy background (0), large disks (1) and small bright disks (2), blurred.
void disksImage(unsigned seed, cv::Mat& grey, cv::Mat& truth) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> at(0, 255);
  truth = cv::Mat::zeros(256, 256, CV_8U);
  // Every draw in its own statement: C++ leaves the order of a call's arguments to the compiler.
  // This order (radius, then x, y) is the one GCC chose, so the images are the ones measured.
  const auto disk = [&](int minRadius, int radii, int phase) {
    const int radius = minRadius + at(rng) % radii, x = at(rng), y = at(rng);
    cv::circle(truth, {x, y}, radius, phase, -1);
  };
  for (int k = 0; k < 14; ++k) disk(14, 10, 1);
  for (int k = 0; k < 25; ++k) disk(7, 4, 2);
  cv::Mat image(truth.size(), CV_32F);
  const float greys[3] = {70, 140, 200};
  for (int y = 0; y < truth.rows; ++y)
    for (int x = 0; x < truth.cols; ++x) image.at<float>(y, x) = greys[truth.at<std::uint8_t>(y, x)];
  cv::GaussianBlur(image, image, {0, 0}, 1.0);
  cv::Mat noise(truth.size(), CV_32F);
  cv::randn(noise, 0, 12);
  image += noise;
  image.convertTo(grey, CV_8U);
}

// `want[p]` px of 10 px strokes inside phase p (eroded by 1 px), p + 1 as annotation code.
cv::Mat strokesOf(const cv::Mat& truth, const std::vector<int>& want, unsigned seed) {
  cv::Mat annotation = cv::Mat::zeros(truth.size(), CV_8U);
  std::mt19937 rng(seed);
  for (int p = 0; p < static_cast<int>(want.size()); ++p) {
    cv::Mat inside;
    cv::erode(truth == p, inside, cv::Mat());
    std::vector<cv::Point> candidates;
    cv::findNonZero(inside, candidates);
    std::uniform_int_distribution<std::size_t> pick(0, candidates.size() - 1);
    std::uniform_real_distribution<double> angle(0, CV_PI);
    for (int painted = 0, attempt = 0; painted < want[p] && attempt < 10000; ++attempt) {
      const cv::Point a = candidates[pick(rng)];
      const double t = angle(rng);
      const int length = std::min(10, want[p] - painted);
      cv::Mat line = cv::Mat::zeros(truth.size(), CV_8U);
      cv::line(line, a, a + cv::Point(int(length * std::cos(t)), int(length * std::sin(t))), 255, 1);
      line &= inside & (annotation == 0);
      annotation.setTo(p + 1, line);
      painted += cv::countNonZero(line);
    }
  }
  return annotation;
}

}  // namespace

// A phase painted with 1 % of the strokes (50 px of 5,000) is still found: the phases are weighted
// equally in training whatever their stroke count (weight = rows / (phases x rows of the phase)).
TEST(Classifier, RarePhaseWithOnePercentOfTheStrokesIsFound) {
  cv::Mat grey, truth, testGrey, testTruth;
  disksImage(5, grey, truth);
  disksImage(6, testGrey, testTruth);
  const cv::Mat annotation = strokesOf(truth, {2475, 2475, 50}, 9);
  
  ASSERT_EQ(cv::countNonZero(annotation == 3), 50);
  ASSERT_GE(cv::countNonZero(annotation), 4950);
  auto spec = defaultSpec();
  spec.normalisation = "training";
  const auto model = learn::Classifier::train({{grey, annotation, "disks"}}, spec, defaultTraining(),
                                              {{"background", "disk", "rare"}, {0, 1, 2}, {}, 0, "none"});
  const cv::Mat labels = model.predict(testGrey).labels;
  const double both = cv::countNonZero((labels == 2) & (testTruth == 2)),
               either = cv::countNonZero((labels == 2) | (testTruth == 2));
  std::cout << "rare phase (" << cv::countNonZero(annotation == 3) << " of " << cv::countNonZero(annotation) << " painted px): IoU " << both / either << "\n";
  EXPECT_GE(both / either, 0.8);
}

namespace {

// A small, quickly trained model on one phantom slice, for the file and error tests.
struct SmallModel {
  phantom::Phantom ph{[] {
    auto p = driftFreePhantom();
    p.width = 96;
    p.height = 96;
    p.slices = 2;
    return p;
  }()};
  std::vector<learn::AnnotatedSlice> examples{
      {contentOf(ph, 0), strokeAnnotation(ph.truthLabels(0), 0.05, 3), "phantom slice 0"}};
  learn::TrainingParams training = [] {
    auto t = defaultTraining();
    t.rounds = 5;
    return t;
  }();
};

fs::path tempDir() {
  const fs::path dir = fs::temp_directory_path() / ("fibseg_learn_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

}  // namespace

TEST(Classifier, SavedModelPredictsTheSameAndKnowsItsFeatures) {
  SmallModel m;
  const auto model = learn::Classifier::train(m.examples, defaultSpec(), m.training, threePhases());
  const fs::path file = tempDir() / "model.json";
  model.save(file);
  const auto loaded = learn::Classifier::load(file, defaultSpec());
  EXPECT_EQ(loaded.featureSpec().scales, defaultSpec().scales);
  const cv::Mat slice = contentOf(m.ph, 1);
  const auto a = model.predict(slice, true);
  const auto b = loaded.predict(slice, true);
  EXPECT_EQ(cv::countNonZero(a.labels != b.labels), 0);
  for (int p = 0; p < kPhaseCount; ++p) EXPECT_LT(cv::norm(a.probabilities[p], b.probabilities[p], cv::NORM_INF), 1e-6);

  // Probabilities: per pixel they sum to 1 and the label is the most probable phase.
  const cv::Mat sum = b.probabilities[0] + b.probabilities[1] + b.probabilities[2];
  EXPECT_LT(cv::norm(sum - 1.0, cv::NORM_INF), 1e-4);
  for (int y = 0; y < slice.rows; y += 7)
    for (int x = 0; x < slice.cols; x += 7) {
      const int label = b.labels.at<std::uint8_t>(y, x);
      for (int p = 0; p < kPhaseCount; ++p)
        EXPECT_GE(b.probabilities[label].at<float>(y, x), b.probabilities[p].at<float>(y, x));
    }

  // A configuration asking for other features is refused, naming the parameter.
  auto other = defaultSpec();
  other.scales = {1, 2};
  try {
    learn::Classifier::load(file, other);
    FAIL() << "expected a feature mismatch error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("learn.scales: model [0.7, 1.6, 3.5], configuration [1, 2]"), std::string::npos) << message;
    EXPECT_NE(message.find(file.string()), std::string::npos) << message;
  }
  fs::remove_all(file.parent_path());
}

TEST(Classifier, SixteenBitSlicesWork) {
  SmallModel m;
  for (auto& e : m.examples) e.slice.convertTo(e.slice, CV_16U, 257);
  const auto model = learn::Classifier::train(m.examples, defaultSpec(), m.training, threePhases());
  cv::Mat slice16;
  contentOf(m.ph, 1).convertTo(slice16, CV_16U, 257);
  measure::SegmentationScorer scorer;
  scorer.add(model.predict(slice16).labels, m.ph.truthLabels(1));
  EXPECT_GT(scorer.result().accuracy, 0.9);
}

TEST(Classifier, RefusesAnnotationsMissingAPhase) {
  SmallModel m;
  m.examples[0].annotation.setTo(0, m.examples[0].annotation == 1);  // erase the pore strokes
  try {
    learn::Classifier::train(m.examples, defaultSpec(), m.training, threePhases());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no pixels of pore;"), std::string::npos) << e.what();
  }
  m.examples[0].annotation = cv::Mat::zeros(10, 10, CV_8U);
  EXPECT_THROW(learn::Classifier::train(m.examples, defaultSpec(), m.training, threePhases()), Error);
}

TEST(Classifier, RefusesFilesThatAreNotModels) {
  const fs::path file = tempDir() / "not_a_model.json";
  std::ofstream(file) << R"({"hello": 1})";
  try {
    learn::Classifier::load(file);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a fibseg pixel classifier"), std::string::npos) << e.what();
  }
  EXPECT_THROW(learn::Classifier::load(file.parent_path() / "missing.json"), Error);
  fs::remove_all(file.parent_path());
}

TEST(Classifier, CnnFeaturesTrainAndTheModelFindsItsCnnBesideIt) {
  SmallModel m;
  auto spec = defaultSpec();
  const fs::path dir = tempDir();
  fs::copy_file(std::string(FIBSEG_TEST_DATA) + "/tiny_cnn.onnx", dir / "tiny_cnn.onnx",
                fs::copy_options::overwrite_existing);
  spec.cnnModel = (dir / "tiny_cnn.onnx").string();
  learn::resolveCnnModel(spec);
  const auto model = learn::Classifier::train(m.examples, spec, m.training, threePhases());
  model.save(dir / "model.json");
  // Moved together to another folder: the model finds the CNN beside itself.
  const fs::path moved = dir / "moved";
  fs::create_directories(moved);
  fs::rename(dir / "model.json", moved / "model.json");
  fs::rename(dir / "tiny_cnn.onnx", moved / "tiny_cnn.onnx");
  const auto loaded = learn::Classifier::load(moved / "model.json");
  EXPECT_EQ(loaded.featureSpec().cnnChannels, 3);
  EXPECT_EQ(cv::countNonZero(loaded.predict(contentOf(m.ph, 1)).labels != model.predict(contentOf(m.ph, 1)).labels), 0);
  // A different CNN file (same name, other content) is refused.
  std::ofstream(moved / "tiny_cnn.onnx", std::ios::app) << "x";
  EXPECT_THROW(learn::Classifier::load(moved / "model.json"), Error);
  fs::remove_all(dir);
}

// fibseg walks XGBoost's trees itself (faster); check it against XGBoost's own predictor, with
// three phases and with two (whose rounds fibseg walks once for both classes' trees).
TEST(Classifier, PredictsExactlyWhatXGBoostPredicts) {
  SmallModel m;
  auto training = m.training;
  training.rounds = 20;
  auto camOrRest = m.examples;  // 1 pore, 2 SE -> 1 rest; 3 CAM -> 2
  for (auto& e : camOrRest) {
    e.annotation = e.annotation.clone();
    e.annotation.setTo(1, e.annotation == 2);
    e.annotation.setTo(2, e.annotation == 3);
  }
  const learn::TrainingContext twoPhases{{"rest", "CAM"}, {0, 1}, {}, 0, "none"};
  for (const auto& [examples, context] : {std::pair{m.examples, threePhases()}, std::pair{camOrRest, twoPhases}}) {
    const int classes = static_cast<int>(context.phaseNames.size());
    SCOPED_TRACE(std::to_string(classes) + " phases");
    const auto model = learn::Classifier::train(examples, defaultSpec(), training, context);
    const fs::path file = tempDir() / "model.json";
    model.save(file);
    std::ifstream in(file);
    const auto xgboost = nlohmann::json::parse(in)["xgboost"];
    const std::string booster = xgboost.dump();
    EXPECT_EQ(learn::detail::Forest::fromXGBoostJson(xgboost).walksPerRound(), classes == 2 ? 1 : 3);

    const cv::Mat slice = contentOf(m.ph, 1);
    const auto planes = learn::computeFeatures(slice, defaultSpec());
    cv::Mat rows(static_cast<int>(slice.total()), static_cast<int>(planes.size()), CV_32F);
    for (int f = 0; f < rows.cols; ++f)
      for (int i = 0; i < rows.rows; ++i) rows.at<float>(i, f) = planes[f].at<float>(i / slice.cols, i % slice.cols);

    BoosterHandle handle = nullptr;
    ASSERT_EQ(XGBoosterCreate(nullptr, 0, &handle), 0);
    ASSERT_EQ(XGBoosterLoadModelFromBuffer(handle, booster.data(), booster.size()), 0);
    DMatrixHandle matrix = nullptr;
    ASSERT_EQ(XGDMatrixCreateFromMat(rows.ptr<float>(), rows.rows, rows.cols, NAN, &matrix), 0);
    bst_ulong length = 0;
    const float* probabilities = nullptr;
    ASSERT_EQ(XGBoosterPredict(handle, matrix, 0, 0, 0, &length, &probabilities), 0);
    ASSERT_EQ(length, slice.total() * classes);

    const auto ours = model.predict(slice, true);
    double worst = 0;
    long long labelDifferences = 0;
    for (int i = 0; i < rows.rows; ++i) {
      const int y = i / slice.cols, x = i % slice.cols;
      const float* p = probabilities + classes * i;
      for (int c = 0; c < classes; ++c)
        worst = std::max(worst, double(std::fabs(ours.probabilities[c].at<float>(y, x) - p[c])));
      labelDifferences += ours.labels.at<std::uint8_t>(y, x) != std::max_element(p, p + classes) - p;
    }
    EXPECT_LT(worst, 1e-5);
    EXPECT_EQ(labelDifferences, 0);
    // Labels alone (pixels leave the walk once the later trees cannot change them): the same.
    EXPECT_EQ(cv::countNonZero(model.predict(slice).labels != ours.labels), 0);
    XGDMatrixFree(matrix);
    XGBoosterFree(handle);
    fs::remove_all(file.parent_path());
  }
}

// The vectorised path (forest.hpp: all splits of a tree tested for 16 pixels at once) against
// the tree walk, on the same feature rows: the same margins bit for bit and the same labels, for
// three phases, two (twinned rounds), deeper and shallower trees, a tail of fewer than 16 pixels,
// and feature values exactly on a split, just under it and at the ends of float's range. (Not
// infinite or NaN: the bank never makes them, and the walk's leaves, split +inf, would let a
// +inf or NaN grey step off a shallow leaf.)
TEST(Classifier, VectorisedTreesGiveTheWalksMarginsBitForBit) {
  SmallModel m;
  auto camOrRest = m.examples;
  for (auto& e : camOrRest) {
    e.annotation = e.annotation.clone();
    e.annotation.setTo(1, e.annotation == 2);
    e.annotation.setTo(2, e.annotation == 3);
  }
  const learn::TrainingContext twoPhases{{"rest", "CAM"}, {0, 1}, {}, 0, "none"};
  struct Case {
    std::vector<learn::AnnotatedSlice> examples;
    learn::TrainingContext context;
    int depth;
  };
  for (const auto& c : {Case{m.examples, threePhases(), 4}, Case{camOrRest, twoPhases, 4},
                        Case{m.examples, threePhases(), 5}, Case{m.examples, threePhases(), 2}}) {
    const int classes = static_cast<int>(c.context.phaseNames.size());
    SCOPED_TRACE(std::to_string(classes) + " phases, depth " + std::to_string(c.depth));
    auto training = m.training;
    training.rounds = 12;
    training.maxDepth = c.depth;
    const auto model = learn::Classifier::train(c.examples, defaultSpec(), training, c.context);
    const fs::path file = tempDir() / "model.json";
    model.save(file);
    std::ifstream in(file);
    const auto xgboost = nlohmann::json::parse(in)["xgboost"];
    fs::remove_all(file.parent_path());
    auto forest = learn::detail::Forest::fromXGBoostJson(xgboost);

    const cv::Mat slice = contentOf(m.ph, 1);
    auto planes = learn::computeFeatures(slice, defaultSpec());
    // Values on a split and extreme ones in the first rows of that feature, extremes in others.
    const auto& tree = xgboost["learner"]["gradient_booster"]["model"]["trees"][0];
    const int feature = tree["split_indices"][0].get<int>();
    const float split = tree["split_conditions"][0].get<float>();
    const float odd[] = {split, std::nextafter(split, -1e30f), std::numeric_limits<float>::max(),
                         std::numeric_limits<float>::lowest(), 0.0f};
    for (int i = 0; i < 100; ++i) planes[feature].at<float>(0, i) = odd[i % 5];
    for (int i = 0; i < 40; ++i) planes[(i * 7) % planes.size()].at<float>(1, i) = odd[2 + i % 3];
    std::vector<const float*> columns;
    for (const auto& p : planes) columns.push_back(p.ptr<float>());
    const int count = static_cast<int>(slice.total()) - 5;  // not a multiple of 16

    std::vector<float> walked(static_cast<std::size_t>(count) * classes), vectorised(walked.size());
    std::vector<std::uint8_t> walkedLabels(count), vectorisedLabels(count);
    forest.setVectorised(false);
    ASSERT_FALSE(forest.vectorised());
    forest.margins(columns.data(), count, walked.data());
    forest.labels(columns.data(), count, walkedLabels.data());
    forest.setVectorised(true);
    if (!forest.vectorised())
      std::cout << "[ note ] no vectorised path here (no AVX-512 or a tree of > 32 leaves): the walk against itself\n";
    forest.margins(columns.data(), count, vectorised.data());
    forest.labels(columns.data(), count, vectorisedLabels.data());
    EXPECT_EQ(std::memcmp(walked.data(), vectorised.data(), walked.size() * sizeof(float)), 0);
    EXPECT_EQ(walkedLabels, vectorisedLabels);
    long long notArgmax = 0;
    for (int i = 0; i < count; ++i) {
      const float* s = vectorised.data() + static_cast<std::size_t>(i) * classes;
      notArgmax += vectorisedLabels[i] != std::max_element(s, s + classes) - s;
    }
    EXPECT_EQ(notArgmax, 0);
  }
}

TEST(Classifier, TinyAndOddSizedSlices) {
  // Smaller than the filters' reach and than one band: still one label per pixel.
  SmallModel m;
  const auto model = learn::Classifier::train(m.examples, defaultSpec(), m.training, threePhases());
  for (const cv::Size size : {cv::Size(1, 1), cv::Size(5, 3), cv::Size(3, 40), cv::Size(81, 7)}) {
    const cv::Mat slice = contentOf(m.ph, 1)(cv::Rect(cv::Point(10, 10), size)).clone();
    const auto prediction = model.predict(slice, true);
    ASSERT_EQ(prediction.labels.size(), size);
    double lo, hi;
    cv::minMaxLoc(prediction.labels, &lo, &hi);
    EXPECT_LE(hi, 2);
    ASSERT_EQ(prediction.probabilities.size(), 3u);
  }
}

namespace {

// Four phases with known truth: discs of three grey levels (plus texture for the fourth) on a
// background, with Gaussian noise. Truth = phase index.
struct FourPhaseImage {
  cv::Mat slice, truth;
  explicit FourPhaseImage(unsigned seed) {
    truth = cv::Mat::zeros(160, 160, CV_8U);
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> pos(10, 150), radius(6, 14), phase(1, 3);
    for (int i = 0; i < 40; ++i) {  // phase, radius, x, y: GCC's order when they were one call's arguments
      const int p = phase(rng), r = radius(rng), x = pos(rng), y = pos(rng);
      cv::circle(truth, {x, y}, r, p, cv::FILLED);
    }
    const double grey[4] = {40, 100, 160, 220};
    cv::Mat f(truth.size(), CV_32F);
    for (int y = 0; y < f.rows; ++y)
      for (int x = 0; x < f.cols; ++x) f.at<float>(y, x) = static_cast<float>(grey[truth.at<std::uint8_t>(y, x)]);
    cv::Mat noise(truth.size(), CV_32F);
    cv::setRNGSeed(static_cast<int>(seed));
    cv::randn(noise, 0, 12);
    f += noise;
    f.convertTo(slice, CV_8U);
  }
};

// Strokes: short lines inside each phase eroded by 2 px, about `fraction` of the pixels.
cv::Mat innerStrokes(const cv::Mat& truth, int phases, double fraction, unsigned seed) {
  cv::Mat annotation = cv::Mat::zeros(truth.size(), CV_8U);
  std::mt19937 rng(seed);
  const long long perPhase = static_cast<long long>(fraction * truth.total() / phases);
  for (int p = 0; p < phases; ++p) {
    cv::Mat inside;
    cv::erode(truth == p, inside, cv::getStructuringElement(cv::MORPH_ELLIPSE, {5, 5}));
    std::vector<cv::Point> candidates;
    cv::findNonZero(inside, candidates);
    if (candidates.empty()) continue;
    std::uniform_int_distribution<std::size_t> pick(0, candidates.size() - 1);
    for (int attempt = 0; cv::countNonZero(annotation == p + 1) < perPhase && attempt < 2000; ++attempt) {
      const cv::Point a = candidates[pick(rng)];
      cv::Mat line = cv::Mat::zeros(truth.size(), CV_8U);
      cv::line(line, a, a + cv::Point(6, 3), 255);
      annotation.setTo(p + 1, line & inside);
    }
  }
  return annotation;
}

double iouOf(const cv::Mat& labels, const cv::Mat& truth, int phase) {
  const int both = cv::countNonZero((labels == phase) & (truth == phase));
  const int either = cv::countNonZero((labels == phase) | (truth == phase));
  return either ? double(both) / either : 1.0;
}

}  // namespace

TEST(Classifier, FourNamedPhasesTrainedFromStrokesSegmentAnotherImage) {
  const learn::TrainingContext four{{"pore", "SE", "carbon", "CAM"}, {0, 85, 170, 255}, {}, 0, "none"};
  const FourPhaseImage train(1), test(2);
  const cv::Mat strokes = innerStrokes(train.truth, 4, 0.02, 5);
  EXPECT_LE(cv::countNonZero(strokes) / double(strokes.total()), 0.021);
  const auto model = learn::Classifier::train({{train.slice, strokes, "four.png"}}, defaultSpec(), defaultTraining(), four);
  const auto prediction = model.predict(test.slice, true);
  ASSERT_EQ(prediction.probabilities.size(), 4u);
  // Edges between the darkest and a bright phase blur through the grey levels between them, so
  // thin rims of those phases appear there: accuracy is high, the middle phases' IoU lower.
  const double accuracy = cv::countNonZero(prediction.labels == test.truth) / double(test.truth.total());
  std::cout << "four phases: accuracy " << accuracy;
  for (int p = 0; p < 4; ++p) {
    std::cout << ", " << four.phaseNames[p] << " IoU " << iouOf(prediction.labels, test.truth, p);
    EXPECT_GT(iouOf(prediction.labels, test.truth, p), 0.75) << four.phaseNames[p];
  }
  std::cout << "\n";
  EXPECT_GT(accuracy, 0.93);

  const fs::path file = tempDir() / "four.json";
  model.save(file);
  const auto loaded = learn::Classifier::load(file);
  EXPECT_EQ(loaded.context().phaseNames, four.phaseNames);
  EXPECT_EQ(cv::countNonZero(loaded.predict(test.slice).labels != prediction.labels), 0);
  try {
    loaded.requirePhases({"pore", "SE", "CAM"}, "learn.model four.json");
    FAIL();
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("pore, SE, carbon, CAM"), std::string::npos) << m;
    EXPECT_NE(m.find("names pore, SE, CAM"), std::string::npos) << m;
  }
}

TEST(Classifier, TwoPhasesParticleAndRest) {
  // Particle vs rest, as the lco-fibsem masks are: the phantom's CAM against pore + SE.
  const phantom::Phantom ph(driftFreePhantom());
  const learn::TrainingContext two{{"rest", "particle"}, {0, 1}, {}, 0, "none"};
  const cv::Mat truth1 = ph.truthLabels(1) == ActiveMaterial, truth3 = ph.truthLabels(3) == ActiveMaterial;
  cv::Mat binary1 = truth1 / 255, binary3 = truth3 / 255;
  const auto model = learn::Classifier::train({{contentOf(ph, 1), innerStrokes(binary1, 2, 0.02, 9), "s1"}},
                                              defaultSpec(), defaultTraining(), two);
  const cv::Mat labels = model.predict(contentOf(ph, 3)).labels;
  EXPECT_GT(iouOf(labels, binary3, 1), 0.93);
  EXPECT_GT(iouOf(labels, binary3, 0), 0.93);
}

TEST(Classifier, MissingStrokesNameThePhase) {
  const learn::TrainingContext four{{"pore", "SE", "carbon", "CAM"}, {0, 1, 2, 3}, {}, 0, "none"};
  const FourPhaseImage image(1);
  cv::Mat strokes = innerStrokes(image.truth, 4, 0.02, 5);
  strokes.setTo(0, strokes == 3);  // no carbon
  try {
    learn::Classifier::train({{image.slice, strokes, "four.png"}}, defaultSpec(), defaultTraining(), four);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no pixels of carbon;"), std::string::npos) << e.what();
  }
}

namespace {

// A small model's file as JSON (saved to `file`).
nlohmann::json smallModelFile(const fs::path& file) {
  SmallModel m;
  learn::Classifier::train(m.examples, defaultSpec(), m.training, threePhases()).save(file);
  nlohmann::json doc;
  std::ifstream(file) >> doc;
  return doc;
}

// What loading `doc`, written to `file`, throws ("(no error)" if it loads).
std::string loadError(const nlohmann::json& doc, const fs::path& file) {
  std::ofstream(file) << doc.dump();
  try {
    learn::Classifier::load(file);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

// Found by fuzzing (issue 16): a tree whose node is its own child, or whose arrays are shorter
// than its node count, made XGBoost's loader free memory twice. Now a clear error.
TEST(Classifier, RefusesMalformedTreesBeforeXGBoostReadsThem) {
  const fs::path file = tempDir() / "malformed.json";
  const nlohmann::json good = smallModelFile(file);
  const auto broken = [&](const std::function<void(nlohmann::json&)>& change) {
    nlohmann::json doc = good;
    change(doc["xgboost"]["learner"]["gradient_booster"]["model"]["trees"][0]);
    return loadError(doc, file);
  };
  EXPECT_THAT(broken([](nlohmann::json& tree) { tree["left_children"][0] = 0; }), HasSubstr("bad child"));
  EXPECT_THAT(broken([](nlohmann::json& tree) { tree["default_left"].erase(0); }), HasSubstr("one entry per node"));
  EXPECT_THAT(broken([](nlohmann::json& tree) { tree["tree_param"]["num_nodes"] = "x"; }), HasSubstr("not a number"));
}

// Found by fuzzing (CI, stop 34): XGBoost's loader crashed (SEGV in its JSON casts) on a malformed
// model that fibseg's reading of the trees had accepted. A model file no longer reaches that
// loader: fibseg reads the trees and the feature count itself, so fields only XGBoost read do not
// matter (the file predicts as before), and a feature count that disagrees with the feature
// specification is still refused.
TEST(Classifier, AModelFileNeverReachesXGBoostsLoader) {
  const fs::path file = tempDir() / "odd-fields.json";
  nlohmann::json doc = smallModelFile(file);
  const cv::Mat slice = contentOf(SmallModel().ph, 1);
  const cv::Mat expected = learn::Classifier::load(file).predict(slice).labels;
  doc["xgboost"]["version"] = {"one"};  // XGBoost reads three integers here
  doc["xgboost"]["learner"]["attributes"] = 7;
  EXPECT_EQ(loadError(doc, file), "(no error)");
  const cv::Mat got = learn::Classifier::load(file).predict(slice).labels;
  EXPECT_EQ(cv::countNonZero(expected != got), 0);

  auto features = [&](const char* count) {
    doc["xgboost"]["learner"]["learner_model_param"]["num_feature"] = count;
    return loadError(doc, file);
  };
  EXPECT_THAT(features("100"), HasSubstr("its trees use 100 features but its feature specification describes 35"));
  EXPECT_THAT(features("3"), HasSubstr("a split this predictor cannot evaluate"));  // trees split feature >= 3
}

namespace {

// Three aligned slices of bright disks on a dark noisy background. Every disk is in the middle
// slice and the one below; half of them go on into the slice above, half end. Which half is
// invisible in the middle slice alone: only its neighbours tell (as in FIB-SEM, where a particle
// cut by the plane and one seen through a pore look alike in one slice).
struct ContinuingDisks {
  cv::Mat below, middle, above, continuing;  // continuing: 1 inside disks that reach `above`
};

ContinuingDisks continuingDisks(unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> place(12, 179);
  ContinuingDisks d;
  cv::Mat all = cv::Mat::zeros(192, 192, CV_8U), going = all.clone();
  for (int i = 0; i < 40; ++i) {
    const int y = place(rng), x = place(rng);  // y first: GCC's order when both were arguments
    const cv::Point c(x, y);
    cv::circle(all, c, 8, 255, cv::FILLED);
    if (i % 2 == 0) cv::circle(going, c, 8, 255, cv::FILLED);
  }
  auto noisy = [&](const cv::Mat& disks) {
    cv::Mat grey(disks.size(), CV_32F);
    cv::randn(grey, 0, 12);
    grey += 60;
    grey.setTo(0, disks);
    cv::Mat bright(disks.size(), CV_32F);
    cv::randn(bright, 170, 12);
    bright.copyTo(grey, disks);
    cv::Mat out;
    grey.convertTo(out, CV_8U);
    return out;
  };
  cv::theRNG().state = seed;
  d.below = noisy(all);
  d.middle = noisy(all);
  d.above = noisy(going);
  d.continuing = going / 255;
  return d;
}

}  // namespace

TEST(Classifier, ZContextTellsDisksThatContinueFromDisksThatEnd) {
  const learn::TrainingContext two{{"ends or background", "continues"}, {0, 1}, {}, 0, "none"};
  const auto train = continuingDisks(3), test = continuingDisks(4);
  const cv::Mat strokes = innerStrokes(train.continuing, 2, 0.03, 5);
  auto iouWith = [&](const std::string& zContext) {
    auto spec = defaultSpec();
    spec.zContext = zContext;
    const auto model = learn::Classifier::train({{train.middle, strokes, "middle", {train.below, train.above}}},
                                                spec, defaultTraining(), two);
    EXPECT_EQ(model.needsNeighbours(), zContext != "none");
    return iouOf(model.predict(test.middle, {test.below, test.above}).labels, test.continuing, 1);
  };
  const double flat = iouWith("none"), neighbours = iouWith("neighbours"), sides = iouWith("above_below");
  std::cout << "continuing disks, IoU of 'continues': 2D " << flat << ", mean of neighbours " << neighbours
            << ", above and below " << sides << "\n";
  EXPECT_LT(flat, 0.75);    // one slice cannot tell: about half the disks are wrong
  EXPECT_GT(sides, 0.90);   // the slice above says which disks go on
  EXPECT_GT(neighbours, flat);
}

TEST(Classifier, ZContextIsRecordedAndANeedForNeighboursIsAClearError) {
  const auto d = continuingDisks(3);
  const learn::TrainingContext two{{"ends or background", "continues"}, {0, 1}, {}, 0, "none"};
  auto spec = defaultSpec();
  spec.zContext = "above_below";
  EXPECT_THAT([&] { learn::Classifier::train({{d.middle, innerStrokes(d.continuing, 2, 0.03, 5), "middle.png"}}, spec,
                                             defaultTraining(), two); },
              testing::ThrowsMessage<Error>(HasSubstr("learn.z_context = above_below")));
  const auto model = learn::Classifier::train(
      {{d.middle, innerStrokes(d.continuing, 2, 0.03, 5), "middle", {d.below, d.above}}}, spec, defaultTraining(), two);
  EXPECT_THAT([&] { model.predict(d.middle); }, testing::ThrowsMessage<Error>(HasSubstr("neighbours z-1 and z+1")));
  // At a stack's end one neighbour stands in for the missing one.
  EXPECT_EQ(model.predict(d.middle, {cv::Mat(), d.above}).labels.size(), d.middle.size());
  const fs::path file = fs::temp_directory_path() / ("fibseg_zcontext_" + std::to_string(::getpid()) + ".json");
  model.save(file);
  std::ifstream in(file);
  EXPECT_EQ(nlohmann::json::parse(in)["feature_spec"]["z_context"], "above_below");
  auto flat = defaultSpec();
  EXPECT_THAT([&] { learn::Classifier::load(file, flat); },
              testing::ThrowsMessage<Error>(HasSubstr("learn.z_context: model above_below, configuration none")));
  EXPECT_EQ(learn::Classifier::load(file, spec).featureSpec().zContext, "above_below");
  fs::remove(file);
}

namespace {

// Bright disks (radius 10) on a dark background under noise as strong as their contrast: one
// pixel's grey and a 0.7 px neighbourhood cannot tell them apart reliably, the disk around it can.
struct NoisyDisks {
  cv::Mat slice, disks;  // disks: 1 inside
};

NoisyDisks noisyDisks(unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> place(12, 147);
  NoisyDisks d;
  d.disks = cv::Mat::zeros(160, 160, CV_8U);
  for (int i = 0; i < 25; ++i) cv::circle(d.disks, {place(rng), place(rng)}, 10, 1, cv::FILLED);
  cv::Mat grey(d.disks.size(), CV_32F);
  cv::theRNG().state = seed;
  cv::randn(grey, 0, 40);
  grey += 100;
  cv::Mat bright(d.disks.size(), CV_32F);
  cv::randn(bright, 140, 40);
  bright.copyTo(grey, d.disks);
  grey.convertTo(d.slice, CV_8U);
  return d;
}

}  // namespace

// Auto-context: with features at 0.7 px only, the first stage labels pixel by pixel and the noise
// scatters its answer; the second stage also sees the first stage's probabilities smoothed over
// 2 and 4 px, i.e. how much of the neighbourhood looks like a disk, and recovers the disks.
TEST(Classifier, AutoContextCleansAnswersThatNoiseScatters) {
  const learn::TrainingContext two{{"background", "disk"}, {0, 1}, {}, 0, "none"};
  const auto a = noisyDisks(1), b = noisyDisks(2), test = noisyDisks(3);
  const std::vector<learn::AnnotatedSlice> examples = {{a.slice, innerStrokes(a.disks, 2, 0.03, 5), "a"},
                                                       {b.slice, innerStrokes(b.disks, 2, 0.03, 6), "b"}};
  auto spec = defaultSpec();
  spec.scales = {0.7};
  spec.gaborWavelengths = {};
  const auto oneStage = learn::Classifier::train(examples, spec, defaultTraining(), two);
  spec.autoContextScales = {2, 4};
  const auto twoStages = learn::Classifier::train(examples, spec, defaultTraining(), two);
  const double first = iouOf(oneStage.predict(test.slice).labels, test.disks, 1);
  const auto prediction = twoStages.predict(test.slice, true);
  const double second = iouOf(prediction.labels, test.disks, 1);
  std::cout << "noisy disks, IoU of disk: one stage " << first << ", auto-context " << second << "\n";
  EXPECT_LT(first, 0.85);          // the noise is as strong as the contrast (measured 0.82)
  EXPECT_GT(second, first + 0.05);  // the disk around a pixel tells (measured 0.91)
  ASSERT_EQ(prediction.probabilities.size(), 2u);
  EXPECT_LT(cv::norm(prediction.probabilities[0] + prediction.probabilities[1] - 1.0, cv::NORM_INF), 1e-5);

  // The first stage on every second pixel of every second row (learn.auto_context_step = 2, the
  // registry default) recovers the disks as well.
  auto onGrid = spec;
  onGrid.autoContextStep = 2;
  const double grid = iouOf(learn::Classifier::train(examples, onGrid, defaultTraining(), two).predict(test.slice).labels,
                            test.disks, 1);
  std::cout << "auto-context with the first stage on a grid of step 2: " << grid << "\n";
  EXPECT_GT(grid, first + 0.05);
  // On one slice, second-stage features from first stages that did not see the strokes
  // (learn.cv_stacking_folds, used by auto's cross-validation): another second stage, as good.
  auto stacked = defaultTraining();
  stacked.strokeStackingFolds = 3;
  const auto inSample = learn::Classifier::train({examples[0]}, spec, defaultTraining(), two);
  const auto outOfFold = learn::Classifier::train({examples[0]}, spec, stacked, two);
  const double inSampleIou = iouOf(inSample.predict(test.slice).labels, test.disks, 1);
  const double outOfFoldIou = iouOf(outOfFold.predict(test.slice).labels, test.disks, 1);
  std::cout << "one slice: in-sample stacking " << inSampleIou << ", stroke folds " << outOfFoldIou << "\n";
  EXPECT_GT(outOfFoldIou, first + 0.05);
  EXPECT_GT(cv::countNonZero(inSample.predict(test.slice, true).probabilities[1] !=
                             outOfFold.predict(test.slice, true).probabilities[1]), 0);

  // The model file carries both stages; loaded, it predicts the same; a file claiming auto-context
  // without its second stage is refused; one without either (written before auto-context) is a
  // one-stage model.
  const fs::path file = tempDir() / "auto_context.json";
  twoStages.save(file);
  const auto loaded = learn::Classifier::load(file, spec);
  EXPECT_EQ(cv::countNonZero(loaded.predict(test.slice).labels != prediction.labels), 0);
  nlohmann::json doc;
  std::ifstream(file) >> doc;
  EXPECT_EQ(doc["feature_spec"]["auto_context_scales"], nlohmann::json::array({2, 4}));
  EXPECT_EQ(doc["training"]["stages"], 2);
  // Without auto_context_step (written before it): the first stage on every pixel, as then.
  doc["feature_spec"].erase("auto_context_step");
  std::ofstream(file) << doc.dump();
  const auto beforeStep = learn::Classifier::load(file);
  EXPECT_EQ(beforeStep.featureSpec().autoContextStep, 1);
  EXPECT_EQ(cv::countNonZero(beforeStep.predict(test.slice).labels != prediction.labels), 0);
  doc.erase("xgboost_stage2");
  std::ofstream(file) << doc.dump();
  EXPECT_THAT([&] { learn::Classifier::load(file); }, testing::ThrowsMessage<Error>(HasSubstr("no second stage")));
  doc["feature_spec"].erase("auto_context_scales");
  doc["feature_spec"].erase("rank_features");
  std::ofstream(file) << doc.dump();
  const auto old = learn::Classifier::load(file);
  EXPECT_TRUE(old.featureSpec().autoContextScales.empty());
  EXPECT_EQ(old.predict(test.slice).labels.size(), test.slice.size());
  auto differentScales = spec;
  differentScales.autoContextScales = {3};
  twoStages.save(file);
  EXPECT_THAT([&] { learn::Classifier::load(file, differentScales); },
              testing::ThrowsMessage<Error>(HasSubstr("learn.auto_context_scales: model [2, 4], configuration [3]")));
  fs::remove(file);
}

// A stack predicted in order, each slice's bank computed once (StackPredictor), gives exactly the
// labels and probabilities of predicting each slice with its neighbours, ends included; for every
// kind of model (2D, z context of either kind, with auto-context). Sizes that change within the
// stack and a one-slice stack for a model with z context are clear errors.
TEST(Classifier, StackPredictorGivesWhatSliceBySlicePredictionGives) {
  const phantom::Phantom ph(driftFreePhantom());
  std::vector<cv::Mat> stack;
  for (int z = 0; z < ph.params().slices; ++z) stack.push_back(contentOf(ph, z));
  auto train = [&](const std::string& zContext, std::vector<double> autoContext, int step = 1) {
    auto spec = defaultSpec();
    spec.zContext = zContext;
    spec.autoContextScales = autoContext;
    spec.autoContextStep = step;
    std::vector<learn::AnnotatedSlice> examples;
    for (int z : {1, 4})
      examples.push_back({stack[z], strokeAnnotation(ph.truthLabels(z), 0.01, 3 + z), std::to_string(z),
                          {stack[z - 1], stack[z + 1]}});
    return learn::Classifier::train(examples, spec, defaultTraining(), threePhases());
  };
  for (const auto& [zContext, autoContext, step] : std::vector<std::tuple<std::string, std::vector<double>, int>>{
           {"none", {}, 1}, {"above_below", {}, 1}, {"above_below", {1, 4}, 2}, {"neighbours", {2}, 1},
           {"changes", {}, 1}, {"changes", {1, 4}, 2}}) {
    SCOPED_TRACE(zContext + (autoContext.empty() ? "" : " + auto-context, step " + std::to_string(step)));
    const auto model = train(zContext, autoContext, step);
    std::vector<int> order;
    learn::StackPredictor predictor(model, true, [&](int z, learn::Prediction p) {
      order.push_back(z);
      std::vector<cv::Mat> neighbours;
      if (model.needsNeighbours())
        for (int n : {z - 1, z + 1})
          neighbours.push_back(n >= 0 && n < int(stack.size()) ? stack[n] : cv::Mat());
      const auto one = model.predict(stack[z], neighbours, true);
      EXPECT_EQ(cv::countNonZero(p.labels != one.labels), 0) << "slice " << z;
      ASSERT_EQ(p.probabilities.size(), 3u);
      for (int c = 0; c < 3; ++c) EXPECT_EQ(cv::norm(p.probabilities[c], one.probabilities[c], cv::NORM_INF), 0.0);
    });
    for (const auto& slice : stack) predictor.add(slice);
    predictor.finish();
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  }
  const auto model = train("above_below", {});
  learn::StackPredictor mixed(model, false, [](int, learn::Prediction) {});
  mixed.add(stack[0]);
  EXPECT_THAT([&] { mixed.add(stack[1].colRange(0, 100).clone()); },
              testing::ThrowsMessage<Error>(HasSubstr("slice 1 of the stack is 100x")));
  learn::StackPredictor single(model, false, [](int, learn::Prediction) {});
  single.add(stack[0]);
  EXPECT_THAT([&] { single.finish(); }, testing::ThrowsMessage<Error>(HasSubstr("neighbours z-1 and z+1")));
}
