#pragma once
// What the studio shows and edits: one run folder of `fibseg run` (its aligned, corrected stack,
// labels, parameters and input slices) and the studio's own folder of annotations, models and
// parameter files. Every computation is a call to the stage functions the CLI calls (segment,
// tune, learn, pipeline); this class only reads, caches and writes files.
#include <opencv2/core.hpp>

#include <filesystem>
#include <functional>
#include <stdexcept>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fibseg/config/param_set.hpp"
#include "fibseg/core/phases.hpp"
#include "fibseg/intensity/denoise.hpp"
#include "fibseg/learn/learn.hpp"
#include "fibseg/segment/tune.hpp"

namespace fibseg::pipeline {
class RunCorrectedSlices;
}

namespace fibseg::studio {

/// Parameter values the page changed: "section.key" -> the value as typed.
using Overrides = std::map<std::string, std::string>;

/// A save of an annotation made from a revision that is no longer the current one (another tab
/// saved the slice in between): refused, nothing written.
struct StaleRevision : std::runtime_error {
  StaleRevision(int current) : std::runtime_error("stale revision"), current(current) {}
  int current;
};

struct Annotation {
  cv::Mat codes;     // CV_8U: 0 unpainted, phase index + 1 (the `fibseg train` grey format)
  int revision = 0;  // 0 = never saved
};

struct ClassicalPreview {
  cv::Mat labels;                  // phase indices 0 pore, 1 SE, 2 CAM
  std::vector<double> fractions;   // per phase, as phase_fractions.csv
  int camThreshold = 0;            // the threshold used (Otsu + segment.otsu_offset)
};

struct PredictionView {
  cv::Mat labels;        // phase indices
  cv::Mat probability;   // CV_8U: the highest phase probability x 255
  // CV_8U: 255 x (1 - (p_first - p_second)), the margin between the two likeliest phases: high
  // where the classifier hesitates. Computed here from predict's probabilities until learn/
  // builds its own uncertainty map (issue 25).
  cv::Mat uncertainty;
};

class Session {
 public:
  /// Opens a completed run folder (run.json, parameters_used.toml, cache/corrected.json and its grey stack) and the
  /// studio's folder (created when first written; default RUN/studio). Throws naming what is missing.
  Session(std::filesystem::path runFolder, std::filesystem::path studioFolder);

  const std::filesystem::path& runFolder() const { return runFolder_; }
  const std::filesystem::path& studioFolder() const { return studioFolder_; }
  int slices() const { return slices_; }
  cv::Size size() const { return size_; }
  int bitDepth() const { return bitDepth_; }
  bool hasRaw() const { return rawSlices_ > 0; }
  int rawSlices() const { return rawSlices_; }
  /// The run's parameters (parameters_used.toml) with `overrides` applied (origin "studio").
  config::ParamSet parameters(const Overrides& overrides = {}) const;
  PhaseSet phases() const;

  /// The aligned, corrected slice z (what segmentation and the classifier see).
  cv::Mat slice(int z);
  /// Slice z of the input as read (data bar and all).
  cv::Mat rawSlice(int z);
  /// The run's labels of slice z as phase indices (labels.tif), or empty when the run wrote none.
  cv::Mat labels(int z);
  /// The grey re-slice through the stack at row y ("xz": z rows x width) or column x ("yz": z rows
  /// x height). Throws when the stack is too large to hold in memory for it.
  cv::Mat reslice(const std::string& axis, int position);

  Annotation annotation(int z);
  /// Slices with a saved annotation.
  std::vector<int> annotatedSlices();
  /// Saves slice z's strokes (an all-zero image removes them) when `fromRevision` is the current
  /// revision; returns the new one. Throws StaleRevision otherwise.
  int saveAnnotation(int z, const cv::Mat& codes, int fromRevision);

  /// The classical path on slice z exactly as `fibseg run` does with these parameters.
  ClassicalPreview classical(int z, const Overrides& overrides);
  /// `fibseg tune` on slice z's strokes (phases pore, SE, CAM only), CAM threshold as the preview's.
  segment::TuneResult tune(int z, const Overrides& overrides);
  /// `fibseg train --stack cache/corrected.tif (written by `fibseg corrected`) --slice z... --annotation ...` on every annotated
  /// slice; the model is kept for predict() and saveModel().
  void train(const Overrides& overrides);
  bool hasModel() const;
  PredictionView predict(int z, const Overrides& overrides);
  /// Writes the model and a parameter file that runs it (segment.method = classifier) into the
  /// studio folder; returns their paths.
  std::pair<std::filesystem::path, std::filesystem::path> saveModel(const Overrides& overrides);
  /// Writes the parameter file for a run (studio/params.toml) and returns it with the parameters.
  std::pair<std::filesystem::path, config::ParamSet> saveParameters(const Overrides& overrides);
  /// Forgets cached slices and labels (after a run replaced them).
  void reload();

 private:
  cv::Mat cached(std::map<int, cv::Mat>& cache, int z, const std::function<cv::Mat()>& read);
  /// Slice z's neighbours above and below, denoised, when `wanted` (z context); else none.
  std::vector<cv::Mat> neighboursOf(int z, bool wanted, const intensity::DenoiseParams& denoise);
  void writeIndex();

  std::filesystem::path runFolder_, studioFolder_, parameterFile_;
  std::optional<config::ParamSet> parameters_;  // parameters_used.toml, read once
  std::shared_ptr<const pipeline::RunCorrectedSlices> corrected_;  // the run's slices as segmented
  // The last slice denoised for the classical preview (slider moves keep the slice and denoising).
  int denoisedZ_ = -1;
  std::string denoisedWith_;
  cv::Mat denoised_;
  int slices_ = 0, rawSlices_ = 0, bitDepth_ = 8;
  cv::Size size_;
  mutable std::mutex mutex_;        // caches, annotations, model
  std::mutex annotationMutex_;      // one annotation save at a time (revision check + write)
  std::map<int, cv::Mat> slices_cache_, labels_cache_, raw_cache_;
  std::map<int, Annotation> annotations_;
  std::shared_ptr<const learn::Classifier> model_;
  Overrides modelOverrides_;        // the parameters the model was trained with
};

}  // namespace fibseg::studio
