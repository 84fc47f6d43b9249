// `fibseg score`: accuracy of a run against a phantom's truth: per-phase IoU, accuracy and phase
// fractions of the label volume; RMS and max registration error of the transforms.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/io/png.hpp"
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
  std::string masks;             // folder of binary masks in each slice's raw frame
  int maskValue = 1, phase = 2;
};

cv::Point cropOffsetOf(const fs::path& runFolder) {
  std::ifstream in(runFolder / "run.json");
  if (!in) throw Error((runFolder / "run.json").string() + ": missing; give --offset X,Y instead");
  const auto run = nlohmann::json::parse(in, nullptr, false);
  if (run.is_discarded() || !run.contains("crop_in_slice0"))
    throw Error((runFolder / "run.json").string() + ": no crop_in_slice0 entry; give --offset X,Y");
  return {run["crop_in_slice0"]["x"].get<int>(), run["crop_in_slice0"]["y"].get<int>()};
}

// Slice names (transforms.csv's name column), in slice order.
std::vector<std::string> sliceNamesOf(const fs::path& transforms) {
  std::ifstream in(transforms);
  std::string line;
  if (!in || !std::getline(in, line)) throw Error(transforms.string() + ": missing or empty");
  std::vector<std::string> header;
  for (std::stringstream h(line); std::getline(h, line, ',');) header.push_back(line);
  const auto column = std::find(header.begin(), header.end(), "name") - header.begin();
  if (column == std::ptrdiff_t(header.size())) throw Error(transforms.string() + ": no 'name' column");
  std::vector<std::string> names;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    for (std::stringstream c(line); std::getline(c, line, ',');) cells.push_back(line);
    if (std::ptrdiff_t(cells.size()) <= column) throw Error(transforms.string() + ": a row with too few columns");
    std::string name = cells[column];
    if (name.size() >= 2 && name.front() == '"') name = name.substr(1, name.size() - 2);
    names.push_back(name);
  }
  return names;
}

// Maps each slice's labels back to its raw frame (run.json's crop, transforms.csv's shifts) and
// scores one phase against the binary masks drawn there; slices without a mask are skipped.
void scoreAgainstMasks(const ScoreOptions& o, nlohmann::json& result) {
  if (o.run.empty()) throw Error("--masks needs --run OUTDIR (labels.tif, transforms.csv, run.json)");
  const fs::path run(o.run);
  const cv::Point crop = cropOffsetOf(run);
  const auto shifts = io::readShiftTable(run / "transforms.csv");
  const auto names = sliceNamesOf(run / "transforms.csv");
  const fs::path labelsPath = o.labels.empty() ? run / "labels.tif" : fs::path(o.labels);
  const auto info = io::probeTiff(labelsPath);
  if (info.pages != int(shifts.size()))
    throw Error(labelsPath.string() + ": " + std::to_string(info.pages) + " slices, transforms.csv has " +
                std::to_string(shifts.size()));
  nlohmann::json perSlice = nlohmann::json::array();
  double sumIou = 0;
  long long intersection = 0, unionPixels = 0, counted = 0, outside = 0;
  int scored = 0;
  for (int z = 0; z < info.pages; ++z) {
    const fs::path maskPath = fs::path(o.masks) / fs::path(names[z]).replace_extension(".png").filename();
    if (!fs::exists(maskPath)) continue;
    const cv::Mat mask = io::readPngAsStored(maskPath);
    const auto overlap = measure::overlapWithRawMask(io::readTiffPage(labelsPath, z), o.phase, mask, o.maskValue,
                                                     cv::Point2d(crop) + shifts[z], maskPath.string());
    std::printf("slice %d %s: IoU %.4f (%lld px compared, %lld outside the aligned output)\n", z,
                maskPath.filename().c_str(), overlap.iou(), overlap.counted, overlap.outside);
    perSlice.push_back({{"slice", z}, {"mask", maskPath.filename().string()}, {"iou", overlap.iou()},
                        {"pixels", overlap.counted}, {"outside", overlap.outside}});
    sumIou += overlap.iou(), ++scored;
    intersection += overlap.intersection, unionPixels += overlap.unionPixels;
    counted += overlap.counted, outside += overlap.outside;
  }
  if (scored == 0) throw Error(o.masks + ": no mask named like a slice (" + (names.empty() ? "" : names[0]) + " -> .png)");
  const double mean = sumIou / scored, pooled = unionPixels > 0 ? double(intersection) / unionPixels : 0.0;
  std::printf("label %d vs mask value %d: mean IoU %.4f over %d slices (pooled %.4f); %lld px compared, %lld "
              "outside the aligned output (%.1f%%) not counted\n", o.phase, o.maskValue, mean, scored, pooled,
              counted, outside, 100.0 * outside / std::max(1LL, counted + outside));
  result["masks"] = {{"phase", o.phase}, {"mask_value", o.maskValue}, {"mean_iou", mean}, {"pooled_iou", pooled},
                     {"slices", scored}, {"pixels", counted}, {"outside", outside}, {"per_slice", perSlice}};
}

void score(ScoreOptions o) {
  nlohmann::json maskResult;
  if (!o.masks.empty()) {
    scoreAgainstMasks(o, maskResult);
    if (!o.json.empty()) writeTextFile(o.json, maskResult.dump(2) + "\n");
    return;
  }
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
  auto* cmd = app.add_subcommand("score", "Compare a run's labels and transforms with a phantom's truth, or one "
                                          "phase with masks drawn on the raw slices (--masks)");
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
  cmd->add_option("--masks", o->masks,
                  "Folder of binary mask PNGs drawn on the raw slices (named like the slices): with --run, "
                  "scores one phase per slice in each slice's raw frame");
  cmd->add_option("--mask-value", o->maskValue, "With --masks: the mask's value for the phase")->capture_default_str();
  cmd->add_option("--phase", o->phase, "With --masks: the label value scored")->capture_default_str();
  cmd->add_option("--json", o->json, "Also write the scores as JSON here");
  cmd->callback([o] { score(*o); });
}

}  // namespace fibseg::cli
