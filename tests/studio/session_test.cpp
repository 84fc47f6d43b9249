// The studio trains as `fibseg train` does (learn.preset = auto by default: it once trained the
// manual preset whatever the parameters said) and its prediction is what `fibseg run` writes with
// the model it saves: the same labels, with whatever auto chose for the model (grey normalisation,
// z context, auto-context, boundary refinement: the studio once applied only learn.refine_band).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <sstream>

#include "fibseg/config/load.hpp"
#include "fibseg/config/param_set.hpp"
#include "fibseg/learn/learn.hpp"
#include "fibseg/phantom/write_phantom.hpp"
#include "fibseg/pipeline/run.hpp"
#include "fibseg/studio/session.hpp"

namespace fibseg::studio {
namespace {
namespace fs = std::filesystem;

struct Folder {
  fs::path root;
  explicit Folder(const std::string& name) : root(fs::temp_directory_path() / (name + std::to_string(getpid()))) {
    fs::remove_all(root);
  }
  ~Folder() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
};

fs::path runOf(config::ParamSet params, const fs::path& output) {
  params.set("output.folder", output.string(), "test");
  std::ostringstream log;
  pipeline::runPipeline(params, {.log = &log});
  return output;
}

// Sparse strokes from the classical labels of slice z: every 4th pixel of every 4th row, in the
// `fibseg train` codes (phase + 1).
cv::Mat strokesFrom(const cv::Mat& labels) {
  cv::Mat codes = cv::Mat::zeros(labels.size(), CV_8U);
  for (int y = 2; y < labels.rows; y += 4)
    for (int x = 1; x < labels.cols; x += 4) codes.at<uchar>(y, x) = static_cast<uchar>(labels.at<uchar>(y, x) + 1);
  return codes;
}

TEST(StudioSession, PredictionIsWhatTheRunWritesWithTheSavedModel) {
  const Folder folder("fibseg_studio_session_test_");
  phantom::PhantomParams p;
  p.width = 128;
  p.height = 96;
  p.slices = 4;
  phantom::writePhantom(p, folder.root / "phantom");
  auto params = config::ParamSet::defaults();
  params.set("input.path", (folder.root / "phantom" / "raw").string(), "test");
  params.set("measure.enabled", "false", "test");
  const fs::path classical = runOf(params, folder.root / "classical");

  Session session(classical, folder.root / "studio");
  for (int z : {0, 2}) session.saveAnnotation(z, strokesFrom(session.labels(z)), 0);
  session.train({});
  const auto [modelFile, paramFile] = session.saveModel({});
  const auto model = learn::Classifier::load(modelFile);
  EXPECT_FALSE(model.presetChoiceText().empty()) << "the registry's learn.preset = auto was not used";
  const auto refine = learn::refinementFor(config::learnParamsFrom(session.parameters()), model);
  std::cout << model.presetChoiceText() << "auto's boundary refinement for this model: " << refine.bandPx << " px\n";

  Session classified(runOf(config::loadParameters(paramFile, {}), folder.root / "classified"), folder.root / "studio2");
  for (int z = 0; z < session.slices(); ++z) {
    const cv::Mat shown = session.predict(z, {}).labels;
    const cv::Mat written = classified.labels(z);
    ASSERT_EQ(shown.size(), written.size()) << "slice " << z;
    EXPECT_EQ(cv::countNonZero(shown != written), 0) << "slice " << z;
  }
}

}  // namespace
}  // namespace fibseg::studio
