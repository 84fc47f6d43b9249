// learn.preset = auto: cross-validation by whole strokes or whole slices, folds that miss a phase,
// the choice recorded in the model, and what `fibseg run` then checks.
#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <filesystem>
#include <random>
#include <unistd.h>

#include "fibseg/core/error.hpp"
#include "fibseg/learn/learn.hpp"

namespace fs = std::filesystem;
using namespace fibseg;

namespace {

// Dark left half (phase 0), bright right half (phase 1), noise: any preset separates them.
cv::Mat halves(unsigned seed) {
  cv::Mat image(96, 128, CV_8U, cv::Scalar(70));
  image(cv::Rect(64, 0, 64, 96)).setTo(170);
  cv::Mat noise(image.size(), CV_8U);
  cv::theRNG().state = seed;
  cv::randn(noise, 0, 12);
  cv::add(image, noise, image);
  return image;
}

// `n[p]` separate horizontal strokes of 10 px in phase p's half (code p + 1).
cv::Mat strokes(std::vector<int> n) {
  cv::Mat a = cv::Mat::zeros(96, 128, CV_8U);
  for (int p = 0; p < 2; ++p)
    for (int k = 0; k < n[p]; ++k) cv::line(a, {8 + 64 * p, 6 + 8 * k}, {17 + 64 * p, 6 + 8 * k}, p + 1, 1);
  return a;
}

learn::LearnParams params() {
  learn::LearnParams p;
  p.features.scales = {0.7, 1.6};
  p.features.gaborOrientations = 4;
  p.features.normalisation = "percentile";
  p.features.cnnChannels = 0;
  p.training = {5, 3, 0.3, 50000, 1};
  p.refine = {};
  p.writeProbabilities = false;
  p.denoiseInput = false;
  p.preset = "auto";
  p.folds = 3;
  return p;
}

const learn::TrainingContext kTwo{{"dark", "bright"}, {0, 1}, {}, 0, "none"};

}  // namespace

TEST(CrossValidation, OneSliceIsSplitByWholeStrokes) {
  const std::vector<learn::AnnotatedSlice> one{{halves(1), strokes({6, 6}), "slice"}};
  std::string folds, notes;
  const auto score = learn::crossValidate(one, learn::autoPresets(params())[0], kTwo, 3, &folds, &notes);
  EXPECT_EQ(folds, "3 folds of connected strokes on the one slice");
  EXPECT_EQ(score.foldsScored, 3);
  EXPECT_EQ(notes, "");
  ASSERT_EQ(score.iou.size(), 2u);
  EXPECT_GT(score.iou[0], 0.95);
  EXPECT_GT(score.meanIou, 0.95);
}

// A phase with a single stroke: the fold that holds it out has no stroke of that phase left to
// train on, so that fold is skipped (and says so); the phase's held-out stroke is never scored.
TEST(CrossValidation, AFoldWithoutSomePhaseIsSkippedAndNamed) {
  const std::vector<learn::AnnotatedSlice> one{{halves(2), strokes({6, 1}), "slice"}};
  std::string folds, notes;
  const auto score = learn::crossValidate(one, learn::autoPresets(params())[0], kTwo, 3, &folds, &notes);
  EXPECT_EQ(score.foldsScored, 2);
  EXPECT_NE(notes.find("fold 1 skipped: its training strokes hold no bright"), std::string::npos) << notes;
  EXPECT_TRUE(std::isnan(score.iou[1]));
  EXPECT_FALSE(std::isnan(score.iou[0]));
}

TEST(CrossValidation, StrokesOfOnePhaseOnlyAreAClearError) {
  const std::vector<learn::AnnotatedSlice> one{{halves(3), strokes({6, 0}), "slice"}};
  try {
    learn::trainModel(one, params(), kTwo);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no pixels of bright"), std::string::npos) << e.what();
  }
}

