// learn.preset = auto: a few candidate settings, each scored by cross-validation on the user's
// own strokes, the best trained on all of them. Folds are whole slices when several are painted
// (a setting must carry over to slices it never saw: brightness drift, other phase proportions)
// and whole strokes otherwise (neighbouring pixels of one stroke are near copies: a pixel-wise
// split would score memory, not generalisation).
#include <opencv2/imgproc.hpp>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <numeric>
#include <optional>

#include "fibseg/core/error.hpp"
#include "fibseg/core/image.hpp"
#include "fibseg/learn/feature_bank.hpp"
#include "fibseg/learn/learn.hpp"

namespace fibseg::learn {

namespace {

constexpr double kMargin = 0.002;  // cross-validated mean IoU a dearer preset must gain
// Training pixels per phase for a cross-validation fold's model (the final model takes
// learn.samples_per_phase): neighbouring pixels of a stroke are near copies, and XGBoost's exact
// split search, which costs in proportion to the rows, is most of auto's time.
constexpr int kFoldSamplesPerPhase = 5000;

}  // namespace

std::string PresetChoice::text(const std::vector<std::string>& phases) const {
  std::string out = "cross-validated IoU on held-out strokes (" + folds + "):\n";
  char line[256];
  std::snprintf(line, sizeof line, "  %-44s %6s", "preset", "mean");
  out += line;
  for (const auto& p : phases) out += " " + p;
  out += "\n";
  for (const auto& row : table) {
    if (std::isnan(row.meanIou)) {  // pruned: not scored
      std::snprintf(line, sizeof line, "  %-44s %6s\n", row.name.c_str(), "pruned");
      out += line;
      continue;
    }
    std::snprintf(line, sizeof line, "%s %-44s %6.3f", row.name == chosen ? "*" : " ", row.name.c_str(), row.meanIou);
    out += line;
    for (double v : row.iou) {
      std::snprintf(line, sizeof line, " %.3f", v);
      out += std::isnan(v) ? std::string(" -") : std::string(line);
    }
    out += "\n";
  }
  if (!notes.empty()) out += "  " + notes + "\n";
  return out;
}

std::vector<Preset> autoPresets(const LearnParams& params, bool neighboursGiven) {
  std::vector<Preset> out;
  const std::vector<double> context =
      params.features.autoContextScales.empty() ? std::vector<double>{1, 2, 4, 8} : params.features.autoContextScales;
  // z context only where the user left it off and every annotated slice has its neighbours.
  std::vector<std::string> zs{params.features.zContext};
  // Two kinds: the neighbours' change from the slice (8 features with the default scales) and
  // their whole banks too (70). Trained on the strokes of a slice or two the banks can overfit:
  // on lco-fibsem the cross-validation scores them below the slice's own bank with auto-context
  // (0.923 against 0.936) and the changes above it (0.941); on other stacks the banks win
  // (bench/README.md, Learn, defaults, section 11).
  if (neighboursGiven && params.features.zContext == "none") zs.push_back("changes"), zs.push_back("above_below");
  for (bool twoStage : {false, true})
    for (const auto& z : zs)
      for (const char* grey : {"percentile", "training"}) {
        Preset p{std::string("bank, ") + (std::string(grey) == "percentile" ? "per-slice grey" : "training grey") +
                     (z == params.features.zContext ? "" : z == "changes" ? " + z changes" : " + z context") +
                     (twoStage ? " + auto-context" : ""),
                 params.features, params.training};
        p.features.normalisation = grey;
        p.features.zContext = z;
        p.features.autoContextScales = twoStage ? context : std::vector<double>{};
        out.push_back(p);
      }
  return out;
}

bool trainingWantsNeighbours(const LearnParams& params) {
  return params.features.zContext != "none" || params.preset == "auto";
}

std::vector<BoundaryRefinement> autoRefinementCandidates(const LearnParams& params) {
  // Half contrast at 1 px only: wider bands lose on the phantom's small pores (0.04-0.13 at 2-3
  // px) and the held-out strokes, painted inside the phases, cannot tell (bench/README.md, Learn,
  // defaults, section 10).
  if (params.refine.bandPx > 0) return {params.refine};
  return {kAutoRefinement, kAutoHalfContrast};
}

BoundaryRefinement refinementFor(const LearnParams& params, const Classifier& model) {
  if (params.refine.bandPx > 0 || params.preset != "auto") return params.refine;
  return model.chosenRefinement();
}

namespace {

// One fold: the strokes trained on and, per example, the strokes held out (CV_8U codes).
struct Fold {
  std::vector<std::size_t> trainIndex;  // examples trained on (whole or in part)
  std::vector<AnnotatedSlice> train;
  std::vector<std::pair<std::size_t, cv::Mat>> heldOut;
  std::string missing;  // phases the training part lacks (the fold is skipped)
};

std::vector<Fold> makeFolds(const std::vector<AnnotatedSlice>& examples, const TrainingContext& context, int folds) {
  const int phases = static_cast<int>(context.phaseNames.size());
  if (examples.empty()) throw Error("cross-validation: no annotated slices");
  if (folds < 2) throw Error("cross-validation: learn.cv_folds = " + std::to_string(folds) + "; expected at least 2");
  const bool bySlice = examples.size() >= 2;
  const int k = bySlice ? static_cast<int>(examples.size()) : folds;
  std::vector<cv::Mat> foldOf;
  for (const auto& e : examples) foldOf.push_back(bySlice ? cv::Mat() : detail::strokeFolds(e.annotation, phases, k));
  std::vector<Fold> out(k);
  for (int f = 0; f < k; ++f) {
    Fold& fold = out[f];
    for (std::size_t i = 0; i < examples.size(); ++i) {
      if (bySlice) {
        if (static_cast<int>(i) == f) fold.heldOut.push_back({i, examples[i].annotation});
        else fold.trainIndex.push_back(i), fold.train.push_back(examples[i]);
        continue;
      }
      const cv::Mat inFold = foldOf[i] == f;
      AnnotatedSlice rest = examples[i];
      rest.annotation = examples[i].annotation.clone();
      rest.annotation.setTo(0, inFold);
      fold.trainIndex.push_back(i);
      fold.train.push_back(rest);
      cv::Mat held = cv::Mat::zeros(examples[i].annotation.size(), CV_8U);
      examples[i].annotation.copyTo(held, inFold);
      fold.heldOut.push_back({i, held});
    }
    std::vector<long long> count(phases, 0);
    for (const auto& t : fold.train)
      for (int p = 0; p < phases; ++p) count[p] += cv::countNonZero(t.annotation == p + 1);
    for (int p = 0; p < phases; ++p)
      if (count[p] == 0) fold.missing += (fold.missing.empty() ? "" : ", ") + context.phaseNames[p];
  }
  return out;
}

std::string foldDescription(const std::vector<AnnotatedSlice>& examples, int folds) {
  return examples.size() >= 2 ? "leave one slice out, " + std::to_string(examples.size()) + " folds"
                              : std::to_string(folds) + " folds of connected strokes on the one slice";
}

// The rows of `all` (one per pixel painted in `full`, scan order) of the pixels painted in `part`.
cv::Mat rowsPaintedIn(const cv::Mat& all, const cv::Mat& full, const cv::Mat& part) {
  cv::Mat out(cv::countNonZero(part), all.cols, CV_32F);
  int from = 0, to = 0;
  for (int y = 0; y < full.rows; ++y) {
    const auto* a = full.ptr<std::uint8_t>(y);
    const auto* b = part.ptr<std::uint8_t>(y);
    for (int x = 0; x < full.cols; ++x) {
      if (!a[x]) continue;
      if (b[x]) all.row(from).copyTo(out.row(to++));
      ++from;
    }
  }
  return out;
}

// Features of the painted pixels of every example under one grey normalisation and one kind of
// z context (sharedKey), computed once and shared by every candidate and fold that uses them.
// With "training" the range of all the annotated slices is fixed in the spec, also for the
// folds: a tree's splits compare one feature with a threshold, and every bank feature is an
// increasing affine function of the grey (or of its square: variance, structure tensor) whatever
// the range, so one grey mapping shared by a fold's training and held-out pixels splits them as
// the fold's own range would (up to the Gabor filters' 0.2 % response to flat grey, and
// rounding). Not with a CNN (not affine): then each fold computes its own.
struct SharedBanks {
  std::map<std::string, FeatureSpec> spec;              // by sharedKey: the spec the rows hold
  std::map<std::string, std::vector<cv::Mat>> rows;     // by sharedKey: per example
};

// Which shared rows a candidate's features are the first columns of: per normalisation, those
// with the neighbours' whole banks, or those with the slice's bank and (when the neighbours are
// given) the neighbours' changes.
std::string sharedKey(const FeatureSpec& spec) {
  return spec.normalisation + (detail::hasContextBanks(spec) ? " + banks" : "");
}

std::vector<cv::Mat> paintedFeatures(const std::vector<AnnotatedSlice>& examples, const FeatureSpec& spec) {
  std::vector<cv::Mat> out(examples.size());
  std::unique_ptr<detail::CnnRunner> cnn;
  if (!spec.cnnModel.empty()) cnn = std::make_unique<detail::CnnRunner>(spec.cnnModel);
  const int count = static_cast<int>(featureNames(spec).size());
  tbb::parallel_for(std::size_t(0), examples.size(), [&](std::size_t i) {
    const auto& e = examples[i];
    cv::Mat rows(cv::countNonZero(e.annotation), count, CV_32F);
    int row = 0;
    const cv::Mat normalised = detail::normaliseSlice(e.slice, spec);
    const auto contexts = detail::contextImages(e.neighbours, spec, e.slice.size(), "training slice " + e.name);
    detail::forEachBand(normalised, contexts, spec, cnn.get(), 1 << 19,
                        [&](cv::Range band, const std::vector<cv::Mat>& planes) {
      for (int y = band.start; y < band.end; ++y) {
        const auto* a = e.annotation.ptr<std::uint8_t>(y);
        for (int x = 0; x < e.annotation.cols; ++x) {
          if (!a[x]) continue;
          float* r = rows.ptr<float>(row++);
          for (int f = 0; f < count; ++f) r[f] = planes[f].at<float>(y - band.start, x);
        }
      }
    });
    out[i] = rows;
  });
  return out;
}

// The spec with the training slices' grey range fixed (normalisation "training").
FeatureSpec withTrainingRange(FeatureSpec spec, const std::vector<AnnotatedSlice>& examples) {
  std::vector<cv::Mat> greys;
  for (const auto& e : examples) greys.push_back(e.slice);
  std::tie(spec.greyLow, spec.greyHigh) = detail::greyPercentiles(greys);
  if (!(spec.greyHigh > spec.greyLow))
    std::tie(spec.greyLow, spec.greyHigh) =
        std::pair{0.0, bitDepthOf(examples[0].slice, examples[0].name) == 8 ? 255.0 : 65535.0};
  return spec;
}

void addConfusion(std::vector<std::vector<double>>& confusion, const cv::Mat& held, const cv::Mat& labels) {
  for (int y = 0; y < held.rows; ++y) {
    const auto* a = held.ptr<std::uint8_t>(y);
    const auto* l = labels.ptr<std::uint8_t>(y);
    for (int x = 0; x < held.cols; ++x)
      if (a[x]) confusion[a[x] - 1][l[x]] += 1;
  }
}

// Per phase: held-out pixels of the phase found as it, against all predicted as it or truly it.
// Each phase's row is scaled to one pixel so a phase with more strokes does not swamp the false
// positives of a rare one.
void scoreConfusion(std::vector<std::vector<double>> confusion, PresetScore& score) {
  const int phases = static_cast<int>(confusion.size());
  for (auto& row : confusion) {
    double total = 0;
    for (double v : row) total += v;
    if (total > 0)
      for (double& v : row) v /= total;
  }
  int present = 0;
  score.iou.clear();
  score.meanIou = 0;
  for (int p = 0; p < phases; ++p) {
    double rowSum = 0, colSum = 0;
    for (int q = 0; q < phases; ++q) rowSum += confusion[p][q], colSum += confusion[q][p];
    if (rowSum == 0) {
      score.iou.push_back(std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    const double iou = confusion[p][p] / (rowSum + colSum - confusion[p][p]);
    score.iou.push_back(iou);
    score.meanIou += iou;
    ++present;
  }
  score.meanIou /= std::max(1, present);
}

// A candidate's fold models and, where they were predicted whole, the held-out slices' labels.
struct FoldRun {
  std::optional<Classifier> model;
  std::vector<cv::Mat> labels;  // per held-out entry of the fold (empty: scored on rows only)
};

PresetScore scoreCandidate(const std::vector<AnnotatedSlice>& examples, const std::vector<Fold>& folds,
                           const Preset& preset, const TrainingContext& context, SharedBanks* shared,
                           std::vector<FoldRun>* runs, std::string* notes) {
  const int phases = static_cast<int>(context.phaseNames.size());
  std::vector<std::vector<double>> confusion(phases, std::vector<double>(phases, 0));
  PresetScore score{preset.name, {}, 0, 0};
  std::string skipped;
  const bool share = shared && preset.features.cnnModel.empty();
  FeatureSpec spec = preset.features;
  const std::vector<cv::Mat>* rows = nullptr;
  if (share) {
    const std::string key = sharedKey(spec);
    if (!shared->rows.count(key)) {
      // One bank per slice for every candidate of this key: with the neighbours' changes when
      // they are given (the 2D features are their first columns).
      FeatureSpec wide = spec;
      wide.autoContextScales.clear();
      bool neighbours = !examples.empty();
      for (const auto& e : examples) neighbours = neighbours && !e.neighbours.empty();
      if (neighbours && wide.zContext == "none") wide.zContext = "changes";
      if (spec.normalisation == "training") wide = withTrainingRange(wide, examples);
      shared->spec[key] = wide;
      shared->rows[key] = paintedFeatures(examples, wide);
    }
    spec.greyLow = shared->spec[key].greyLow;
    spec.greyHigh = shared->spec[key].greyHigh;
    rows = &shared->rows[key];
    const auto own = featureNames(spec), held = featureNames(shared->spec[key]);
    if (own.size() > held.size() || !std::equal(own.begin(), own.end(), held.begin()))
      throw Error("cross-validation: shared features do not start with the candidate's (internal)");
  }
  // The folds train and predict at once (XGBoost trains small sets on one thread).
  std::vector<FoldRun> local(folds.size());
  std::vector<std::vector<std::vector<double>>> foldConfusion(folds.size(), confusion);
  TrainingParams training = preset.training;
  training.samplesPerPhase = std::min(training.samplesPerPhase, kFoldSamplesPerPhase);
  tbb::parallel_for(std::size_t(0), folds.size(), [&](std::size_t f) {
    const Fold& fold = folds[f];
    if (!fold.missing.empty()) return;
    auto& counts = foldConfusion[f];
    std::vector<cv::Mat> trainRows;
    if (rows)
      for (std::size_t t = 0; t < fold.train.size(); ++t) {
        const std::size_t i = fold.trainIndex[t];
        trainRows.push_back(rowsPaintedIn((*rows)[i], examples[i].annotation, fold.train[t].annotation));
      }
    auto model = Classifier::train(fold.train, spec, training, context, trainRows);
    const bool byRows = rows && spec.autoContextScales.empty();
    for (const auto& [i, held] : fold.heldOut) {
      if (cv::countNonZero(held) == 0) {
        local[f].labels.emplace_back();
        continue;
      }
      if (byRows) {  // a one-stage model needs only the held-out pixels' features
        const auto labels = model.classifyRows(rowsPaintedIn((*rows)[i], examples[i].annotation, held));
        std::size_t r = 0;
        for (int y = 0; y < held.rows; ++y) {
          const auto* a = held.ptr<std::uint8_t>(y);
          for (int x = 0; x < held.cols; ++x)
            if (a[x]) counts[a[x] - 1][labels[r++]] += 1;
        }
        local[f].labels.emplace_back();
        continue;
      }
      const cv::Mat labels = model.predict(examples[i].slice, examples[i].neighbours).labels;
      addConfusion(counts, held, labels);
      local[f].labels.push_back(labels);
    }
    local[f].model = std::move(model);
  });
  for (std::size_t f = 0; f < folds.size(); ++f) {
    if (!folds[f].missing.empty()) {
      skipped += (skipped.empty() ? "" : "; ") + std::string("fold ") + std::to_string(f + 1) +
                 " skipped: its training strokes hold no " + folds[f].missing;
      continue;
    }
    for (int p = 0; p < phases; ++p)
      for (int q = 0; q < phases; ++q) confusion[p][q] += foldConfusion[f][p][q];
    ++score.foldsScored;
  }
  if (runs) *runs = std::move(local);
  if (notes) *notes = skipped;
  if (score.foldsScored == 0)
    throw Error("cross-validation: no fold could be trained (" + skipped +
                "); expected strokes of every phase on at least two slices, or at least " +
                std::to_string(folds.size()) + " separate strokes of every phase on one slice");
  scoreConfusion(confusion, score);
  return score;
}

// The best candidate's held-out labels refined (refineBoundaries), scored like the candidates.
PresetScore scoreRefinement(const std::vector<AnnotatedSlice>& examples, const std::vector<Fold>& folds,
                            std::vector<FoldRun>& runs, const PresetScore& base, const BoundaryRefinement& refine,
                            const TrainingContext& context) {
  const int phases = static_cast<int>(context.phaseNames.size());
  std::vector<std::vector<double>> confusion(phases, std::vector<double>(phases, 0));
  char name[96];
  std::snprintf(name, sizeof name, " + boundaries %s (%d px, sigma %g)",
                refine.method == RefineMethod::HalfContrast ? "to half contrast" : "refined", refine.bandPx,
                refine.sigma);
  PresetScore score{base.name + name, {}, 0, 0};
  std::vector<std::vector<std::vector<double>>> foldConfusion(folds.size(), confusion);
  tbb::parallel_for(std::size_t(0), folds.size(), [&](std::size_t f) {
    if (!runs[f].model) return;
    for (std::size_t h = 0; h < folds[f].heldOut.size(); ++h) {
      const auto& [i, held] = folds[f].heldOut[h];
      if (cv::countNonZero(held) == 0) continue;
      cv::Mat& labels = runs[f].labels.at(h);  // predicted once, kept for the next refinement
      if (labels.empty()) labels = runs[f].model->predict(examples[i].slice, examples[i].neighbours).labels;
      addConfusion(foldConfusion[f], held, refineBoundaries(labels, examples[i].slice, refine, phases));
    }
  });
  for (std::size_t f = 0; f < folds.size(); ++f) {
    if (!runs[f].model) continue;
    for (int p = 0; p < phases; ++p)
      for (int q = 0; q < phases; ++q) confusion[p][q] += foldConfusion[f][p][q];
    ++score.foldsScored;
  }
  scoreConfusion(confusion, score);
  return score;
}

}  // namespace

PresetScore crossValidate(const std::vector<AnnotatedSlice>& examples, const Preset& preset,
                          const TrainingContext& context, int folds, std::string* foldText, std::string* notes) {
  const auto split = makeFolds(examples, context, folds);
  if (foldText) *foldText = foldDescription(examples, static_cast<int>(split.size()));
  SharedBanks shared;
  return scoreCandidate(examples, split, preset, context, &shared, nullptr, notes);
}

Classifier trainModel(const std::vector<AnnotatedSlice>& examples, const LearnParams& params,
                      const TrainingContext& context) {
  if (params.preset == "manual") return Classifier::train(examples, params.features, params.training, context);
  if (params.preset != "auto")
    throw Error("learn.preset = " + params.preset + "; expected auto or manual");
  bool neighbours = !examples.empty();
  for (const auto& e : examples) neighbours = neighbours && !e.neighbours.empty();
  const auto presets = autoPresets(params, neighbours);
  PresetChoice choice;
  for (const auto& p : presets) choice.table.push_back({p.name, {}, std::numeric_limits<double>::quiet_NaN(), 0});
  std::size_t best = 0, refinedRow = 0;
  SharedBanks shared;
  std::vector<std::vector<FoldRun>> runs(presets.size());
  try {
    const auto folds = makeFolds(examples, context, params.folds);
    choice.folds = foldDescription(examples, static_cast<int>(folds.size()));
    auto score = [&](std::size_t i) {
      std::string notes;
      // The fold models stack auto-context as learn.cv_stacking_folds says (see LearnParams).
      Preset forFolds = presets[i];
      forFolds.training.strokeStackingFolds = params.cvStackingFolds;
      choice.table[i] = scoreCandidate(examples, folds, forFolds, context, &shared, &runs[i], &notes);
      choice.notes = notes;
    };
    // Round 1: every one-stage candidate (they share the banks: trees only). Round 2 (successive
    // halving): auto-context on the better half of them, as a second stage can only refine what
    // its first stage's features tell.
    std::vector<std::size_t> oneStage, order;
    for (std::size_t i = 0; i < presets.size(); ++i)
      if (presets[i].features.autoContextScales.empty()) oneStage.push_back(i), score(i);
    order = oneStage;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return choice.table[a].meanIou > choice.table[b].meanIou; });
    const std::size_t kept = (order.size() + 1) / 2;
    std::string pruned;
    for (std::size_t i = 0; i < presets.size(); ++i) {
      if (!presets[i].features.autoContextScales.empty()) {
        FeatureSpec first = presets[i].features;
        first.autoContextScales.clear();
        auto oneStageWith = [&](const std::string& zContext) {
          return std::find_if(oneStage.begin(), oneStage.end(), [&](std::size_t j) {
            return presets[j].features.normalisation == first.normalisation && presets[j].features.zContext == zContext;
          });
        };
        const auto base = oneStageWith(first.zContext);
        // Of the two kinds of z context auto adds, only one goes on to a second stage (with the
        // neighbours' whole banks it costs about twice as much): their changes, unless the whole
        // banks' first stage beat the changes' by the margin.
        const auto changes = oneStageWith("changes"), banks = oneStageWith("above_below");
        const bool bothKinds = changes != oneStage.end() && banks != oneStage.end();
        const std::string goesOn =
            bothKinds && choice.table[*banks].meanIou > choice.table[*changes].meanIou + kMargin ? "above_below" : "changes";
        const bool otherKind = bothKinds && first.zContext != params.features.zContext && first.zContext != goesOn;
        const bool promising = base != oneStage.end() && !otherKind &&
                               std::find(order.begin(), order.begin() + kept, *base) != order.begin() + kept;
        if (promising) score(i);
        else pruned += (pruned.empty() ? "" : ", ") + presets[i].name;
      }
    }
    // The candidates go from cheaper to dearer: a dearer one must win by a margin.
    for (std::size_t i = 1; i < presets.size(); ++i)
      if (!std::isnan(choice.table[i].meanIou) && choice.table[i].meanIou > choice.table[best].meanIou + kMargin)
        best = i;
    if (!pruned.empty())
      choice.notes += (choice.notes.empty() ? "" : "; ") + std::string("pruned (their first stage scored in the lower "
                      "half, or the other kind of z context went on): ") + pruned;
    // Boundary refinements of the best candidate's held-out labels: cheap (no training); the
    // best of them is chosen only if it wins by the margin too (it moves boundaries the strokes
    // may not reach).
    double bestRefined = choice.table[best].meanIou + kMargin;
    for (const auto& refine : autoRefinementCandidates(params)) {
      auto refined = scoreRefinement(examples, folds, runs[best], choice.table[best], refine, context);
      if (refined.meanIou > bestRefined) bestRefined = refined.meanIou, choice.refine = refine, refinedRow = choice.table.size();
      choice.table.push_back(refined);
    }
  } catch (const Error& e) {
    // Too few strokes to hold any out (e.g. one stroke of a phase on one slice): train the first
    // candidate and say why nothing was compared.
    if (!std::isnan(choice.table[0].meanIou)) throw;
    choice.table.clear();
    choice.folds = "none";
    choice.notes = std::string("no cross-validation, the first preset trained: ") + e.what();
    best = 0;
  }
  choice.chosen = choice.refine.bandPx > 0 ? choice.table.at(refinedRow).name : presets[best].name;
  // The final model shares the banks too (the training range is that of all slices, as here).
  FeatureSpec spec = presets[best].features;
  std::vector<cv::Mat> rows;
  const std::string key = sharedKey(spec);
  if (spec.cnnModel.empty() && shared.rows.count(key)) {
    spec.greyLow = shared.spec[key].greyLow;
    spec.greyHigh = shared.spec[key].greyHigh;
    rows = shared.rows[key];
  }
  auto model = Classifier::train(examples, spec, presets[best].training, context, rows);
  model.recordPresetChoice(choice);
  return model;
}

namespace detail {

// Each connected stroke (8-connected pixels of one phase code) gets a fold: per phase, strokes in
// scan order are dealt 0, 1, ..., k-1, 0, ... so every fold holds strokes of each phase that has
// at least k of them. Returns a CV_32S map: fold index, -1 unpainted.
cv::Mat strokeFolds(const cv::Mat& annotation, int phases, int k) {
  cv::Mat folds(annotation.size(), CV_32S, cv::Scalar(-1));
  for (int p = 1; p <= phases; ++p) {
    cv::Mat components;
    cv::connectedComponents(annotation == p, components, 8, CV_32S);
    for (int y = 0; y < annotation.rows; ++y) {
      const int* c = components.ptr<int>(y);
      int* f = folds.ptr<int>(y);
      for (int x = 0; x < annotation.cols; ++x)
        if (c[x] > 0) f[x] = (c[x] - 1) % k;
    }
  }
  return folds;
}

}  // namespace detail

Classifier loadModelFor(const LearnParams& params) {
  FeatureSpec wanted = params.features;
  resolveCnnModel(wanted);
  if (params.preset != "auto") return Classifier::load(params.model, wanted);
  const auto model = Classifier::load(params.model);
  wanted.normalisation = model.featureSpec().normalisation;
  wanted.autoContextScales = model.featureSpec().autoContextScales;
  if (wanted.zContext == "none") wanted.zContext = model.featureSpec().zContext;  // auto may add z context
  const std::string differences = describeFeatureDifferences(model.featureSpec(), wanted);
  if (!differences.empty())
    throw Error("model " + params.model.string() + " was trained with other features than the configuration asks "
                "for:\n" + differences + "expected the same feature parameters (learn.preset = auto chooses only "
                "learn.normalisation, learn.auto_context_scales and, where it is none, learn.z_context): set them to the model's values or retrain with "
                "`fibseg train`");
  return model;
}

}  // namespace fibseg::learn
