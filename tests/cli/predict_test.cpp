// `fibseg predict` as a user runs it: a model trained with `fibseg train` on one phantom slice,
// applied to a file, a folder and a multi-page TIFF; and the errors for models and images that
// do not fit. Truth: the phantom's labels.
#include "cli/run_cli.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using testing::HasSubstr;

namespace {

using Result = fibseg::test::CliResult;
Result run(const std::string& arguments) { return fibseg::test::runCli(arguments); }

struct Folder : fibseg::test::TempFolder {
  Folder() : TempFolder("predict") {}
};

// Strokes every 7th pixel inside each phase eroded by 1 px: grey value phase + 1.
cv::Mat strokesOf(const cv::Mat& truth, int phases) {
  cv::Mat a = cv::Mat::zeros(truth.size(), CV_8U);
  for (int p = 0; p < phases; ++p) {
    cv::Mat inside;
    cv::erode(truth == p, inside, cv::Mat());
    for (int y = 0; y < a.rows; y += 2)
      for (int x = (y * 3) % 7; x < a.cols; x += 7)
        if (inside.at<uchar>(y, x)) a.at<uchar>(y, x) = static_cast<uchar>(p + 1);
  }
  return a;
}

double agreement(const cv::Mat& labels, const cv::Mat& truth) {
  return cv::countNonZero(labels == truth) / double(truth.total());
}

class Predict : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    folder_ = new Folder;
    const Folder& f = *folder_;
    const std::string still = " --drift-x 0 --drift-y 0 --random-walk 0 --data-bar-rows 0 --width 128 --height 96 --seed 4";
    ASSERT_EQ(run("phantom " + (f / "ph") + " --slices 3" + still).exitCode, 0);
    ASSERT_EQ(run("phantom " + (f / "ph16") + " --slices 1 --bit-depth 16" + still).exitCode, 0);
    ASSERT_EQ(run("phantom " + (f / "mp") + " --slices 3 --multi-page" + still).exitCode, 0);
    cv::imreadmulti(f / "ph/truth_labels.tif", truth_, cv::IMREAD_UNCHANGED);
    cv::imwrite(f / "strokes.png", strokesOf(truth_[0], 3));
    const auto trained = run("train --image " + (f / "ph/raw/slice_0000.tif") + " --annotation " + (f / "strokes.png") +
                             " --model " + (f / "model.json"));
    ASSERT_EQ(trained.exitCode, 0) << trained.output;
  }
  static void TearDownTestSuite() { delete folder_; }
  static Folder* folder_;
  static std::vector<cv::Mat> truth_;
};
Folder* Predict::folder_ = nullptr;
std::vector<cv::Mat> Predict::truth_;

}  // namespace

TEST_F(Predict, OneFileAFolderAndAMultiPageTiff) {
  const Folder& f = *folder_;
  const auto one = run("predict " + (f / "model.json") + " " + (f / "ph/raw/slice_0001.tif") + " --out " + (f / "one") +
                       " --probabilities");
  ASSERT_EQ(one.exitCode, 0) << one.output;
  const cv::Mat labels = cv::imread(f / "one/labels_0000.png", cv::IMREAD_UNCHANGED);
  ASSERT_EQ(labels.size(), truth_[1].size());
  EXPECT_GT(agreement(labels, truth_[1]), 0.9);
  const cv::Mat colour = cv::imread(f / "one/colour_0000.png", cv::IMREAD_COLOR);
  EXPECT_EQ(colour.at<cv::Vec3b>(0, 0),  // the model's phase colours (registry defaults), BGR
            labels.at<uchar>(0, 0) == 2 ? cv::Vec3b(239, 138, 98)
            : labels.at<uchar>(0, 0) == 1 ? cv::Vec3b(98, 138, 239) : cv::Vec3b(247, 247, 247));
  for (const char* p : {"pore", "se", "cam"}) EXPECT_TRUE(fs::exists(f / ("one/probability_" + std::string(p) + "_0000.png"))) << p;
  EXPECT_TRUE(fs::exists(f / "one/phase_fractions.csv"));

  const auto folder = run("predict " + (f / "model.json") + " " + (f / "ph/raw") + " --out " + (f / "folder"));
  ASSERT_EQ(folder.exitCode, 0) << folder.output;
  const auto pages = run("predict " + (f / "model.json") + " " + (f / "mp/raw.tif") + " --out " + (f / "pages"));
  ASSERT_EQ(pages.exitCode, 0) << pages.output;
  for (int z = 0; z < 3; ++z) {
    char name[32];
    std::snprintf(name, sizeof name, "/labels_%04d.png", z);
    const cv::Mat a = cv::imread(f / ("folder" + std::string(name)), cv::IMREAD_UNCHANGED);
    const cv::Mat b = cv::imread(f / ("pages" + std::string(name)), cv::IMREAD_UNCHANGED);
    EXPECT_GT(agreement(a, truth_[z]), 0.9) << z;
    EXPECT_EQ(cv::countNonZero(a != b), 0) << "the same slices as files and as pages, slice " << z;
  }
  EXPECT_THAT(run("predict " + (f / "model.json") + " " + (f / "ph/raw") + " --out " + (f / "folder")).output,
              HasSubstr("--overwrite"));
}

