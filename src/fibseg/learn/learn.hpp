#pragma once
// Trained pixel classifier: when grey-level thresholds cannot separate the phases, a user paints a
// few strokes of each phase on some slices; every pixel is described by a multi-scale filter bank
// (optionally plus a CNN's feature maps) and a gradient-boosted tree ensemble (XGBoost) learns
// phase from those features. The model file carries the feature specification it was trained with.
#include <opencv2/core.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fibseg/core/phases.hpp"

namespace fibseg::learn {

/// Which features describe a pixel. Saved inside every model file: a model only works with the
/// features it was trained on.
struct FeatureSpec {
  // Gaussian scales (sigma, px). At each scale: smoothed grey, difference of Gaussians (sigma vs
  // 1.6 sigma), Laplacian of Gaussian, gradient magnitude, the two Hessian eigenvalues, the two
  // structure-tensor eigenvalues (integration scale 2 sigma), local mean and local variance.
  std::vector<double> scales;
  // Gabor bank: wavelengths (px) x orientations, each an energy (|even + i odd|) response.
  std::vector<double> gaborWavelengths;
  int gaborOrientations;
  // "training": the 1st..99th grey percentile of all training slices together is mapped to 0..1,
  // the same mapping for every slice predicted (kept in the model as greyRange); "fixed": grey /
  // largest grey value of the bit depth; "percentile": each slice's own 1st..99th percentile
  // (follows the slice's phase proportions: a slice with more bright phase is mapped darker).
  std::string normalisation;
  // With "training": the grey values mapped to 0 and 1, set by Classifier::train. Unset (equal)
  // before training: the bit depth's range stands in (as "fixed").
  double greyLow = 0, greyHigh = 0;
  // Optional ONNX model (empty = none): input 1x1xHxW float (the normalised slice), output
  // 1xKxhxw feature maps, resized to the slice and appended. The digest identifies the file's
  // content (so a moved file still matches, an edited one does not); channels = K.
  std::string cnnModel;
  std::string cnnModelDigest;
  int cnnChannels;
  // Context from the neighbouring aligned slices (z-1 and z+1). "none"; "above_below": the bank
  // (scales and Gabor, no CNN) computed once more on each neighbour, each normalised on its own,
  // plus each neighbour's change from the slice (grey and smoothed grey at every scale), named
  // "z-1 ..." and "z+1 ..."; "neighbours": the same on the mean of the two ("z-neighbours ...");
  // "changes": only each neighbour's change from the slice (2 x (1 + scales) features; what
  // learn.preset = auto tries).
  // A phase is a 3D body: where one slice is ambiguous (noise, a particle seen through a pore
  // against one cut by the plane), the slices above and below often are not. A model trained with
  // it needs the neighbours to predict.
  std::string zContext = "none";
  // Rank features (as Fiji's Trainable Weka Segmentation has them): at each scale the grey
  // maximum, minimum and median in the same (4s+1)^2 window as the local mean and variance, named
  // "maximum s=..", "minimum s=..", "median s=..", after the Gabor features. A maximum says "a
  // bright body within r px", which smoothed features blur to mid-grey at a body's rim.
  bool rankFeatures = false;
  // Auto-context (ilastik's two-stage classification), empty = one stage: a second model is
  // trained on the same strokes with every feature above plus the first model's probability of
  // each phase, raw and smoothed at these Gaussian scales (px). The first stage's answer around a
  // pixel (a particle's interior 5 px away) then describes the pixel too. With two or more
  // annotated slices, the probabilities a slice's strokes are trained on come from a first
  // stage trained on the other slices (leave-one-slice-out), as they will on unseen slices.
  std::vector<double> autoContextScales = {};
  // With auto-context: the first stage classifies every autoContextStep-th pixel of every
  // autoContextStep-th row only, its probabilities are smoothed on that grid (sigma / step) and
  // interpolated (bilinear) back to every pixel. 1 = every pixel (models from before it). The
  // context features are smoothed over >= 1 px anyway, and the first stage's trees are then
  // walked for a quarter of the pixels (step 2): the second stage's answer costs little more than
  // one stage's. A property of the trained model (its second stage learnt on these features),
  // not compared with the configuration.
  int autoContextStep = 1;
};

/// Feature names in column order ("gaussian s=1.6", "gabor l=4 o=45", "cnn 3"); their count is
/// the number of features per pixel.
std::vector<std::string> featureNames(const FeatureSpec& spec);
/// The second stage's extra features when spec.autoContextScales is set (none otherwise): per
/// phase "stage 1 p(<phase>)" then "stage 1 p(<phase>) s=<scale>" per scale; the second stage
/// sees featureNames(spec) followed by these.
std::vector<std::string> autoContextFeatureNames(const FeatureSpec& spec, const std::vector<std::string>& phases);
std::string featureSpecToJson(const FeatureSpec& spec);
/// Throws naming `where` when the JSON is not a feature specification.
FeatureSpec featureSpecFromJson(const std::string& json, const std::string& where);
/// Empty if equal for classification purposes (cnnModel path ignored, digest compared);
/// otherwise one line per difference, for error messages.
std::string describeFeatureDifferences(const FeatureSpec& model, const FeatureSpec& wanted);

/// Fills cnnModelDigest and cnnChannels of `spec` from the ONNX file `spec.cnnModel` (no-op when
/// empty). Throws naming the file if it cannot be read or run by OpenCV's dnn module.
void resolveCnnModel(FeatureSpec& spec);

/// The bank's features of a whole slice (CV_8U or CV_16U): one CV_32F plane per feature name,
/// same size as the slice. CNN features need `spec` resolved (see resolveCnnModel).
std::vector<cv::Mat> computeFeatures(const cv::Mat& slice, const FeatureSpec& spec);
/// The same with the slice's aligned neighbours (z-1 and/or z+1, same size and type as `slice`):
/// needed when spec.zContext is not "none" (one neighbour at the ends of a stack; none is an
/// error naming what is missing), ignored otherwise.
std::vector<cv::Mat> computeFeatures(const cv::Mat& slice, const std::vector<cv::Mat>& neighbours,
                                     const FeatureSpec& spec);

struct TrainingParams {
  int rounds;               // boosting rounds (trees per phase)
  int maxDepth;             // depth of each tree
  double learningRate;      // shrinkage per round
  int samplesPerPhase;      // at most this many labelled pixels per phase (random subset)
  unsigned seed;            // sampling and XGBoost seed: training is reproducible
  // Auto-context trained on one annotated slice: 0 = the first stage's answer on its own strokes
  // gives the second stage's features (in-sample); k >= 2 = the slice's connected strokes are
  // dealt to k folds (detail::strokeFolds) and each fold's features come from a first stage
  // trained on the other folds, as they will come from a first stage that never saw the pixels
  // predicted (learn.stacking_folds; auto's cross-validation folds: learn.cv_stacking_folds).
  int strokeStackingFolds = 0;
};

/// One annotated slice: annotation is CV_8U with 0 unlabelled and i + 1 for phase i of the
/// phases trained (1 pore, 2 SE, 3 CAM with the default three).
struct AnnotatedSlice {
  cv::Mat slice;
  cv::Mat annotation;
  std::string name;  // for error messages ("slice_0007.tif")
  // The slice's aligned neighbours (z-1, z+1; one at a stack's end), same size: needed when the
  // features have z context (FeatureSpec::zContext), ignored otherwise.
  std::vector<cv::Mat> neighbours = {};
};

/// Converts an annotation image as painted by a user into the code above, for `phases`.
/// Accepted: grey, values 0..n used as they are (0 unpainted, phase index + 1); or colour (BGR or
/// BGRA as read by OpenCV) painted in the phases' colours (phases.colours, within 48 grey levels
/// per channel: brushes anti-alias) on black, transparent = unpainted. Any other value or colour
/// is an error naming `where`, the first offending pixel and what was expected.
cv::Mat annotationFromImage(const cv::Mat& image, const std::string& where, const PhaseSet& phases);

struct Prediction {
  cv::Mat labels;                      // CV_8U: phase index (0 pore, 1 SE, 2 CAM by default)
  std::vector<cv::Mat> probabilities;  // empty unless asked: one CV_32F plane per phase
  cv::Mat uncertainty;                 // with the probabilities: uncertaintyOf(probabilities)
};

/// How unsure the classifier is of each pixel: the entropy of its phase probabilities divided by
/// log(phases), CV_32F in 0..1 (0: one phase certain; 1: all phases equally likely). Where it is
/// high, more strokes help most. Throws unless given one CV_32F plane per phase (>= 2).
cv::Mat uncertaintyOf(const std::vector<cv::Mat>& probabilities);

struct UncertainRegion {
  cv::Rect box;
  double meanUncertainty;
};
/// The `count` (at most) non-overlapping windows of windowPx x windowPx (clipped to the map)
/// with the highest mean uncertainty, highest first.
std::vector<UncertainRegion> leastCertainRegions(const cv::Mat& uncertainty, int count, int windowPx);

/// What a model was trained on beyond its features: checked when it is applied.
struct TrainingContext {
  std::vector<std::string> phaseNames;  // the phases, in label order (2..8)
  // Their grey values and colours when trained (phases.values/colours): `fibseg predict` uses
  // them when it is given no phase parameters. Empty in older models.
  std::vector<std::uint8_t> phaseValues;
  std::vector<std::array<std::uint8_t, 3>> phaseColoursRgb;
  int bitDepth = 0;                     // of the training slices: 8 or 16 (0 = not recorded)
  std::string denoise;                  // intensity::describeDenoise of what the slices went through
};

struct PresetChoice;

/// How refineBoundaries moves a boundary (learn.refine_method).
enum class RefineMethod {
  Watershed,     // onto the strongest grey edge (gradient crest) within the band
  HalfContrast,  // to where the grey is halfway between the two sides' local mean greys
};
/// learn.refine_band, learn.refine_sigma and learn.refine_method (see refineBoundaries).
struct BoundaryRefinement {
  int bandPx = 0;      // 0 = labels as classified
  double sigma = 1.0;  // px
  RefineMethod method = RefineMethod::Watershed;
};
/// "watershed" / "half_contrast" (the parameter's and the model file's spelling) and back; the
/// parse throws naming `where` for any other text.
const char* refineMethodName(RefineMethod method);
RefineMethod refineMethodFrom(const std::string& text, const std::string& where);

class Classifier {
 public:
  /// Samples labelled pixels of every annotated slice and trains a multiclass XGBoost model of
  /// the phases `context.phaseNames` (annotation code i + 1 = phase i). `features` must be
  /// resolved (resolveCnnModel). Throws naming the phase when a named phase has no labelled
  /// pixel, and when a slice and its annotation differ in size or slices differ in bit depth.
  /// With features.normalisation = "training" and a grey range already set (greyHigh > greyLow)
  /// that range is kept rather than taken from these examples (cross-validation folds share one).
  static Classifier train(const std::vector<AnnotatedSlice>& examples, const FeatureSpec& features,
                          const TrainingParams& params, const TrainingContext& context);
  /// The same from features already computed: `paintedRows[e]` holds, for every painted pixel of
  /// examples[e].annotation in scan order, one CV_32F row of at least featureNames(features).size()
  /// values (the first ones used) as computeFeatures gives them. Several trainings on the same
  /// strokes then share one computation of the bank (learn.preset = auto).
  static Classifier train(const std::vector<AnnotatedSlice>& examples, const FeatureSpec& features,
                          const TrainingParams& params, const TrainingContext& context,
                          const std::vector<cv::Mat>& paintedRows);