TEST(Preset, AutoScoresEachCandidateBySliceAndKeepsTheChoiceInTheModel) {
  const std::vector<learn::AnnotatedSlice> two{{halves(4), strokes({3, 3}), "a"}, {halves(5), strokes({3, 3}), "b"}};
  auto p = params();
  const auto model = learn::trainModel(two, p, kTwo);
  const std::string text = model.presetChoiceText();
  EXPECT_NE(text.find("leave one slice out, 2 folds"), std::string::npos) << text;
  for (const auto& preset : learn::autoPresets(p)) EXPECT_NE(text.find(preset.name), std::string::npos) << text;
  EXPECT_NE(text.find("* bank"), std::string::npos) << text;  // the chosen one is marked

  const fs::path dir = fs::temp_directory_path() / ("fibseg_preset_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  p.model = dir / "model.json";
  model.save(p.model);
  const auto loaded = learn::loadModelFor(p);
  EXPECT_EQ(loaded.presetChoiceText(), text);
  // auto chose normalisation and auto-context, so those may differ from the configuration; the
  // bank may not, and learn.preset = manual compares everything.
  auto other = p;
  other.features.normalisation = model.featureSpec().normalisation == "training" ? "percentile" : "training";
  EXPECT_NO_THROW(learn::loadModelFor(other));
  other.preset = "manual";
  EXPECT_THROW(learn::loadModelFor(other), Error);
  auto otherScales = p;
  otherScales.features.scales = {1};
  EXPECT_THROW(learn::loadModelFor(otherScales), Error);
  fs::remove_all(dir);

  // manual: exactly the features given, no table.
  p.preset = "manual";
  const auto manual = learn::trainModel(two, p, kTwo);
  EXPECT_EQ(manual.presetChoiceText(), "");
  EXPECT_EQ(manual.featureSpec().normalisation, "percentile");
}

namespace {

// Bright disks on a dark noisy background, all in the slice and the one below; half go on into
// the slice above, half end. Only the neighbours tell the halves apart. Codes: 0 background,
// 1 continuing disk, 2 ending disk.
struct DiskStack {
  cv::Mat below, middle, above, truth;
};

DiskStack disksThatContinueOrEnd(unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> place(12, 115);
  cv::Mat all = cv::Mat::zeros(128, 128, CV_8U), going = all.clone();
  for (int i = 0; i < 24; ++i) {
    const int y = place(rng), x = place(rng);  // y first: GCC's order when both were arguments
    const cv::Point c(x, y);
    cv::circle(all, c, 7, 255, cv::FILLED);
    if (i % 2 == 0) cv::circle(going, c, 7, 255, cv::FILLED);
  }
  cv::theRNG().state = seed;
  auto noisy = [](const cv::Mat& disks) {
    cv::Mat grey(disks.size(), CV_32F), bright(disks.size(), CV_32F), out;
    cv::randn(grey, 60, 12);
    cv::randn(bright, 170, 12);
    bright.copyTo(grey, disks);
    grey.convertTo(out, CV_8U);
    return out;
  };
  DiskStack d{noisy(all), noisy(all), noisy(going), cv::Mat::zeros(all.size(), CV_8U)};
  d.truth.setTo(2, all);
  d.truth.setTo(1, going);
  return d;
}

// Short strokes inside each phase (eroded by 2 px) on every 3rd row of 12 px runs.
cv::Mat strokesOf(const cv::Mat& truth, int phases) {
  cv::Mat a = cv::Mat::zeros(truth.size(), CV_8U);
  for (int p = 0; p < phases; ++p) {
    cv::Mat inside;
    cv::erode(truth == p, inside, cv::getStructuringElement(cv::MORPH_ELLIPSE, {5, 5}));
    for (int y = 2; y < truth.rows; y += 6)
      for (int x = 2; x < truth.cols; x += 16)
        for (int k = 0; k < 6 && x + k < truth.cols; ++k)
          if (inside.at<std::uint8_t>(y, x + k)) a.at<std::uint8_t>(y, x + k) = static_cast<std::uint8_t>(p + 1);
  }
  return a;
}

const learn::TrainingContext kDisks{{"background", "continues", "ends"}, {0, 1, 2}, {}, 0, "none"};

}  // namespace

// Strokes on slices of a stack (each with its neighbours): auto also scores z context, and where
// only the neighbours tell two phases apart, its cross-validation picks it; the model then has it.
TEST(Preset, AutoTurnsZContextOnWhereOnlyTheNeighboursTell) {
  std::vector<learn::AnnotatedSlice> examples;
  for (unsigned seed : {3u, 4u}) {
    const auto d = disksThatContinueOrEnd(seed);
    examples.push_back({d.middle, strokesOf(d.truth, 3), "slice " + std::to_string(seed), {d.below, d.above}});
  }
  auto p = params();
  const auto withZ = learn::autoPresets(p, true);
  EXPECT_EQ(withZ.size(), 12u);  // z: none, the neighbours' changes, their banks
  EXPECT_EQ(learn::autoPresets(p, false).size(), 4u);
  const auto model = learn::trainModel(examples, p, kDisks);
  const std::string text = model.presetChoiceText();
  EXPECT_NE(model.featureSpec().zContext, "none") << text;
  EXPECT_NE(text.find("* bank, per-slice grey + z "), std::string::npos) << text;
  // Of the two kinds of z context, one at most goes on to a second stage per normalisation.
  for (const char* grey : {"per-slice grey", "training grey"}) {
    int scored = 0;
    for (const char* z : {" + z changes", " + z context"}) {
      const std::string row = std::string("bank, ") + grey + z + " + auto-context";
      const auto at = text.find(row);
      ASSERT_NE(at, std::string::npos) << row << "\n" << text;
      const std::string line = text.substr(at, text.find('\n', at) - at);
      scored += line.find("pruned") == std::string::npos;
    }
    EXPECT_LE(scored, 1) << text;
  }
  // The model predicts an unseen stack slice as the truth says.
  const auto d = disksThatContinueOrEnd(9);
  const cv::Mat labels = model.predict(d.middle, {d.below, d.above}).labels;
  const double continuing = cv::countNonZero((labels == 1) & (d.truth == 1)) /
                            double(cv::countNonZero((labels == 1) | (d.truth == 1)));
  EXPECT_GT(continuing, 0.8) << text;
  // Without neighbours (images, not stack slices) z context is not a candidate.
  for (auto& e : examples) e.neighbours.clear();
  const auto flat = learn::trainModel(examples, p, kDisks);
  EXPECT_EQ(flat.featureSpec().zContext, "none");
  EXPECT_EQ(flat.presetChoiceText().find(" + z "), std::string::npos) << flat.presetChoiceText();
}

// The shared banks (features of the painted pixels computed once) score a one-stage candidate
// exactly as training each fold's model and predicting the whole held-out slice does.
TEST(CrossValidation, SharedBanksScoreAsWholeSlicePredictionDoes) {
  const std::vector<learn::AnnotatedSlice> two{{halves(6), strokes({3, 3}), "a"}, {halves(7), strokes({3, 3}), "b"}};
  auto p = params();
  p.training.rounds = 3;
  const auto preset = learn::autoPresets(p)[0];  // per-slice grey, one stage
  const auto score = learn::crossValidate(two, preset, kTwo, 3);
  double both[2] = {0, 0}, either[2] = {0, 0};
  std::vector<std::vector<double>> confusion(2, std::vector<double>(2, 0));
  for (int f = 0; f < 2; ++f) {
    const auto model = learn::Classifier::train({two[1 - f]}, preset.features, preset.training, kTwo);
    const cv::Mat labels = model.predict(two[f].slice).labels;
    for (int y = 0; y < labels.rows; ++y)
      for (int x = 0; x < labels.cols; ++x)
        if (const int a = two[f].annotation.at<std::uint8_t>(y, x)) confusion[a - 1][labels.at<std::uint8_t>(y, x)] += 1;
  }
  for (auto& row : confusion) {
    const double total = row[0] + row[1];
    for (double& v : row) v /= total;
  }
  for (int q = 0; q < 2; ++q) {
    both[q] = confusion[q][q];
    either[q] = confusion[q][0] + confusion[q][1] + confusion[0][q] + confusion[1][q] - confusion[q][q];
    EXPECT_NEAR(score.iou[q], both[q] / either[q], 1e-12);
  }
}

// A model records the refinement auto chose; `fibseg run` / predict apply it unless
// learn.refine_band is set, and a manual model has none.
TEST(Preset, ChosenRefinementTravelsWithTheModel) {
  const std::vector<learn::AnnotatedSlice> two{{halves(8), strokes({3, 3}), "a"}, {halves(9), strokes({3, 3}), "b"}};
  auto p = params();
  auto model = learn::trainModel(two, p, kTwo);
  const std::string text = model.presetChoiceText();
  EXPECT_NE(text.find("boundaries refined (2 px, sigma 1)"), std::string::npos) << text;  // scored, in the table
  learn::PresetChoice choice;
  choice.chosen = "bank, per-slice grey + boundaries refined (2 px, sigma 1)";
  choice.refine = {2, 1.0, learn::RefineMethod::HalfContrast};
  model.recordPresetChoice(choice);
  const fs::path dir = fs::temp_directory_path() / ("fibseg_refine_choice_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  p.model = dir / "model.json";
  model.save(p.model);
  const auto loaded = learn::loadModelFor(p);
  EXPECT_EQ(loaded.chosenRefinement().bandPx, 2);
  EXPECT_EQ(loaded.chosenRefinement().method, learn::RefineMethod::HalfContrast);  // kept in the file
  EXPECT_EQ(learn::refinementFor(p, loaded).bandPx, 2);
  auto set = p;
  set.refine = {4, 1.5};
  EXPECT_EQ(learn::refinementFor(set, loaded).bandPx, 4);  // the user's band wins
  auto manual = p;
  manual.preset = "manual";
  EXPECT_EQ(learn::refinementFor(manual, loaded).bandPx, 0);
  fs::remove_all(dir);
}