TEST_F(Predict, ModelOfOtherPhasesOtherBitDepthOrOtherDenoisingIsAnError) {
  const Folder& f = *folder_;
  const std::string model = f / "model.json";
  const auto phases = run("predict " + model + " " + (f / "ph/raw/slice_0001.tif") + " --out " + (f / "x") +
                          " --set 'phases.names=rest, particle' --set phases.values=0,1 --set 'phases.colours=0 0 9; 9 9 9'");
  EXPECT_NE(phases.exitCode, 0);
  EXPECT_THAT(phases.output, HasSubstr("trained on the phases pore, SE, CAM"));
  EXPECT_THAT(phases.output, HasSubstr("names rest, particle"));

  const auto depth = run("predict " + model + " " + (f / "ph16/raw/slice_0000.tif") + " --out " + (f / "x"));
  EXPECT_NE(depth.exitCode, 0);
  EXPECT_THAT(depth.output, HasSubstr("is 16-bit, but model"));
  EXPECT_THAT(depth.output, HasSubstr("--convert-bit-depth"));
  const auto converted = run("predict " + model + " " + (f / "ph16/raw/slice_0000.tif") + " --out " + (f / "x16") +
                             " --convert-bit-depth");
  EXPECT_EQ(converted.exitCode, 0) << converted.output;

  const auto denoise = run("predict " + model + " " + (f / "ph/raw/slice_0001.tif") + " --out " + (f / "x") +
                           " --set learn.denoise_input=true");
  EXPECT_NE(denoise.exitCode, 0);
  EXPECT_THAT(denoise.output, HasSubstr("denoised with 'none', but the parameters denoise with 'gaussian sigma=2 px'"));
}

TEST_F(Predict, TrainingNamesTheMissingPhaseAndRunRefusesOtherPhases) {
  const Folder& f = *folder_;
  cv::Mat noCam = strokesOf(truth_[0], 3);
  noCam.setTo(0, noCam == 3);
  cv::imwrite(f / "no_cam.png", noCam);
  const auto missing = run("train --image " + (f / "ph/raw/slice_0000.tif") + " --annotation " + (f / "no_cam.png") +
                           " --model " + (f / "m2.json"));
  EXPECT_NE(missing.exitCode, 0);
  EXPECT_THAT(missing.output, HasSubstr("no pixels of CAM"));

  // Four phases with segment.method = otsu: the classical path makes three.
  std::ofstream(f / "four.toml") << "[input]\npath = \"" << (f / "ph/raw") << "\"\n[output]\nfolder = \"" << (f / "out4")
                                 << "\"\n[phases]\nnames = \"pore, SE, CAM, carbon\"\nvalues = [0, 1, 2, 3]\n"
                                    "colours = \"1 1 1; 2 2 2; 3 3 3; 4 4 4\"\n";
  const auto classical = run("run " + (f / "four.toml"));
  EXPECT_NE(classical.exitCode, 0);
  EXPECT_THAT(classical.output, HasSubstr("the classical path makes exactly the phases pore, SE, CAM"));

  // The same with the three-phase model: the model's phases and the run's differ.
  const auto model = run("run " + (f / "four.toml") + " --set segment.method=classifier --set learn.model=" + (f / "model.json"));
  EXPECT_NE(model.exitCode, 0);
  EXPECT_THAT(model.output, HasSubstr("trained on the phases pore, SE, CAM, but phases.names names pore, SE, CAM, carbon"));
}