  /// Model file: JSON with the feature specification and the XGBoost model (its JSON format).
  void save(const std::filesystem::path& path) const;
  /// Loads a model; with `wanted` given (resolved), throws if the model was trained with other
  /// features, listing the differences. A CNN model is read from the path in the model file,
  /// or relative to the model file's folder.
  static Classifier load(const std::filesystem::path& path);
  static Classifier load(const std::filesystem::path& path, const FeatureSpec& wanted);

  const FeatureSpec& featureSpec() const;
  /// Phases, training bit depth and denoising (models from before these were recorded: pore, SE,
  /// CAM, bit depth 0, denoise "none").
  const TrainingContext& context() const;
  /// Throws unless the model's phases are `phases` (listing both sets, naming `where`).
  void requirePhases(const std::vector<std::string>& phases, const std::string& where) const;

  /// Phase of every pixel of `slice` (CV_8U or CV_16U). Safe to call from several threads.
  Prediction predict(const cv::Mat& slice, bool withProbabilities = false) const;
  /// The same with the slice's aligned neighbours (z-1 and/or z+1, same size), which a model with
  /// z context needs (FeatureSpec::zContext; without them: an error saying so).
  Prediction predict(const cv::Mat& slice, const std::vector<cv::Mat>& neighbours, bool withProbabilities = false) const;
  /// Phase of each row of feature values (CV_32F, one row per pixel, at least featureNames(spec)
  /// columns, the first ones used). One-stage models only: auto-context needs whole slices.
  std::vector<std::uint8_t> classifyRows(const cv::Mat& rows) const;
  /// True when predict needs the neighbouring slices (the model was trained with z context).
  bool needsNeighbours() const;
  /// Records what `learn.preset = auto` chose and why (saved in the model file as
  /// training.preset); empty for a model trained with learn.preset = manual.
  void recordPresetChoice(const PresetChoice& choice);
  const std::string& presetChoiceText() const;
  /// The boundary refinement learn.preset = auto chose for this model's labels (bandPx 0: none,
  /// or a model trained with learn.preset = manual).
  BoundaryRefinement chosenRefinement() const;

