// Parameters of the trained pixel classifier (segment.method = classifier): which model to use,
// which features describe a pixel, and how `fibseg train` fits the model.
#include "fibseg/config/param_set.hpp"
#include "fibseg/config/stage_params.hpp"
#include "fibseg/learn/learn.hpp"

namespace fibseg::config {

std::vector<ParamSpec> learnParameterSpecs() {
  std::vector<ParamSpec> specs;
  const std::string s = "learn";
  specs.push_back({.section = s, .key = "model", .type = ParamType::Path, .defaultValue = "",
                   .description = "Trained classifier (a .json file written by `fibseg train`) used when "
                                  "segment.method = classifier. It must have been trained with the same "
                                  "feature parameters (scales, gabor_*, normalisation, cnn_model) as given here."});
  specs.push_back({.section = s, .key = "scales", .type = ParamType::RealList, .defaultValue = "0.7, 1.6, 3.5",
                   .unit = "px", .min = 0.3, .max = 64.0,
                   .description = "Smoothing scales (Gaussian sigma) of the feature bank. At each scale every "
                                  "pixel is described by its smoothed grey level, difference of Gaussians, "
                                  "Laplacian, gradient, Hessian and structure-tensor eigenvalues, local mean and "
                                  "variance. Small scales place phase boundaries precisely; large ones see "
                                  "texture and context (choose up to about the size of the smallest feature you "
                                  "care about, e.g. a pore radius). More scales = slower."});
  specs.push_back({.section = s, .key = "gabor_wavelengths", .type = ParamType::RealList, .defaultValue = "4",
                   .unit = "px", .min = 2.0, .max = 128.0,
                   .description = "Wavelengths of the Gabor filter bank (oriented texture such as curtaining "
                                  "stripes or grain structure). Empty = no Gabor features."});
  specs.push_back({.section = s, .key = "gabor_orientations", .type = ParamType::Integer, .defaultValue = "4",
                   .min = 1.0, .max = 16.0,
                   .description = "Number of Gabor orientations, evenly spread over 180 degrees."});
  specs.push_back({.section = s, .key = "normalisation", .type = ParamType::Choice, .defaultValue = "percentile",
                   .choices = {"training", "fixed", "percentile"},
                   .description = "How grey levels are scaled before features are computed. training: the "
                                  "darkest 1% and brightest 1% of all training slices together map to 0 and 1, "
                                  "and that one mapping (kept in the model) serves every slice predicted; fixed: "
                                  "grey divided by the largest value of the bit depth; percentile: each slice's "
                                  "own darkest and brightest 1% map to 0 and 1, so the mapping follows how much "
                                  "of each phase the slice holds (a slice with more bright phase looks darker to "
                                  "the classifier). training and fixed need slices of equal brightness, which "
                                  "`fibseg run` gives (intensity stage); bench/README.md, Learn, defaults."});
  specs.push_back({.section = s, .key = "cnn_model", .type = ParamType::Path, .defaultValue = "",
                   .description = "Optional ONNX network whose feature maps are added to the features (e.g. the "
                                  "first blocks of VGG16, see bench/README.md section Learn for how to export "
                                  "one). Input: 1x1xHxW float image scaled as by normalisation. Empty = none. "
                                  "Costs much time per slice."});
  specs.push_back({.section = s, .key = "z_context", .type = ParamType::Choice, .defaultValue = "none",
                   .choices = {"none", "neighbours", "above_below", "changes"},
                   .description = "Context from the neighbouring aligned slices: a pixel is also described by "
                                  "what lies just above and below it (phases are 3D bodies: where one slice is "
                                  "ambiguous, e.g. a particle seen through a pore against one cut by the plane, "
                                  "its neighbours often are not). above_below: the feature bank of slice z-1 "
                                  "and of z+1 too, plus their change from slice z; `fibseg run`, `fibseg "
                                  "predict` and fibseg.predict go through the stack in order, so each slice's "
                                  "bank is computed once and serves its neighbours (about the cost of none). "
                                  "neighbours: the bank of the mean of z-1 and z+1 (2x the feature time). "
                                  "changes: only the change of z-1 and of z+1 from slice z (grey and smoothed "
                                  "grey at each scale: 8 features with the default scales, against 70 for "
                                  "above_below): few strokes overfit it less. learn.preset = auto tries both "
                                  "(lco-fibsem CAM IoU 0.856 as a stack without z context, 0.876 with "
                                  "changes, which auto chooses). The model then needs a "
                                  "stack: `fibseg train --stack`, and `fibseg run` or `fibseg predict` on a "
                                  "multi-page TIFF or folder; a single image is refused. none: each slice on its "
                                  "own (lco-fibsem CAM IoU 0.810 none, 0.828 above_below; bench/README.md)."});
  specs.push_back({.section = s, .key = "rank_features", .type = ParamType::Boolean, .defaultValue = "false",
                   .description = "Also describe each pixel by the grey maximum, minimum and median in a square "
                                  "window of 4 sigma + 1 px at each of learn.scales (as Fiji's Trainable Weka "
                                  "Segmentation does): \"a bright body within r px\" survives where smoothing "
                                  "turns a body's rim to mid-grey. Adds 3 features per scale."});
  specs.push_back({.section = s, .key = "auto_context_scales", .type = ParamType::RealList, .defaultValue = "",
                   .unit = "px", .min = 0.3, .max = 64.0,
                   .description = "Auto-context (ilastik's two-stage classification): a second model is trained "
                                  "on the same annotations with all the features plus the first model's "
                                  "probability of each phase, raw and smoothed (Gaussian sigma) at these scales; "
                                  "run and predict apply both. With two or more annotated slices, each slice's "
                                  "first-stage probabilities come from a first stage trained on the others, so "
                                  "the second stage learns how far to trust it on unseen slices. Empty = one "
                                  "stage. The feature bank is computed once for both stages; with the first stage on a "
                                  "grid (learn.auto_context_step = 2) a three-phase model predicts at about 1.25x "
                                  "one stage's cost (1.9x at step 1; bench/README.md). lco-fibsem "
                                  "CAM IoU with 1, 2, 4, 8: 0.845 (2D, one stage 0.810), 0.878 with "
                                  "learn.z_context = above_below and 30 rounds of depth 6 (bench/README.md)."});
  specs.push_back({.section = s, .key = "auto_context_step", .type = ParamType::Integer, .defaultValue = "2",
                   .unit = "px", .min = 1.0, .max = 16.0,
                   .description = "With auto-context: the first stage classifies every n-th pixel of every n-th "
                                  "row only; its probabilities are smoothed on that grid and interpolated to "
                                  "every pixel for the second stage. 1 = every pixel (slower). At 2 the first "
                                  "stage walks its trees for a quarter of the pixels, so a two-stage model "
                                  "predicts at about one stage's speed (bench/README.md, Learn, defaults). Kept "
                                  "in the model: a model predicts with the step it was trained with."});
  specs.push_back({.section = s, .key = "preset", .type = ParamType::Choice, .defaultValue = "auto",
                   .choices = {"auto", "manual"},
                   .description = "auto: `fibseg train` scores a few candidate settings by cross-validation on "
                                  "your strokes (each annotated slice held out in turn; with one slice, its "
                                  "connected strokes in learn.cv_folds folds) and keeps the best: grey "
                                  "normalisation per slice (percentile) or from the training slices (training), "
                                  "with z context too when learn.z_context = none and the strokes are on slices "
                                  "of a stack (`fibseg train --stack`: changes and above_below), each with and "
                                  "without auto-context (learn.auto_context_scales, or 1, 2, 4, 8 px; tried on "
                                  "the better half of the others, and for one kind of z context only: changes "
                                  "unless above_below scored higher by the margin), on the bank of "
                                  "learn.scales, gabor_*, rank_features; then the best "
                                  "one's boundaries refined (learn.refine_band/sigma/method when set, else "
                                  "watershed at 2 px, sigma 1, and half contrast at 1 px). A dearer choice must "
                                  "win by 0.002. The table and the choice are printed "
                                  "and kept in the model; `fibseg run` then takes the model's features and "
                                  "refinement. manual: exactly the learn.* values given."});
  specs.push_back({.section = s, .key = "stacking_folds", .type = ParamType::Integer, .defaultValue = "3",
                   .min = 0.0, .max = 10.0,
                   .description = "Auto-context trained on one annotated slice: its connected strokes are dealt "
                                  "to this many folds and each fold's second-stage features come from a first "
                                  "stage trained on the other folds (out-of-fold, as on unseen slices); 0 = from "
                                  "the first stage itself, which has seen those strokes and is overconfident on "
                                  "them (noisy disks: IoU 0.82 with 0, 0.90 with 3; tests/learn). With two or "
                                  "more annotated slices each slice's features come from the other slices."});
  specs.push_back({.section = s, .key = "cv_stacking_folds", .type = ParamType::Integer, .defaultValue = "0",
                   .min = 0.0, .max = 10.0,
                   .description = "learn.stacking_folds for the models of learn.preset = auto's "
                                  "cross-validation folds (with two annotated slices each fold model has one). "
                                  "0 (in-sample) by default: 3 changed no choice on lco-fibsem, helped one of 12 "
                                  "blob sets and cost one phantom seed 0.012 (bench/README.md, Learn, defaults)."});
  specs.push_back({.section = s, .key = "cv_folds", .type = ParamType::Integer, .defaultValue = "3",
                   .min = 2.0, .max = 20.0,
                   .description = "With learn.preset = auto and strokes on one slice: the folds its connected "
                                  "strokes are dealt into (per phase, in turn). With two or more annotated "
                                  "slices each slice is a fold."});
  specs.push_back({.section = s, .key = "rounds", .type = ParamType::Integer, .defaultValue = "15",
                   .min = 1.0, .max = 5000.0,
                   .description = "Boosting rounds when training (each adds one tree per phase). More can fit "
                                  "subtler differences; prediction time grows with it."});
  specs.push_back({.section = s, .key = "max_depth", .type = ParamType::Integer, .defaultValue = "4",
                   .min = 1.0, .max = 16.0,
                   .description = "Depth of each tree: how many feature comparisons decide one step."});
  specs.push_back({.section = s, .key = "learning_rate", .type = ParamType::Real, .defaultValue = "0.3",
                   .min = 0.001, .max = 1.0,
                   .description = "Shrinkage of each tree's contribution (XGBoost eta). Smaller needs more "
                                  "rounds but generalises better."});
  specs.push_back({.section = s, .key = "samples_per_phase", .type = ParamType::Integer, .defaultValue = "50000",
                   .min = 10.0, .max = 10000000.0,
                   .description = "At most this many annotated pixels per phase are used for training (a "
                                  "random subset; phases are weighted equally whatever their count)."});
  specs.push_back({.section = s, .key = "seed", .type = ParamType::Integer, .defaultValue = "1", .min = 0.0,
                   .max = 4294967295.0,
                   .description = "Random seed of pixel sampling and training: the same annotations and seed "
                                  "give the same model."});
  specs.push_back({.section = s, .key = "probabilities", .type = ParamType::Boolean, .defaultValue = "false",
                   .description = "Also write the classifier's per-phase probabilities (0..1) as a TIFF stack per "
                                  "phase: shows where the classifier hesitates."});
  specs.push_back({.section = s, .key = "denoise_input", .type = ParamType::Boolean, .defaultValue = "false",
                   .description = "Give the classifier the slice after intensity.denoise (training, run and "
                                  "predict alike). Off by default: the feature bank smooths at its own scales "
                                  "and keeps the finest one; denoising first cost the phantom's small pores "
                                  "(accuracy 0.94 -> 0.85) and did not help on real BSE slices (lco-fibsem CAM "
                                  "IoU 0.810 without, 0.812 with; bench/README.md, Real data)."});
  specs.push_back({.section = s, .key = "refine_band", .type = ParamType::Integer, .defaultValue = "0",
                   .unit = "px", .min = 0.0, .max = 64.0,
                   .description = "Boundary refinement after classification: within this many px of a phase "
                                  "boundary, pixels are re-assigned by a watershed of the slice's grey gradient "
                                  "seeded by the pixels farther away, so the boundary lands on the strongest "
                                  "edge nearby. Strokes painted clear of the edges never show the classifier "
                                  "the last pixels before one. No region the classifier found is deleted. "
                                  "0 = labels as classified. Probabilities are not changed. lco-fibsem (BSE, "
                                  "particle against rest, strokes 4 px clear of the edges) CAM IoU 0.878 -> "
                                  "0.887 with 3 px and sigma 1.5, 0.810 -> 0.830 for the 2D defaults; but on "
                                  "the phantom (three phases, small pores, strokes up to the edges) it lowers "
                                  "mean IoU 0.945 -> 0.90-0.91, hence off by default: check it on your data "
                                  "(bench/README.md, Real data). With learn.preset = auto, 0 lets training decide by "
                                  "cross-validation; a band set here is always applied (and is the band auto scores)."});
  specs.push_back({.section = s, .key = "refine_sigma", .type = ParamType::Real, .defaultValue = "1",
                   .unit = "px", .min = 0.0, .max = 16.0,
                   .description = "Gaussian smoothing (sigma) of the slice before its gradient is taken for "
                                  "learn.refine_band: noise makes false edges at 0."});
  specs.push_back({.section = s, .key = "refine_method", .type = ParamType::Choice, .defaultValue = "watershed",
                   .choices = {"watershed", "half_contrast"},
                   .description = "How learn.refine_band moves a boundary. watershed: onto the strongest grey "
                                  "edge within the band (no region the classifier found is deleted). "
                                  "half_contrast: each pixel within the band takes the neighbouring phase whose "
                                  "local mean grey is nearest its own, so a blurred edge lands halfway between "
                                  "the two sides' greys, where the edge is; a region thinner than the band may "
                                  "vanish. On the 4- and 5-phase blob sets it gains 0.02-0.03 mIoU where watershed "
                                  "loses; on the phantom, whose strokes reach the edges, 2-3 px thin its small pores "
                                  "(-0.04..-0.13). With learn.preset = auto and refine_band = 0, training scores "
                                  "it at 1 px beside the watershed at 2 px (bench/README.md, Learn, defaults)."});
  return specs;
}

learn::LearnParams learnParamsFrom(const ParamSet& params) {
  learn::LearnParams p;
  p.model = params.text("learn.model");
  p.features.scales = params.realList("learn.scales");
  p.features.gaborWavelengths = params.realList("learn.gabor_wavelengths");
  p.features.gaborOrientations = static_cast<int>(params.integer("learn.gabor_orientations"));
  p.features.normalisation = params.text("learn.normalisation");
  p.features.cnnModel = params.text("learn.cnn_model");
  p.features.cnnChannels = 0;  // known once resolveCnnModel has read the file
  p.features.zContext = params.text("learn.z_context");
  p.features.rankFeatures = params.boolean("learn.rank_features");
  p.features.autoContextScales = params.realList("learn.auto_context_scales");
  p.features.autoContextStep = static_cast<int>(params.integer("learn.auto_context_step"));
  p.training.rounds = static_cast<int>(params.integer("learn.rounds"));
  p.training.maxDepth = static_cast<int>(params.integer("learn.max_depth"));
  p.training.learningRate = params.real("learn.learning_rate");
  p.training.samplesPerPhase = static_cast<int>(params.integer("learn.samples_per_phase"));
  p.training.seed = static_cast<unsigned>(params.integer("learn.seed"));
  p.training.strokeStackingFolds = static_cast<int>(params.integer("learn.stacking_folds"));
  p.cvStackingFolds = static_cast<int>(params.integer("learn.cv_stacking_folds"));
  p.writeProbabilities = params.boolean("learn.probabilities");
  p.denoiseInput = params.boolean("learn.denoise_input");
  p.refine.bandPx = static_cast<int>(params.integer("learn.refine_band"));
  p.refine.sigma = params.real("learn.refine_sigma");
  p.refine.method = learn::refineMethodFrom(params.text("learn.refine_method"), "learn.refine_method");
  p.preset = params.text("learn.preset");
  p.folds = static_cast<int>(params.integer("learn.cv_folds"));
  return p;
}

}  // namespace fibseg::config
