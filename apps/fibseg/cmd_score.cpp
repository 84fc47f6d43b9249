// `fibseg score`: accuracy of a run against a phantom's truth: per-phase IoU, accuracy and phase
// fractions of the label volume; RMS and max registration error of the transforms.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/io/shift_table.hpp"
#include "fibseg/io/tiff.hpp"
#include "fibseg/measure/score.hpp"

namespace fibseg::cli {
namespace fs = std::filesystem;

namespace {
struct ScoreOptions {
  std::string run, phantom, labels, truth, transforms, truthShifts, json;
  std::vector<int> offset;       // x, y of the label volume in truth's frame
  std::vector<int> labelValues;  // grey levels used for pore, SE, CAM
};

cv::Point cropOffsetOf(const fs::path& runFolder) {
  std::ifstream in(runFolder / "run.json");
  if (!in) throw Error((runFolder / "run.json").string() + ": missing; give --offset X,Y instead");
  const auto run = nlohmann::json::parse(in, nullptr, false);
  if (run.is_discarded() || !run.contains("crop_in_slice0"))
    throw Error((runFolder / "run.json").string() + ": no crop_in_slice0 entry; give --offset X,Y");
  return {run["crop_in_slice0"]["x"].get<int>(), run["crop_in_slice0"]["y"].get<int>()};
}

void score(ScoreOptions o) {
  if (!o.run.empty()) {
    if (o.labels.empty()) o.labels = (fs::path(o.run) / "labels.tif").string();
    if (o.transforms.empty() && fs::exists(fs::path(o.run) / "transforms.csv"))
      o.transforms = (fs::path(o.run) / "transforms.csv").string();
  }
  if (!o.phantom.empty()) {
    if (o.truth.empty()) o.truth = (fs::path(o.phantom) / "truth_labels.tif").string();
    if (o.truthShifts.empty()) o.truthShifts = (fs::path(o.phantom) / "truth_shifts.csv").string();
  }
  nlohmann::json result;
  bool scored = false;
  if (!o.labels.empty() && !o.truth.empty()) {
    cv::Point offset(0, 0);
    if (o.offset.size() == 2) offset = {o.offset[0], o.offset[1]};
    else if (!o.run.empty()) offset = cropOffsetOf(o.run);
    const auto truthInfo = io::probeTiff(o.truth);
    const auto labelInfo = io::probeTiff(o.labels);
    if (labelInfo.pages != truthInfo.pages)
      throw Error(o.labels + ": " + std::to_string(labelInfo.pages) + " slices, truth " + o.truth + " has " +
                  std::to_string(truthInfo.pages));
    cv::Mat lut(1, 256, CV_8U, cv::Scalar(255));  // 255: not a phase -> the scorer names it
    for (int phase = 0; phase < 3; ++phase) lut.at<uchar>(o.labelValues.at(phase)) = uchar(phase);
    measure::SegmentationScorer scorer;
    for (int z = 0; z < truthInfo.pages; ++z) {
      cv::Mat labels = io::readTiffPage(o.labels, z);
      if (labels.type() != CV_8U) throw Error(o.labels + ": expected 8-bit labels");
      cv::LUT(labels, lut, labels);
      scorer.add(labels, io::readTiffPage(o.truth, z), offset);
    }
    const auto s = scorer.result();
    std::cout << measure::formatSegmentationScore(s);
    result["segmentation"] = {{"iou", {{"pore", s.iou[0]}, {"se", s.iou[1]}, {"cam", s.iou[2]}}},
                              {"mean_iou", s.meanIou},
                              {"accuracy", s.accuracy},
                              {"fraction_truth", s.fractionTruth},
                              {"fraction_segmented", s.fractionSegmented},
                              {"slices", s.slices},
                              {"offset", {offset.x, offset.y}}};
    scored = true;
  }
  if (!o.transforms.empty() && !o.truthShifts.empty()) {
    const auto s = measure::scoreShifts(io::readShiftTable(o.truthShifts), io::readShiftTable(o.transforms));
    std::cout << measure::formatShiftScore(s);
    result["registration"] = {{"rms_error_px", s.rmsError}, {"max_error_px", s.maxError}, {"slices", s.slices}};
    scored = true;
  }
  if (!scored)
    throw Error("nothing to score: give --labels and --truth, and/or --transforms and --truth-shifts "
                "(or --run OUTDIR --phantom PHANTOMDIR)");
  if (!o.json.empty()) writeTextFile(o.json, result.dump(2) + "\n");
}
}  // namespace

void scoreRunAgainstPhantom(const std::string& runFolder, const std::string& phantomFolder, const std::string& json) {
  ScoreOptions o;
  o.labelValues = {0, 1, 2};
  o.run = runFolder;
  o.phantom = phantomFolder;
  o.json = json;
  score(o);
}

void addScoreCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("score", "Compare a run's labels and transforms with a phantom's truth");
  auto o = std::make_shared<ScoreOptions>();
  o->labelValues = {0, 1, 2};
  cmd->add_option("--run", o->run, "Output folder of `fibseg run` (labels.tif, transforms.csv, run.json)");
  cmd->add_option("--phantom", o->phantom, "Folder written by `fibseg phantom` (truth_labels.tif, truth_shifts.csv)");
  cmd->add_option("--labels", o->labels, "Segmented label volume (3D TIFF)");
  cmd->add_option("--truth", o->truth, "Truth label volume (3D TIFF)");
  cmd->add_option("--offset", o->offset, "X,Y of the label volume in the truth's frame (default: run.json crop)")
      ->delimiter(',')->expected(2);
  cmd->add_option("--label-values", o->labelValues, "Grey levels of pore,SE,CAM in the label volume")
      ->delimiter(',')->expected(3)->capture_default_str();
  cmd->add_option("--transforms", o->transforms, "Estimated shifts (transforms.csv)");
  cmd->add_option("--truth-shifts", o->truthShifts, "True shifts (truth_shifts.csv)");
  cmd->add_option("--json", o->json, "Also write the scores as JSON here");
  cmd->callback([o] { score(*o); });
}

}  // namespace fibseg::cli