  struct Impl;

 private:
  friend class StackPredictor;
  explicit Classifier(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

/// Moves the phase boundaries of `labels` (phase indices, CV_8U) within refinement.bandPx px of
/// them. Watershed: onto the strongest grey edge of `slice`: the pixels farther than the band
/// from another phase keep their phase and seed a watershed of the slice's gradient magnitude
/// after a Gaussian of refinement.sigma px, which floods the band between them. A region no wider
/// than the band keeps a seed (its pixels beyond half its inner width), so no region found is
/// deleted. HalfContrast: each pixel within the band of another phase takes, of the phases
/// present within band + 1 px, the one whose local mean grey (over a box of 6 x band + 1 px, of
/// its pixels farther than the band from another phase) is nearest the pixel's grey (smoothed
/// at sigma): a blurred step edge's boundary lands at half contrast, where the step is. A region
/// thinner than the band whose grey is nearer its neighbour's may vanish.
/// `phases`: the number of phases.
cv::Mat refineBoundaries(const cv::Mat& labels, const cv::Mat& slice, const BoundaryRefinement& refinement, int phases);

/// Predicts the slices of an aligned stack in order (z = 0, 1, ...), with the same labels as
/// Classifier::predict given each slice's neighbours. A model with learn.z_context = above_below
/// describes a pixel by the bank of its slice and of both neighbours: predicted slice by slice
/// that is three banks per slice; here each slice's bank is computed once and kept while its
/// neighbours need it. That holds three slices' banks (4 bytes per pixel per bank feature: about
/// 420 bytes per pixel with the default features); above kBankCacheBytes it predicts slice by slice.
class StackPredictor {
 public:
  static constexpr long long kBankCacheBytes = 3LL << 30;
  using Done = std::function<void(int z, Prediction prediction)>;
  /// `done` receives each slice's prediction, in order, once it can be made (for a model with z
  /// context: when the slice below it has been added, or at finish).
  /// `refine`: applied to each slice's labels (refineBoundaries), probabilities unchanged.
  StackPredictor(const Classifier& model, bool withProbabilities, Done done, BoundaryRefinement refine = {});
  /// The next slice of the stack (CV_8U or CV_16U, all of one size).
  void add(const cv::Mat& slice);
  /// The stack is complete: predicts what is left. A model with z context on a stack of one slice
  /// is an error saying so.
  void finish();

 private:
  struct Held {
    cv::Mat slice, normalised;
    std::vector<cv::Mat> bank;  // contextBank of `normalised` (empty when not cached)
  };
  void predictMiddle(const Held* above, const Held& slice, const Held* below);
  Held hold(const cv::Mat& slice) const;

  void deliver(int z, const cv::Mat& slice, Prediction prediction);

  const Classifier& model_;
  bool withProbabilities_;
  Done done_;
  BoundaryRefinement refine_;
  bool cacheBanks_ = false;
  bool decided_ = false;
  std::vector<Held> window_;  // the last slices added, at most 3
  int next_ = 0;              // the next slice to predict
  int added_ = 0;
};

/// Cross-validated score of one candidate setting (learn.preset = auto).
struct PresetScore {
  std::string name;          // "bank, per-slice grey + auto-context"
  std::vector<double> iou;   // per phase, on the held-out strokes (NaN: no held-out stroke of it)
  double meanIou = 0;        // over the phases with held-out strokes
  int foldsScored = 0;
};
struct PresetChoice {
  std::string chosen;        // name of the preset trained on all strokes
  std::string folds;         // how the strokes were split ("leave one slice out, 2 folds", ...)
  std::string notes;         // folds skipped and why, candidates pruned, fallbacks
  std::vector<PresetScore> table;  // a pruned candidate: meanIou NaN, foldsScored 0
  BoundaryRefinement refine;       // of the chosen preset's labels (bandPx 0: none)
  /// Plain-text table, one line per preset: name, mean and per-phase IoU (for `fibseg train`,
  /// run.json and the report).
  std::string text(const std::vector<std::string>& phases) const;
};

/// The parameters of `method = classifier` (section "learn" of the registry).
struct LearnParams {
  std::filesystem::path model;   // trained model used by `fibseg run`
  FeatureSpec features;          // what `fibseg train` computes (and what run checks against)
  TrainingParams training;
  bool writeProbabilities;       // per-phase probability TIFF beside labels.tif
  bool denoiseInput;             // the classifier sees the slice after intensity.denoise
  BoundaryRefinement refine;     // of the labels after prediction (not of the probabilities)
  std::string preset = "manual"; // "auto": trainModel chooses among autoPresets by cross-validation
  int folds = 3;                 // learn.cv_folds: folds by connected stroke when one slice is annotated
  // learn.cv_stacking_folds: TrainingParams::strokeStackingFolds of auto's cross-validation fold
  // models (the final model takes training.strokeStackingFolds, learn.stacking_folds).
  int cvStackingFolds = 0;
};

struct Preset {
  std::string name;
  FeatureSpec features;
  TrainingParams training;
};
/// The candidates of learn.preset = auto, built on `params`' bank (scales, Gabor, rank, CNN) and
/// training, cheapest first: grey normalisation per slice (percentile) or from the training slices
/// (training); with `neighboursGiven` and learn.z_context = none, each also with z context, of
/// two kinds ("changes", then "above_below"); each of those with and without auto-context
/// (params' scales, or 1, 2, 4, 8 px).
std::vector<Preset> autoPresets(const LearnParams& params, bool neighboursGiven = false);
/// Whether training wants each annotated slice's neighbours in its stack: for learn.z_context, or
/// for learn.preset = auto, which tries z context when they are given.
bool trainingWantsNeighbours(const LearnParams& params);
/// The boundary refinements auto scores on its best candidate's labels (the best one that wins by
/// the margin is chosen): learn.refine_band, refine_sigma and refine_method when the band is set,
/// else kAutoRefinement (watershed, 2 px, sigma 1) and kAutoHalfContrast (half contrast, 1 px).
inline constexpr BoundaryRefinement kAutoRefinement{2, 1.0};
inline constexpr BoundaryRefinement kAutoHalfContrast{1, 1.0, RefineMethod::HalfContrast};
std::vector<BoundaryRefinement> autoRefinementCandidates(const LearnParams& params);
/// What to apply to a model's labels: learn.refine_band when set (> 0), else what
/// learn.preset = auto chose for the model (none for a manual model).
BoundaryRefinement refinementFor(const LearnParams& params, const Classifier& model);

/// Cross-validated IoU per phase of `preset` on the strokes of `examples`: with two or more
/// annotated slices each slice is a fold (trained on the others; this is what tells whether a
/// setting carries over to slices it never saw); with one, its connected strokes (8-connected
/// runs of one phase) are dealt to `folds` folds, phase by phase. A fold whose training part lacks
/// a phase is skipped (noted in `notes`); throws when every fold is.
PresetScore crossValidate(const std::vector<AnnotatedSlice>& examples, const Preset& preset,
                          const TrainingContext& context, int folds, std::string* foldText = nullptr,
                          std::string* notes = nullptr);

/// Trains as `params.preset` says: "manual" = Classifier::train with params' features and
/// training; "auto" = cross-validates the autoPresets candidates, trains the best on all strokes
/// and records the table in the model (recordPresetChoice). The bank of each annotated slice is
/// computed once per grey normalisation and shared by every candidate and fold; the one-stage
/// candidates are scored first, auto-context is tried on the better half of them (successive
/// halving), and boundary refinements (autoRefinementCandidates) on the best one's held-out labels.
/// With strokes on one slice and too few strokes to make folds, auto trains the first candidate
/// and says so in the record.
Classifier trainModel(const std::vector<AnnotatedSlice>& examples, const LearnParams& params,
                      const TrainingContext& context);

/// The model `params.model` for `fibseg run`, checked against params' features (CNN resolved
/// here): with learn.preset = auto the model's grey normalisation and auto-context scales are
/// what training chose and are not compared; every other feature parameter must match.
Classifier loadModelFor(const LearnParams& params);

}  // namespace fibseg::learn

namespace fibseg::config {
class ParamSet;
/// Defined in config/params_learn.cpp (the registry holds the defaults and descriptions).
learn::LearnParams learnParamsFrom(const ParamSet& params);
}  // namespace fibseg::config
