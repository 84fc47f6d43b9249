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