TEST_F(Predict, TwoPhaseRunWritesItsPhasesEverywhere) {
  const Folder& f = *folder_;
  cv::Mat particle = (truth_[0] == 2) / 255;  // CAM vs the rest
  cv::imwrite(f / "two.png", strokesOf(particle, 2));
  const std::string phases = " --set 'phases.names=rest, particle' --set phases.values=0,255"
                             " --set 'phases.colours=200 200 200; 98 138 239'";
  const auto trained = run("train --image " + (f / "ph/raw/slice_0000.tif") + " --annotation " + (f / "two.png") +
                           " --model " + (f / "two.json") + phases);
  ASSERT_EQ(trained.exitCode, 0) << trained.output;
  std::ofstream(f / "two.toml") << "[input]\npath = \"" << (f / "ph/raw") << "\"\n[output]\nfolder = \"" << (f / "out2")
                                << "\"\n[measure]\ntortuosity = false\nsizes = false\n";
  const auto ran = run("run " + (f / "two.toml") + " --set segment.method=classifier --set learn.model=" +
                       (f / "two.json") + " --set learn.probabilities=true" + phases);
  ASSERT_EQ(ran.exitCode, 0) << ran.output;
  std::ifstream csv(f / "out2/phase_fractions.csv");
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header, "slice,rest,particle");
  EXPECT_TRUE(fs::exists(f / "out2/probability_particle.tif"));
  EXPECT_TRUE(fs::exists(f / "out2/report.html"));
  std::ifstream runJson(f / "out2/run.json");
  const std::string text((std::istreambuf_iterator<char>(runJson)), std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr("\"particle\""));
  const cv::Mat labels = cv::imread(f / "out2/segmented/labels_0001.png", cv::IMREAD_UNCHANGED);
  ASSERT_FALSE(labels.empty());
  EXPECT_EQ(cv::countNonZero((labels != 0) & (labels != 255)), 0);  // only the two phase values
  EXPECT_GT(cv::countNonZero(labels == 255), 0.3 * labels.total());
  std::ifstream report(f / "out2/report.html");
  const std::string html((std::istreambuf_iterator<char>(report)), std::istreambuf_iterator<char>());
  EXPECT_THAT(html, HasSubstr("particle <b>"));
}

