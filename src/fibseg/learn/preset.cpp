// learn.preset = auto: a few candidate settings, each scored by cross-validation on the user's
// own strokes, the best trained on all of them. Folds are whole slices when several are painted
// (a setting must carry over to slices it never saw: brightness drift, other phase proportions)
// and whole strokes otherwise (neighbouring pixels of one stroke are near copies: a pixel-wise
// split would score memory, not generalisation).
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstdio>
#include <limits>

#include "fibseg/core/error.hpp"
#include "fibseg/learn/learn.hpp"

namespace fibseg::learn {

namespace {

constexpr double kMargin = 0.002;  // cross-validated mean IoU a dearer preset must gain

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

std::string number(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

}  // namespace

std::string PresetChoice::text(const std::vector<std::string>& phases) const {
  std::string out = "cross-validated IoU on held-out strokes (" + folds + "):\n";
  char line[256];
  std::snprintf(line, sizeof line, "  %-44s %6s", "preset", "mean");
  out += line;
  for (const auto& p : phases) out += " " + p;
  out += "\n";
  for (const auto& row : table) {
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

std::vector<Preset> autoPresets(const LearnParams& params) {
  std::vector<Preset> out;
  const std::vector<double> context =
      params.features.autoContextScales.empty() ? std::vector<double>{1, 2, 4, 8} : params.features.autoContextScales;
  for (const char* grey : {"percentile", "training"})
    for (bool twoStage : {false, true}) {
      Preset p{std::string("bank, ") + (std::string(grey) == "percentile" ? "per-slice grey" : "training grey") +
                   (twoStage ? " + auto-context" : ""),
               params.features, params.training};
      p.features.normalisation = grey;
      p.features.autoContextScales = twoStage ? context : std::vector<double>{};
      out.push_back(p);
    }
  return out;
}

PresetScore crossValidate(const std::vector<AnnotatedSlice>& examples, const Preset& preset,
                          const TrainingContext& context, int folds, std::string* foldText, std::string* notes) {
  const int phases = static_cast<int>(context.phaseNames.size());
  if (examples.empty()) throw Error("cross-validation: no annotated slices");
  if (folds < 2) throw Error("cross-validation: learn.cv_folds = " + std::to_string(folds) + "; expected at least 2");
  const bool bySlice = examples.size() >= 2;
  const int k = bySlice ? static_cast<int>(examples.size()) : folds;
  if (foldText)
    *foldText = bySlice ? "leave one slice out, " + std::to_string(k) + " folds"
                        : std::to_string(k) + " folds of connected strokes on the one slice";
  std::vector<cv::Mat> foldOf;  // per example: fold of each painted pixel
  for (const auto& e : examples)
    foldOf.push_back(bySlice ? cv::Mat() : strokeFolds(e.annotation, phases, k));
  // Confusion on held-out strokes: truth x predicted.
  std::vector<std::vector<double>> confusion(phases, std::vector<double>(phases, 0));
  PresetScore score{preset.name, {}, 0, 0};
  std::string skipped;
  for (int f = 0; f < k; ++f) {
    std::vector<AnnotatedSlice> train;
    std::vector<std::pair<std::size_t, cv::Mat>> heldOut;  // example, held-out annotation
    for (std::size_t i = 0; i < examples.size(); ++i) {
      if (bySlice) {
        if (static_cast<int>(i) == f) heldOut.push_back({i, examples[i].annotation});
        else train.push_back(examples[i]);
        continue;
      }
      const cv::Mat inFold = foldOf[i] == f;
      AnnotatedSlice rest = examples[i];
      rest.annotation = examples[i].annotation.clone();
      rest.annotation.setTo(0, inFold);
      train.push_back(rest);
      cv::Mat held = cv::Mat::zeros(examples[i].annotation.size(), CV_8U);
      examples[i].annotation.copyTo(held, inFold);
      heldOut.push_back({i, held});
    }
    std::vector<long long> count(phases, 0);
    for (const auto& t : train)
      for (int p = 0; p < phases; ++p) count[p] += cv::countNonZero(t.annotation == p + 1);
    std::string missing;
    for (int p = 0; p < phases; ++p)
      if (count[p] == 0) missing += (missing.empty() ? "" : ", ") + context.phaseNames[p];
    if (!missing.empty()) {
      skipped += (skipped.empty() ? "" : "; ") + std::string("fold ") + std::to_string(f + 1) +
                 " skipped: its training strokes hold no " + missing;
      continue;
    }
    const auto model = Classifier::train(train, preset.features, preset.training, context);
    for (const auto& [i, held] : heldOut) {
      if (cv::countNonZero(held) == 0) continue;
      const cv::Mat labels = model.predict(examples[i].slice, examples[i].neighbours).labels;
      for (int y = 0; y < held.rows; ++y) {
        const auto* a = held.ptr<std::uint8_t>(y);
        const auto* l = labels.ptr<std::uint8_t>(y);
        for (int x = 0; x < held.cols; ++x)
          if (a[x]) confusion[a[x] - 1][l[x]] += 1;
      }
    }
    ++score.foldsScored;
  }
  if (notes) *notes = skipped;
  if (score.foldsScored == 0)
    throw Error("cross-validation: no fold could be trained (" + skipped +
                "); expected strokes of every phase on at least two slices, or at least " + std::to_string(folds) +
                " separate strokes of every phase on one slice");
  // Per phase: held-out pixels of the phase found as it, against all predicted as it or truly it.
  // Each phase's row is scaled to one pixel so a phase with more strokes does not swamp the
  // false positives of a rare one.
  for (auto& row : confusion) {
    double total = 0;
    for (double v : row) total += v;
    if (total > 0)
      for (double& v : row) v /= total;
  }
  int present = 0;
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
  return score;
}

Classifier trainModel(const std::vector<AnnotatedSlice>& examples, const LearnParams& params,
                      const TrainingContext& context) {
  if (params.preset == "manual") return Classifier::train(examples, params.features, params.training, context);
  if (params.preset != "auto")
    throw Error("learn.preset = " + params.preset + "; expected auto or manual");
  const auto presets = autoPresets(params);
  PresetChoice choice;
  std::size_t best = 0;
  try {
    for (std::size_t i = 0; i < presets.size(); ++i) {
      std::string notes;
      choice.table.push_back(crossValidate(examples, presets[i], context, params.folds, &choice.folds, &notes));
      choice.notes = notes;
      // The candidates go from cheaper to dearer: a dearer one must win by a margin.
      if (choice.table.back().meanIou > choice.table[best].meanIou + kMargin) best = i;
    }
  } catch (const Error& e) {
    // Too few strokes to hold any out (e.g. one stroke of a phase on one slice): train the first
    // candidate and say why nothing was compared.
    if (!choice.table.empty()) throw;
    choice.folds = "none";
    choice.notes = std::string("no cross-validation, the first preset trained: ") + e.what();
    best = 0;
  }
  choice.chosen = presets[best].name;
  auto model = Classifier::train(examples, presets[best].features, presets[best].training, context);
  model.recordPresetChoice(choice);
  return model;
}

Classifier loadModelFor(const LearnParams& params) {
  FeatureSpec wanted = params.features;
  resolveCnnModel(wanted);
  if (params.preset != "auto") return Classifier::load(params.model, wanted);
  const auto model = Classifier::load(params.model);
  wanted.normalisation = model.featureSpec().normalisation;
  wanted.autoContextScales = model.featureSpec().autoContextScales;
  const std::string differences = describeFeatureDifferences(model.featureSpec(), wanted);
  if (!differences.empty())
    throw Error("model " + params.model.string() + " was trained with other features than the configuration asks "
                "for:\n" + differences + "expected the same feature parameters (learn.preset = auto chooses only "
                "learn.normalisation and learn.auto_context_scales): set them to the model's values or retrain with "
                "`fibseg train`");
  return model;
}

}  // namespace fibseg::learn