// learn.z_context: `fibseg train --stack` reads the annotated slice's neighbours from the stack,
// `fibseg predict` and `fibseg run` give each slice its neighbours, and a single image is refused.
TEST_F(Predict, ZContextModelTrainsOnAStackAndPredictsStacksButNotSingleImages) {
  const Folder& f = *folder_;
  cv::imwrite(f / "strokes1.png", strokesOf(truth_[1], 3));
  const std::string z = " --set learn.z_context=above_below";
  const auto withImage = run("train --image " + (f / "ph/raw/slice_0001.tif") + " --annotation " +
                             (f / "strokes1.png") + " --model " + (f / "z.json") + z);
  EXPECT_NE(withImage.exitCode, 0);
  EXPECT_THAT(withImage.output, HasSubstr("expected --stack aligned.tif with --slice N per annotation"));
  const auto trained = run("train --stack " + (f / "mp/raw.tif") + " --slice 1 --annotation " + (f / "strokes1.png") +
                           " --model " + (f / "z.json") + z);
  ASSERT_EQ(trained.exitCode, 0) << trained.output;
  const auto stack = run("predict " + (f / "z.json") + " " + (f / "mp/raw.tif") + " --out " + (f / "zstack"));
  ASSERT_EQ(stack.exitCode, 0) << stack.output;
  for (int page = 0; page < 3; ++page) {  // pages 0 and 2 have one neighbour only
    const cv::Mat labels = cv::imread(f / ("zstack/labels_000" + std::to_string(page) + ".png"), cv::IMREAD_UNCHANGED);
    ASSERT_EQ(labels.size(), truth_[page].size());
    EXPECT_GT(agreement(labels, truth_[page]), 0.9) << "page " << page;
  }
  const auto single = run("predict " + (f / "z.json") + " " + (f / "ph/raw/slice_0001.tif") + " --out " + (f / "zone"));
  EXPECT_NE(single.exitCode, 0);
  EXPECT_THAT(single.output, HasSubstr("learn.z_context = above_below: it needs each slice's aligned neighbours"));
  std::ofstream(f / "z.toml") << "[input]\npath = \"" << (f / "ph/raw") << "\"\n[output]\nfolder = \"" << (f / "outz")
                              << "\"\n";
  // learn.preset = manual compares every feature parameter (auto accepts the model's z context).
  const auto flatRun = run("run " + (f / "z.toml") + " --set segment.method=classifier --set learn.model=" + (f / "z.json") +
                           " --set learn.preset=manual");
  EXPECT_NE(flatRun.exitCode, 0);
  EXPECT_THAT(flatRun.output, HasSubstr("learn.z_context: model above_below, configuration none"));
  const auto ran = run("run " + (f / "z.toml") + " --set segment.method=classifier --set learn.model=" + (f / "z.json") + z);
  ASSERT_EQ(ran.exitCode, 0) << ran.output;
  EXPECT_TRUE(fs::exists(f / "outz/labels.tif"));
  // learn.refine_band in a run (the stack predicted in order, boundaries refined after): only
  // pixels near boundaries change.
  const auto refined = run("run " + (f / "z.toml") + " --set segment.method=classifier --set learn.model=" +
                           (f / "z.json") + z + " --set learn.refine_band=2 --set output.folder=" + (f / "outz2"));
  ASSERT_EQ(refined.exitCode, 0) << refined.output;
  std::vector<cv::Mat> plain, moved;
  ASSERT_TRUE(cv::imreadmulti(f / "outz/labels.tif", plain, cv::IMREAD_UNCHANGED));
  ASSERT_TRUE(cv::imreadmulti(f / "outz2/labels.tif", moved, cv::IMREAD_UNCHANGED));
  ASSERT_EQ(plain.size(), moved.size());
  double changed = 0, total = 0;
  for (std::size_t z = 0; z < plain.size(); ++z) changed += cv::countNonZero(plain[z] != moved[z]), total += plain[z].total();
  EXPECT_GT(changed, 0);
  EXPECT_LT(changed / total, 0.2);
}

// Auto-context and rank features through the command line: train records both stages in the
// model file, predict applies them (the labels still match the phantom's truth), and a run whose
// configuration asks for one stage refuses the two-stage model, naming the parameter.
TEST_F(Predict, AutoContextModelKeepsItsTwoStagesThroughTrainPredictAndRun) {
  const Folder& f = *folder_;
  cv::imwrite(f / "strokes1ac.png", strokesOf(truth_[1], 3));
  // learn.preset = manual: exactly these settings (auto would choose auto-context itself).
  const std::string ac = " --set learn.auto_context_scales=2,4 --set learn.rank_features=true --set learn.preset=manual";
  const auto trained = run("train --image " + (f / "ph/raw/slice_0001.tif") + " --annotation " + (f / "strokes1ac.png") +
                           " --model " + (f / "ac.json") + ac);
  ASSERT_EQ(trained.exitCode, 0) << trained.output;
  const auto doc = fibseg::test::readJson(f / "ac.json");
  EXPECT_TRUE(doc.contains("xgboost_stage2"));
  EXPECT_EQ(doc["feature_spec"]["auto_context_scales"], nlohmann::json::array({2, 4}));
  EXPECT_EQ(doc["feature_spec"]["rank_features"], true);
  const auto predicted = run("predict " + (f / "ac.json") + " " + (f / "ph/raw/slice_0002.tif") + " --out " + (f / "ac"));
  ASSERT_EQ(predicted.exitCode, 0) << predicted.output;
  const cv::Mat labels = cv::imread(f / "ac/labels_0000.png", cv::IMREAD_UNCHANGED);
  ASSERT_EQ(labels.size(), truth_[2].size());
  EXPECT_GT(agreement(labels, truth_[2]), 0.9);
  std::ofstream(f / "ac.toml") << "[input]\npath = \"" << (f / "ph/raw") << "\"\n[output]\nfolder = \"" << (f / "outac")
                               << "\"\n";
  const auto oneStage = run("run " + (f / "ac.toml") + " --set segment.method=classifier --set learn.model=" +
                            (f / "ac.json") + " --set learn.rank_features=true --set learn.preset=manual");
  EXPECT_NE(oneStage.exitCode, 0);
  EXPECT_THAT(oneStage.output, HasSubstr("learn.auto_context_scales: model [2, 4], configuration []"));
  const auto ran = run("run " + (f / "ac.toml") + " --set segment.method=classifier --set learn.model=" + (f / "ac.json") + ac);
  ASSERT_EQ(ran.exitCode, 0) << ran.output;
  EXPECT_TRUE(fs::exists(f / "outac/labels.tif"));
}

// learn.preset = auto (the default) prints its cross-validated table; predict --uncertainty writes
// the entropy map, consistent with the probabilities written beside it.
TEST_F(Predict, AutoPresetPrintsItsTableAndPredictWritesTheUncertainty) {
  const Folder& f = *folder_;
  const auto trained = run("train --image " + (f / "ph/raw/slice_0000.tif") + " --annotation " + (f / "strokes.png") +
                           " --model " + (f / "auto.json"));
  ASSERT_EQ(trained.exitCode, 0) << trained.output;
  EXPECT_THAT(trained.output, HasSubstr("learn.preset = auto, cross-validated IoU on held-out strokes (3 folds of "
                                        "connected strokes on the one slice)"));
  EXPECT_THAT(trained.output, HasSubstr("bank, training grey + auto-context"));
  EXPECT_TRUE(fibseg::test::readJson(f / "auto.json")["training"]["preset"].contains("table"));
  // fibseg run takes the model's choice (whatever learn.normalisation says) and records the table.
  std::ofstream(f / "auto.toml") << "[input]\npath = \"" << (f / "ph/raw") << "\"\n[output]\nfolder = \""
                                 << (f / "outauto") << "\"\n";
  const auto ran = run("run " + (f / "auto.toml") + " --set segment.method=classifier --set learn.model=" +
                       (f / "auto.json") + " --set learn.normalisation=fixed");
  ASSERT_EQ(ran.exitCode, 0) << ran.output;
  EXPECT_THAT(fibseg::test::readJson(f / "outauto/run.json")["classifier_preset"].get<std::string>(),
              HasSubstr("cross-validated IoU"));
  const auto u = run("predict " + (f / "auto.json") + " " + (f / "ph/raw/slice_0001.tif") + " --out " + (f / "unsure") +
                     " --uncertainty --probabilities");
  ASSERT_EQ(u.exitCode, 0) << u.output;
  EXPECT_THAT(u.output, HasSubstr("mean uncertainty"));
  const cv::Mat map = cv::imread(f / "unsure/uncertainty_0000.png", cv::IMREAD_UNCHANGED);
  ASSERT_EQ(map.size(), truth_[1].size());
  std::vector<cv::Mat> p;
  for (const char* phase : {"pore", "se", "cam"}) {
    cv::Mat q;
    cv::imread(f / ("unsure/probability_" + std::string(phase) + "_0000.png"), cv::IMREAD_UNCHANGED).convertTo(q, CV_32F, 1 / 255.0);
    p.push_back(q);
  }
  // Entropy / log 3 is at most 0.21 (54 / 255) where one phase has >= 0.95, at least 0.55 (141)
  // where none has 0.7 (PNG rounding aside).
  int checked = 0;
  for (int y = 0; y < map.rows; ++y)
    for (int x = 0; x < map.cols; ++x) {
      const float top = std::max({p[0].at<float>(y, x), p[1].at<float>(y, x), p[2].at<float>(y, x)});
      if (top >= 0.95f) {
        EXPECT_LE(map.at<uchar>(y, x), 60) << x << "," << y;
        ++checked;
      }
      if (top < 0.69f) {
        EXPECT_GE(map.at<uchar>(y, x), 120) << x << "," << y;
        ++checked;
      }
    }
  EXPECT_GT(checked, 5000);
}

// output.uncertainty_pngs: `fibseg run` writes segmented/uncertainty_NNNN.png for every slice (the
// entropy of the probabilities written beside them, over log 3), uncertainty_regions.csv with the
// least certain windows of the first, middle and last slice (their means read back from the PNGs),
// and the report shows them. Asked of a classical run it is an error naming the parameter.
TEST_F(Predict, RunWritesUncertaintyPngsAndTheReportShowsTheLeastCertainRegions) {
  const Folder& f = *folder_;
  std::ofstream(f / "unsure.toml") << "[input]\npath = \"" << (f / "ph/raw") << "\"\n[output]\nfolder = \""
                                   << (f / "outunsure") << "\"\n";
  const auto ran = run("run " + (f / "unsure.toml") + " --set segment.method=classifier --set learn.model=" +
                       (f / "model.json") + " --set output.uncertainty_pngs=true --set learn.probabilities=true");
  ASSERT_EQ(ran.exitCode, 0) << ran.output;
  std::vector<std::vector<cv::Mat>> probability(3);
  const char* keys[] = {"pore", "se", "cam"};
  for (int p = 0; p < 3; ++p)
    ASSERT_TRUE(cv::imreadmulti(f / ("outunsure/probability_" + std::string(keys[p]) + ".tif"), probability[p],
                                cv::IMREAD_UNCHANGED));
  std::vector<cv::Mat> maps;
  for (int z = 0; z < 3; ++z) {
    char name[64];
    std::snprintf(name, sizeof name, "outunsure/segmented/uncertainty_%04d.png", z);
    maps.push_back(cv::imread(f / name, cv::IMREAD_UNCHANGED));
    ASSERT_FALSE(maps.back().empty()) << name;
    ASSERT_EQ(maps.back().size(), probability[0][z].size());
    // Entropy over log 3 from the 8-bit probabilities: the map within 4 grey levels of it.
    int far = 0;
    for (int y = 0; y < maps[z].rows; ++y)
      for (int x = 0; x < maps[z].cols; ++x) {
        double h = 0;
        for (int p = 0; p < 3; ++p) {
          const double q = probability[p][z].at<uchar>(y, x) / 255.0;
          if (q > 0) h -= q * std::log(q);
        }
        far += std::abs(255 * h / std::log(3.0) - maps[z].at<uchar>(y, x)) > 4;
      }
    EXPECT_LT(far, int(maps[z].total() / 100)) << "slice " << z;
  }
  std::ifstream csv(f / "outunsure/uncertainty_regions.csv");
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line, "slice,rank,x,y,width,height,mean_uncertainty,slice_mean_uncertainty");
  std::map<int, std::vector<double>> meansOf;
  while (std::getline(csv, line)) {
    int z, rank, x, y, w, h;
    double mean, sliceMean;
    ASSERT_EQ(std::sscanf(line.c_str(), "%d,%d,%d,%d,%d,%d,%lf,%lf", &z, &rank, &x, &y, &w, &h, &mean, &sliceMean), 8) << line;
    EXPECT_NEAR(cv::mean(maps.at(z)(cv::Rect(x, y, w, h)))[0] / 255, mean, 0.01) << line;
    EXPECT_NEAR(cv::mean(maps.at(z))[0] / 255, sliceMean, 0.01) << line;
    EXPECT_GE(mean, sliceMean) << line;
    meansOf[z].push_back(mean);
  }
  ASSERT_EQ(meansOf.size(), 3u);  // slices 0, 1 (the middle) and 2
  for (const auto& [z, means] : meansOf) {
    EXPECT_EQ(means.size(), 3u);
    EXPECT_TRUE(std::is_sorted(means.rbegin(), means.rend())) << "slice " << z;
  }
  const std::string html = fibseg::test::readFile(f / "outunsure/report.html");
  EXPECT_THAT(html, HasSubstr("Where the classifier is least sure"));
  EXPECT_THAT(html, HasSubstr("id=\"uncertainty-regions\""));
  for (const char* id : {"uncertainty-0", "uncertainty-1", "uncertainty-2"}) EXPECT_THAT(html, HasSubstr(id));

  const auto classical = run("run " + (f / "unsure.toml") + " --set output.uncertainty_pngs=true --overwrite");
  EXPECT_NE(classical.exitCode, 0);
  EXPECT_THAT(classical.output, HasSubstr("output.uncertainty_pngs = true"));
  EXPECT_THAT(classical.output, HasSubstr("expected segment.method = classifier"));
}
