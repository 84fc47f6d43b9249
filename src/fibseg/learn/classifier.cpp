// Training and prediction with libxgboost's C API. Training samples at most samplesPerPhase
// labelled pixels per phase and weights the phases equally (strokes of the rare pore phase would
// otherwise be outvoted); prediction runs band by band so memory stays flat on large slices.
#include <tbb/parallel_for.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <tuple>
#include <random>
#include <sstream>

#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/core/image.hpp"
#include "fibseg/learn/feature_bank.hpp"
#include "fibseg/learn/forest.hpp"
#include "fibseg/learn/learn.hpp"

namespace fibseg::learn {

namespace {

constexpr long long kBandPixels = 1 << 19;  // ~ 0.5 Mpx per band: features stay in a few 100 MB
constexpr const char* kFormat = "fibseg pixel classifier";

void check(int status, const std::string& what) {
  if (status != 0) throw Error("XGBoost, " + what + ": " + XGBGetLastError());
}

struct DMatrix {
  DMatrixHandle handle = nullptr;
  ~DMatrix() {
    if (handle) XGDMatrixFree(handle);
  }
};

}  // namespace

struct Booster {
  BoosterHandle handle = nullptr;
  ~Booster() {
    if (handle) XGBoosterFree(handle);
  }
};

// XGBoost trains and checks the model; prediction walks the exported trees (forest.hpp).
struct Classifier::Impl {
  FeatureSpec spec;
  std::unique_ptr<detail::CnnRunner> cnn;
  nlohmann::json xgboostModel;  // XGBoost's JSON model, saved as is
  detail::Forest forest;
  // Auto-context (spec.autoContextScales set): the second stage, on the features and the first
  // stage's smoothed probabilities.
  nlohmann::json stage2Model;
  detail::Forest stage2;
  nlohmann::json trainingSummary;
  TrainingContext context;
  std::string presetText;  // PresetChoice::text of learn.preset = auto, empty otherwise
  // The feature planes' memory, kept from one prediction for the next (feature_bank.hpp).
  std::unique_ptr<detail::PlanePool> planes = std::make_unique<detail::PlanePool>();
};

namespace {

// Trains XGBoost on `rows` feature rows and returns its JSON model.
nlohmann::json trainBooster(const std::vector<float>& data, long long rows, int featureCount,
                            const std::vector<float>& labels, const std::vector<float>& weights, int phases,
                            const TrainingParams& params) {
  DMatrix train;
  check(XGDMatrixCreateFromMat(data.data(), rows, featureCount, std::numeric_limits<float>::quiet_NaN(), &train.handle),
        "creating the training matrix");
  check(XGDMatrixSetFloatInfo(train.handle, "label", labels.data(), rows), "setting labels");
  check(XGDMatrixSetFloatInfo(train.handle, "weight", weights.data(), rows), "setting weights");
  Booster booster;
  check(XGBoosterCreate(&train.handle, 1, &booster.handle), "creating the booster");
  // Exact split finding puts a threshold midway between neighbouring training values (the
  // histogram method puts it at a bin edge): with sparse strokes inside each phase, the decision
  // boundary then falls halfway between the phases rather than hugging one of them.
  const std::vector<std::pair<std::string, std::string>> settings = {
      {"objective", "multi:softprob"},  {"num_class", std::to_string(phases)},
      {"tree_method", "exact"},         {"max_depth", std::to_string(params.maxDepth)},
      {"eta", std::to_string(params.learningRate)}, {"seed", std::to_string(params.seed)},
      {"verbosity", "0"},
      // Stroke annotations give small training sets; on them XGBoost's per-level thread
      // synchronisation costs more than it saves (and stalls on a busy machine).
      {"nthread", rows < 100000 ? "1" : "0"}};
  for (const auto& [key, value] : settings)
    check(XGBoosterSetParam(booster.handle, key.c_str(), value.c_str()), "setting " + key);
  for (int round = 0; round < params.rounds; ++round)
    check(XGBoosterUpdateOneIter(booster.handle, round, train.handle), "training round " + std::to_string(round));
  bst_ulong length = 0;
  const char* buffer = nullptr;
  check(XGBoosterSaveModelToBuffer(booster.handle, R"({"format": "json"})", &length, &buffer), "exporting the trees");
  return nlohmann::json::parse(std::string(buffer, length));
}

// `forest` over rows `band` of a slice whose features of those rows are `planes` (one CV_32F
// plane of the band per feature): labels, and each class's probability when `probabilities`
// holds one plane per class (whole-slice planes).
void classifyBand(const std::vector<cv::Mat>& planes, cv::Range band, const detail::Forest& forest, cv::Mat& labels,
                  std::vector<cv::Mat>& probabilities) {
  if (static_cast<int>(planes.size()) != forest.features())
    throw Error("classifier: " + std::to_string(planes.size()) + " features computed, the trees expect " +
                std::to_string(forest.features()));
  const int classes = forest.classes();
  const bool withProbabilities = !probabilities.empty();
  const int cols = labels.cols;
  tbb::parallel_for(band.start, band.end, [&](int y) {
    std::vector<const float*> row(planes.size());
    for (std::size_t f = 0; f < planes.size(); ++f) row[f] = planes[f].ptr<float>(y - band.start);
    auto* label = labels.ptr<std::uint8_t>(y);
    if (!withProbabilities) {  // labels only: settled pixels skip the remaining trees
      forest.labels(row.data(), cols, label);
      return;
    }
    std::vector<float> scores(static_cast<std::size_t>(cols) * classes);
    forest.margins(row.data(), cols, scores.data());
    for (int x = 0; x < cols; ++x) {
      const float* s = scores.data() + static_cast<std::size_t>(x) * classes;
      label[x] = static_cast<std::uint8_t>(std::max_element(s, s + classes) - s);
      // XGBoost's multi:softprob: softmax of the class scores.
      const float top = s[label[x]];
      float e[kMaxPhases], sum = 0;
      for (int c = 0; c < classes; ++c) sum += e[c] = std::exp(s[c] - top);
      for (int c = 0; c < classes; ++c) probabilities[c].ptr<float>(y)[x] = e[c] / sum;
    }
  });
}

// `forest` over every pixel of the normalised slice, band by band (one stage).
void classify(const cv::Mat& normalised, const std::vector<cv::Mat>& contexts, const FeatureSpec& spec,
              detail::CnnRunner* cnn, const detail::Forest& forest, cv::Mat& labels,
              std::vector<cv::Mat>& probabilities, detail::PlanePool* pool) {
  detail::forEachBand(normalised, contexts, spec, cnn, kBandPixels,
                      [&](cv::Range band, const std::vector<cv::Mat>& bank) {
    classifyBand(bank, band, forest, labels, probabilities);
  }, pool);
}

// The first stage of an auto-context model over rows `band` (bank `planes` of those rows): the
// probability of each class at the grid points of the band (spec.autoContextStep; every pixel at
// 1) into the whole-slice grid planes `stage1` (firstStageGrid).
void classifyFirstStage(const std::vector<cv::Mat>& planes, cv::Range band, const detail::Forest& forest,
                        const FeatureSpec& spec, std::vector<cv::Mat>& stage1) {
  const int step = spec.autoContextStep;
  if (step == 1) {
    cv::Mat labels(stage1[0].size(), CV_8U);  // unused: the second stage labels
    classifyBand(planes, band, forest, labels, stage1);
    return;
  }
  if (static_cast<int>(planes.size()) != forest.features())
    throw Error("classifier: " + std::to_string(planes.size()) + " features computed, the trees expect " +
                std::to_string(forest.features()));
  const int classes = forest.classes(), gridCols = stage1[0].cols;
  const int firstRow = (band.start + step - 1) / step, endRow = (band.end + step - 1) / step;
  tbb::parallel_for(firstRow, endRow, [&](int g) {
    const int y = g * step - band.start;
    // The grid points' features side by side, as the trees walk consecutive pixels.
    std::vector<float> gathered(planes.size() * static_cast<std::size_t>(gridCols));
    std::vector<const float*> row(planes.size());
    for (std::size_t f = 0; f < planes.size(); ++f) {
      const float* in = planes[f].ptr<float>(y);
      float* out = gathered.data() + f * gridCols;
      for (int i = 0; i < gridCols; ++i) out[i] = in[i * step];
      row[f] = out;
    }
    std::vector<float> scores(static_cast<std::size_t>(gridCols) * classes);
    forest.margins(row.data(), gridCols, scores.data());
    for (int i = 0; i < gridCols; ++i) {
      const float* sc = scores.data() + static_cast<std::size_t>(i) * classes;
      const float top = *std::max_element(sc, sc + classes);
      float e[kMaxPhases], sum = 0;
      for (int c = 0; c < classes; ++c) sum += e[c] = std::exp(sc[c] - top);
      for (int c = 0; c < classes; ++c) stage1[c].ptr<float>(g)[i] = e[c] / sum;
    }
  });
}

std::vector<cv::Mat> probabilityPlanes(cv::Size size, int classes) {
  std::vector<cv::Mat> planes;
  for (int c = 0; c < classes; ++c) planes.emplace_back(size, CV_32F);
  return planes;
}

// Both stages of an auto-context model with one computation of the bank: a band's bank waits
// until the first stage has classified the rows its auto-context features reach below it (the
// next band, as a band is far taller than the smoothing's radius), then the second stage
// classifies it and it is dropped. Memory stays at about two bands' banks.
void classifyTwoStages(const cv::Mat& normalised, const std::vector<cv::Mat>& contexts, const FeatureSpec& spec,
                       detail::CnnRunner* cnn, const detail::Forest& first, const detail::Forest& second,
                       cv::Mat& labels, std::vector<cv::Mat>& probabilities, detail::PlanePool* pool) {
  auto stage1 = probabilityPlanes(detail::firstStageGrid(normalised.size(), spec), first.classes());
  const int reach = detail::autoContextHalo(spec);
  std::deque<std::pair<cv::Range, std::vector<cv::Mat>>> waiting;
  auto secondStage = [&](const std::pair<cv::Range, std::vector<cv::Mat>>& band) {
    std::vector<cv::Mat> planes = band.second;
    detail::appendAutoContextFeatures(planes, stage1, band.first, spec, normalised.cols, pool);
    classifyBand(planes, band.first, second, labels, probabilities);
  };
  detail::forEachBand(normalised, contexts, spec, cnn, kBandPixels,
                      [&](cv::Range band, const std::vector<cv::Mat>& bank) {
    classifyFirstStage(bank, band, first, spec, stage1);
    waiting.emplace_back(band, bank);
    while (!waiting.empty() && (waiting.front().first.end + reach <= band.end || band.end == normalised.rows)) {
      secondStage(waiting.front());
      waiting.pop_front();
    }
  }, pool);
  for (const auto& band : waiting) secondStage(band);
}

}  // namespace

Classifier::Classifier(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

const FeatureSpec& Classifier::featureSpec() const { return impl_->spec; }
const TrainingContext& Classifier::context() const { return impl_->context; }

void Classifier::requirePhases(const std::vector<std::string>& phases, const std::string& where) const {
  if (!samePhaseNames(impl_->context.phaseNames, phases))
    throw Error(where + ": the model was trained on the phases " + joinPhaseNames(impl_->context.phaseNames) +
                ", but phases.names names " + joinPhaseNames(phases) +
                "; expected the same phases in the same order (set phases.names to the model's, or retrain)");
}

Classifier Classifier::train(const std::vector<AnnotatedSlice>& examples, const FeatureSpec& features,
                             const TrainingParams& params, const TrainingContext& context) {
  return train(examples, features, params, context, std::vector<cv::Mat>{});
}

Classifier Classifier::train(const std::vector<AnnotatedSlice>& examples, const FeatureSpec& requestedFeatures,
                             const TrainingParams& params, const TrainingContext& context,
                             const std::vector<cv::Mat>& paintedRows) {
  const int phases = static_cast<int>(context.phaseNames.size());
  if (phases < kMinPhases || phases > kMaxPhases)
    throw Error("training: " + std::to_string(phases) + " phases (" + joinPhaseNames(context.phaseNames) +
                "); expected 2 to 8");
  if (examples.empty()) throw Error("training: no annotated slices; expected at least one slice with annotation");
  if (params.rounds < 1 || params.maxDepth < 1 || !(params.learningRate > 0) || params.samplesPerPhase < 1)
    throw Error("training: learn.rounds, learn.max_depth, learn.learning_rate and learn.samples_per_phase must be "
                "positive");
  auto impl = std::make_shared<Impl>();
  impl->spec = requestedFeatures;
  const FeatureSpec& features = impl->spec;  // with the training slices' grey range once known
  impl->context = context;
  if (!features.cnnModel.empty()) {
    if (features.cnnModelDigest.empty())
      throw Error("training: CNN model " + features.cnnModel + " not resolved (internal: call resolveCnnModel)");
    impl->cnn = std::make_unique<detail::CnnRunner>(features.cnnModel);
  }

  // Count labelled pixels per phase, then choose which to use (uniformly, reproducibly).
  std::vector<long long> available(phases, 0);
  impl->context.bitDepth = 0;
  for (const auto& example : examples) {
    const int depth = bitDepthOf(example.slice, example.name);
    if (impl->context.bitDepth && depth != impl->context.bitDepth)
      throw Error("training: " + example.name + " is " + std::to_string(depth) + "-bit, " + examples[0].name +
                  " is " + std::to_string(impl->context.bitDepth) + "-bit; expected slices of one bit depth");
    impl->context.bitDepth = depth;
    if (example.annotation.type() != CV_8U || example.annotation.size() != example.slice.size())
      throw Error("training: annotation of " + example.name + " is " + std::to_string(example.annotation.cols) +
                  "x" + std::to_string(example.annotation.rows) + "; expected an 8-bit label image of the slice's size " +
                  std::to_string(example.slice.cols) + "x" + std::to_string(example.slice.rows));
    for (int y = 0; y < example.annotation.rows; ++y) {
      const auto* a = example.annotation.ptr<std::uint8_t>(y);
      for (int x = 0; x < example.annotation.cols; ++x) {
        if (a[x] > phases)
          throw Error("training: annotation of " + example.name + " has value " + std::to_string(a[x]) +
                      "; expected 0 unlabelled or 1 to " + std::to_string(phases) + " (phase index + 1 of " +
                      joinPhaseNames(context.phaseNames) + ")");
        if (a[x]) ++available[a[x] - 1];
      }
    }
  }
  std::string missing;
  for (int p = 0; p < phases; ++p)
    if (available[p] == 0) missing += (missing.empty() ? "" : ", ") + context.phaseNames[p];
  if (!missing.empty())
    throw Error("training: the annotations contain no pixels of " + missing + "; expected strokes of every named "
                "phase (phases.names: " + joinPhaseNames(context.phaseNames) + ") on at least one slice");

  if (features.normalisation == "training" && !(features.greyHigh > features.greyLow)) {
    // One grey mapping for every slice this model will see: what the training slices span.
    std::vector<cv::Mat> greys;
    for (const auto& example : examples) greys.push_back(example.slice);
    std::tie(impl->spec.greyLow, impl->spec.greyHigh) = detail::greyPercentiles(greys);
    if (!(impl->spec.greyHigh > impl->spec.greyLow))  // flat training slices: the bit depth's range
      std::tie(impl->spec.greyLow, impl->spec.greyHigh) = std::pair{0.0, impl->context.bitDepth == 8 ? 255.0 : 65535.0};
  }

  std::mt19937_64 rng(params.seed);
  std::vector<std::vector<char>> chosen(phases);  // by rank among the phase's labelled pixels
  std::vector<long long> used(phases, 0);
  for (int p = 0; p < phases; ++p) {
    used[p] = std::min<long long>(available[p], params.samplesPerPhase);
    chosen[p].assign(available[p], 0);
    std::vector<long long> ranks(available[p]);
    std::iota(ranks.begin(), ranks.end(), 0);
    std::shuffle(ranks.begin(), ranks.end(), rng);
    for (long long i = 0; i < used[p]; ++i) chosen[p][ranks[i]] = 1;
  }

  const int featureCount = static_cast<int>(featureNames(features).size());
  const long long rows = std::accumulate(used.begin(), used.end(), 0LL);
  std::vector<float> data;
  data.reserve(rows * featureCount);
  std::vector<float> labels, weights;
  labels.reserve(rows);
  std::vector<long long> rank(phases, 0);
  std::vector<std::vector<cv::Point>> where(examples.size());  // of each row, per example
  if (!paintedRows.empty() && paintedRows.size() != examples.size())
    throw Error("training: feature rows of " + std::to_string(paintedRows.size()) + " slices given for " +
                std::to_string(examples.size()) + " (internal)");
  for (std::size_t e = 0; e < paintedRows.size(); ++e) {  // features computed already: pick the rows
    const auto& example = examples[e];
    const cv::Mat& given = paintedRows[e];
    if (given.type() != CV_32F || given.rows != cv::countNonZero(example.annotation) || given.cols < featureCount)
      throw Error("training: feature rows of " + example.name + " do not match its strokes (internal)");
    int row = 0;
    for (int y = 0; y < example.annotation.rows; ++y) {
      const auto* a = example.annotation.ptr<std::uint8_t>(y);
      for (int x = 0; x < example.annotation.cols; ++x) {
        if (!a[x]) continue;
        const int p = a[x] - 1;
        const float* values = given.ptr<float>(row++);
        if (!chosen[p][rank[p]++]) continue;
        data.insert(data.end(), values, values + featureCount);
        labels.push_back(static_cast<float>(p));
        where[e].emplace_back(x, y);
      }
    }
  }
  for (std::size_t e = 0; e < examples.size() && paintedRows.empty(); ++e) {
    const auto& example = examples[e];
    const cv::Mat normalised = detail::normaliseSlice(example.slice, impl->spec);
    const auto contexts =
        detail::contextImages(example.neighbours, features, example.slice.size(), "training slice " + example.name);
    detail::forEachBand(normalised, contexts, features, impl->cnn.get(), kBandPixels,
                        [&](cv::Range band, const std::vector<cv::Mat>& planes) {
      for (int y = band.start; y < band.end; ++y) {
        const auto* a = example.annotation.ptr<std::uint8_t>(y);
        for (int x = 0; x < example.annotation.cols; ++x) {
          if (!a[x]) continue;
          const int p = a[x] - 1;
          if (!chosen[p][rank[p]++]) continue;
          for (int f = 0; f < featureCount; ++f) data.push_back(planes[f].at<float>(y - band.start, x));
          labels.push_back(static_cast<float>(p));
          where[e].emplace_back(x, y);
        }
      }
    });
  }
  for (float l : labels) weights.push_back(static_cast<float>(rows) / (phases * used[static_cast<int>(l)]));

  impl->xgboostModel = trainBooster(data, rows, featureCount, labels, weights, phases, params);
  impl->forest = detail::Forest::fromXGBoostJson(impl->xgboostModel);

  if (!features.autoContextScales.empty()) {
    // Stage 2 on the same pixels: each row gains the first stage's probabilities around it on its
    // own slice. Those come from a first stage trained on the *other* annotated slices (stacking
    // with leave-one-slice-out folds): the first stage's answer on its own strokes is overconfident
    // (it was fitted to them), and a second stage trained on that learns to trust it more than it
    // deserves on unseen slices (lco-fibsem with z context: 0.836 in-sample, 0.878 out-of-fold;
    // bench/README.md). With one annotated slice, or when the other slices lack a phase, the
    // first stage itself stands in. (Folds of whole strokes on one slice were tried: on lco-fibsem
    // they raised auto's cross-validated score of auto-context, but on the phantom they lowered a
    // one-slice model's agreement from > 0.9 to 0.88, so not kept.)
    const int extra = static_cast<int>(autoContextFeatureNames(features, context.phaseNames).size());
    const int wide = featureCount + extra;
    std::vector<long long> firstRow(examples.size() + 1, 0);
    for (std::size_t e = 0; e < examples.size(); ++e) firstRow[e + 1] = firstRow[e] + static_cast<long long>(where[e].size());
    // A first stage trained on the rows `keep` accepts (nullopt when they lack a phase).
    auto stage1On = [&](const std::function<bool(long long)>& keep) -> std::optional<detail::Forest> {
      std::vector<float> d, l, w;
      std::vector<long long> count(phases, 0);
      for (long long r = 0; r < rows; ++r) {
        if (!keep(r)) continue;
        d.insert(d.end(), data.begin() + r * featureCount, data.begin() + (r + 1) * featureCount);
        l.push_back(labels[r]);
      }
      for (float v : l) ++count[static_cast<int>(v)];
      if (std::find(count.begin(), count.end(), 0) != count.end()) return std::nullopt;
      const long long n = static_cast<long long>(l.size());
      for (float v : l) w.push_back(static_cast<float>(n) / (phases * count[static_cast<int>(v)]));
      return detail::Forest::fromXGBoostJson(trainBooster(d, n, featureCount, l, w, phases, params));
    };
    std::vector<float> data2(static_cast<std::size_t>(rows) * wide);
    for (std::size_t e = 0; e < examples.size(); ++e) {
      const auto& example = examples[e];
      const cv::Mat normalised = detail::normaliseSlice(example.slice, impl->spec);
      const auto contexts =
          detail::contextImages(example.neighbours, features, example.slice.size(), "training slice " + example.name);
      // Which first stage gives each row's features: per source, a forest and the fold of rows
      // it serves (-1: all of the slice's rows).
      std::vector<std::optional<detail::Forest>> sources;
      std::vector<int> rowFold(where[e].size(), -1);
      if (examples.size() >= 2) {
        sources.push_back(stage1On([&](long long r) { return r < firstRow[e] || r >= firstRow[e + 1]; }));
      } else if (params.strokeStackingFolds >= 2) {
        const cv::Mat folds = detail::strokeFolds(example.annotation, phases, params.strokeStackingFolds);
        for (std::size_t i = 0; i < where[e].size(); ++i) rowFold[i] = folds.at<int>(where[e][i]);
        for (int f = 0; f < params.strokeStackingFolds; ++f)
          sources.push_back(stage1On([&](long long r) { return rowFold[r - firstRow[e]] != f; }));
      } else {
        sources.emplace_back();
      }
      std::vector<std::vector<cv::Mat>> stage1;
      for (std::size_t k = 0; k < sources.size(); ++k)
        stage1.push_back(probabilityPlanes(detail::firstStageGrid(example.slice.size(), impl->spec), phases));
      detail::forEachBand(normalised, contexts, features, impl->cnn.get(), kBandPixels,
                          [&](cv::Range band, const std::vector<cv::Mat>& bank) {
        // A source without a forest (no out-of-fold one, or its training part lacks a phase):
        // the first stage itself stands in.
        for (std::size_t k = 0; k < sources.size(); ++k)
          classifyFirstStage(bank, band, sources[k] ? *sources[k] : impl->forest, impl->spec, stage1[k]);
      });
      for (std::size_t k = 0; k < sources.size(); ++k) {
        std::vector<cv::Mat> around;
        detail::appendAutoContextFeatures(around, stage1[k], cv::Range(0, example.slice.rows), impl->spec,
                                          example.slice.cols);
        for (long long r = firstRow[e]; r < firstRow[e + 1]; ++r) {
          const int fold = rowFold[r - firstRow[e]];
          if (sources.size() > 1 && fold != static_cast<int>(k)) continue;
          float* out = data2.data() + r * wide;
          std::copy(data.data() + r * featureCount, data.data() + (r + 1) * featureCount, out);
          const cv::Point p = where[e][r - firstRow[e]];
          for (int c = 0; c < extra; ++c) out[featureCount + c] = around[c].at<float>(p);
        }
      }
    }
    impl->stage2Model = trainBooster(data2, rows, wide, labels, weights, phases, params);
    impl->stage2 = detail::Forest::fromXGBoostJson(impl->stage2Model);
  }

  nlohmann::ordered_json labelled, sampled;
  for (int p = 0; p < phases; ++p) {
    labelled[context.phaseNames[p]] = available[p];
    sampled[context.phaseNames[p]] = used[p];
  }
  impl->trainingSummary = {{"slices", examples.size()},
                           {"labelled_pixels", labelled},
                           {"sampled_pixels", sampled},
                           {"rounds", params.rounds},
                           {"max_depth", params.maxDepth},
                           {"learning_rate", params.learningRate},
                           {"seed", params.seed},
                           {"stages", features.autoContextScales.empty() ? 1 : 2}};
  return Classifier(std::move(impl));
}

void Classifier::save(const std::filesystem::path& path) const {
  nlohmann::json doc;
  doc["format"] = kFormat;
  doc["version"] = 1;
  doc["phases"] = impl_->context.phaseNames;
  doc["phase_values"] = impl_->context.phaseValues;
  doc["phase_colours"] = impl_->context.phaseColoursRgb;
  doc["bit_depth"] = impl_->context.bitDepth;
  doc["denoise"] = impl_->context.denoise;
  doc["feature_spec"] = nlohmann::json::parse(featureSpecToJson(impl_->spec));
  doc["training"] = impl_->trainingSummary;
  doc["xgboost"] = impl_->xgboostModel;
  if (!impl_->spec.autoContextScales.empty()) doc["xgboost_stage2"] = impl_->stage2Model;
  writeTextFile(path, doc.dump());
}

Classifier Classifier::load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read model " + path.string() + "; expected a model file written by `fibseg train`");
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    throw Error("model " + path.string() + " is not JSON (" + e.what() + "); expected a model written by `fibseg train`");
  }
  if (!doc.is_object() || doc.value("format", "") != kFormat || !doc.contains("feature_spec") || !doc.contains("xgboost"))
    throw Error("model " + path.string() + " is not a fibseg pixel classifier; expected a model written by `fibseg train`");
  auto impl = std::make_shared<Impl>();
  impl->spec = featureSpecFromJson(doc["feature_spec"].dump(), "model " + path.string());
  impl->trainingSummary = doc.value("training", nlohmann::json::object());
  if (impl->trainingSummary.is_object() && impl->trainingSummary.contains("preset") &&
      impl->trainingSummary["preset"].is_object() && impl->trainingSummary["preset"].contains("text") &&
      impl->trainingSummary["preset"]["text"].is_string())
    impl->presetText = impl->trainingSummary["preset"]["text"].get<std::string>();
  // Models written before phases were configurable hold pore, SE, CAM.
  impl->context.phaseNames = doc.value("phases", std::vector<std::string>{"pore", "SE", "CAM"});
  impl->context.phaseValues = doc.value("phase_values", std::vector<std::uint8_t>{});
  impl->context.phaseColoursRgb = doc.value("phase_colours", std::vector<std::array<std::uint8_t, 3>>{});
  impl->context.bitDepth = doc.value("bit_depth", 0);
  impl->context.denoise = doc.value("denoise", std::string("none"));
  if (!impl->spec.cnnModel.empty()) {
    std::filesystem::path cnn = impl->spec.cnnModel;
    if (!std::filesystem::exists(cnn) && cnn.is_relative()) cnn = path.parent_path() / cnn;
    if (!std::filesystem::exists(cnn)) cnn = path.parent_path() / std::filesystem::path(impl->spec.cnnModel).filename();
    if (!std::filesystem::exists(cnn))
      throw Error("model " + path.string() + " needs the CNN model " + impl->spec.cnnModel +
                  ", which was not found there nor beside the model file");
    const std::string digest = detail::fileDigest(cnn.string());
    if (digest != impl->spec.cnnModelDigest)
      throw Error("model " + path.string() + " was trained with CNN model " + impl->spec.cnnModel + " (digest " +
                  impl->spec.cnnModelDigest + "), but " + cnn.string() + " has digest " + digest +
                  "; expected the same file");
    impl->cnn = std::make_unique<detail::CnnRunner>(cnn.string());
  }
  // fibseg predicts with its own reading of the trees (detail::Forest), which checks every field it
  // reads, split features included. The file never reaches XGBoost's loader: it crashes on some
  // malformed models (a non-integer where it expects one, found by fuzz/model_fuzz).
  impl->xgboostModel = doc["xgboost"];
  impl->forest = detail::Forest::fromXGBoostJson(impl->xgboostModel);
  const auto features = static_cast<std::size_t>(impl->forest.features());
  if (impl->forest.classes() != static_cast<int>(impl->context.phaseNames.size()))
    throw Error("model " + path.string() + " distinguishes " + std::to_string(impl->forest.classes()) +
                " classes but names " + std::to_string(impl->context.phaseNames.size()) + " phases (" +
                joinPhaseNames(impl->context.phaseNames) + "); the file is inconsistent, retrain it");
  const auto names = featureNames(impl->spec);
  if (features != names.size())
    throw Error("model " + path.string() + ": its trees use " + std::to_string(features) +
                " features but its feature specification describes " + std::to_string(names.size()) +
                "; the file is inconsistent, retrain it");
  if (!impl->spec.autoContextScales.empty()) {
    if (!doc.contains("xgboost_stage2"))
      throw Error("model " + path.string() + ": its feature specification has auto-context scales but the file "
                  "holds no second stage (xgboost_stage2); the file is inconsistent, retrain it");
    impl->stage2Model = doc["xgboost_stage2"];
    impl->stage2 = detail::Forest::fromXGBoostJson(impl->stage2Model);
    const auto wide = names.size() + autoContextFeatureNames(impl->spec, impl->context.phaseNames).size();
    if (static_cast<std::size_t>(impl->stage2.features()) != wide || impl->stage2.classes() != impl->forest.classes())
      throw Error("model " + path.string() + ": its second stage does not take the " + std::to_string(wide) +
                  " features of its feature specification or has other classes; the file is inconsistent, retrain it");
  }
  return Classifier(std::move(impl));
}

Classifier Classifier::load(const std::filesystem::path& path, const FeatureSpec& wanted) {
  Classifier model = load(path);
  const std::string differences = describeFeatureDifferences(model.featureSpec(), wanted);
  if (!differences.empty())
    throw Error("model " + path.string() + " was trained with other features than the configuration asks for:\n" +
                differences + "expected the same feature parameters: set them to the model's values or retrain "
                "with `fibseg train`");
  return model;
}

bool Classifier::needsNeighbours() const { return impl_->spec.zContext != "none"; }

std::vector<std::uint8_t> Classifier::classifyRows(const cv::Mat& rows) const {
  const int count = impl_->forest.features();
  if (!impl_->spec.autoContextScales.empty() || rows.type() != CV_32F || (rows.rows > 0 && rows.cols < count))
    throw Error("classifier: rows of feature values need a one-stage model and CV_32F rows of " +
                std::to_string(count) + " features (internal)");
  std::vector<std::uint8_t> out(rows.rows);
  // The forest takes one pointer per feature over a run of pixels: transpose to feature planes.
  cv::Mat planes;
  cv::transpose(rows.colRange(0, count), planes);
  std::vector<const float*> columns(count);
  for (int f = 0; f < count; ++f) columns[f] = planes.ptr<float>(f);
  if (rows.rows > 0) impl_->forest.labels(columns.data(), rows.rows, out.data());
  return out;
}

BoundaryRefinement Classifier::chosenRefinement() const {
  const auto& t = impl_->trainingSummary;
  if (!t.is_object() || !t.contains("preset") || !t["preset"].is_object()) return {0, 1.0};
  const auto& p = t["preset"];
  BoundaryRefinement r{0, 1.0};
  if (p.contains("refine_band") && p["refine_band"].is_number_integer()) r.bandPx = p["refine_band"].get<int>();
  if (p.contains("refine_sigma") && p["refine_sigma"].is_number()) r.sigma = p["refine_sigma"].get<double>();
  // Models from before refine_method existed were refined by watershed.
  if (p.contains("refine_method") && p["refine_method"].is_string())
    r.method = refineMethodFrom(p["refine_method"].get<std::string>(), "model: training.preset.refine_method");
  if (r.bandPx < 0 || r.bandPx > 64 || !(r.sigma >= 0))
    throw Error("model: training.preset.refine_band / refine_sigma out of range; expected 0..64 px and sigma >= 0");
  return r;
}

void Classifier::recordPresetChoice(const PresetChoice& choice) {
  impl_->presetText = choice.text(impl_->context.phaseNames);
  nlohmann::json table = nlohmann::json::array();
  for (const auto& row : choice.table) {
    nlohmann::json iou;
    for (std::size_t p = 0; p < row.iou.size() && p < impl_->context.phaseNames.size(); ++p)
      iou[impl_->context.phaseNames[p]] = std::isnan(row.iou[p]) ? nlohmann::json() : nlohmann::json(row.iou[p]);
    table.push_back({{"preset", row.name}, {"mean_iou", row.meanIou}, {"iou", iou}, {"folds_scored", row.foldsScored}});
  }
  impl_->trainingSummary["preset"] = {{"chosen", choice.chosen}, {"folds", choice.folds}, {"notes", choice.notes},
                                      {"table", table}, {"text", impl_->presetText},
                                      {"refine_band", choice.refine.bandPx}, {"refine_sigma", choice.refine.sigma},
                                      {"refine_method", refineMethodName(choice.refine.method)}};
}

const std::string& Classifier::presetChoiceText() const { return impl_->presetText; }

Prediction Classifier::predict(const cv::Mat& slice, bool withProbabilities) const {
  return predict(slice, {}, withProbabilities);
}

Prediction Classifier::predict(const cv::Mat& slice, const std::vector<cv::Mat>& neighbours,
                               bool withProbabilities) const {
  Prediction out;
  out.labels.create(slice.size(), CV_8U);
  const int classes = impl_->forest.classes();
  if (withProbabilities) out.probabilities = probabilityPlanes(slice.size(), classes);
  const cv::Mat normalised = detail::normaliseSlice(slice, impl_->spec);
  const auto contexts = detail::contextImages(neighbours, impl_->spec, slice.size(), "classifier");
  if (impl_->spec.autoContextScales.empty())
    classify(normalised, contexts, impl_->spec, impl_->cnn.get(), impl_->forest, out.labels, out.probabilities,
             impl_->planes.get());
  else
    classifyTwoStages(normalised, contexts, impl_->spec, impl_->cnn.get(), impl_->forest, impl_->stage2, out.labels,
                      out.probabilities, impl_->planes.get());
  if (withProbabilities) out.uncertainty = uncertaintyOf(out.probabilities);
  return out;
}

}  // namespace fibseg::learn

namespace fibseg::learn {

StackPredictor::StackPredictor(const Classifier& model, bool withProbabilities, Done done, BoundaryRefinement refine)
    : model_(model), withProbabilities_(withProbabilities), done_(std::move(done)), refine_(refine) {}

void StackPredictor::deliver(int z, const cv::Mat& slice, Prediction prediction) {
  if (refine_.bandPx > 0)
    prediction.labels = refineBoundaries(prediction.labels, slice, refine_, model_.impl_->forest.classes());
  if (withProbabilities_ && prediction.uncertainty.empty()) prediction.uncertainty = uncertaintyOf(prediction.probabilities);
  done_(z, std::move(prediction));
}

StackPredictor::Held StackPredictor::hold(const cv::Mat& slice) const {
  Held held{slice, {}, {}};
  if (cacheBanks_) {
    held.normalised = detail::normaliseSlice(slice, model_.featureSpec());
    held.bank = detail::contextBank(held.normalised, model_.featureSpec());
  }
  return held;
}

void StackPredictor::add(const cv::Mat& slice) {
  const int z = added_;
  if (!model_.needsNeighbours()) {  // a 2D model: each image on its own (sizes may differ)
    ++added_;
    deliver(next_++, slice, model_.predict(slice, withProbabilities_));
    return;
  }
  if (!window_.empty() && (slice.size() != window_.back().slice.size() || slice.type() != window_.back().slice.type()))
    throw Error("classifier: slice " + std::to_string(z) + " of the stack is " + std::to_string(slice.cols) + "x" +
                std::to_string(slice.rows) + ", " + std::to_string(bitDepthOf(slice, "slice")) + "-bit; expected the " +
                std::to_string(window_.back().slice.cols) + "x" + std::to_string(window_.back().slice.rows) + ", " +
                std::to_string(bitDepthOf(window_.back().slice, "slice")) + "-bit of the slices before it (an aligned stack)");
  ++added_;
  if (!decided_) {
    // Only above_below uses each neighbour's own bank ("neighbours" takes the bank of their mean;
    // "changes" a few smoothings of each neighbour, cheaper than holding three banks).
    FeatureSpec own = model_.featureSpec();
    own.zContext = "none";
    own.cnnModel.clear();
    own.cnnChannels = 0;
    const long long bytes = 3LL * static_cast<long long>(featureNames(own).size()) * 4 * static_cast<long long>(slice.total());
    cacheBanks_ = model_.featureSpec().zContext == "above_below" && bytes <= kBankCacheBytes;
    decided_ = true;
  }
  window_.push_back(hold(slice));
  if (added_ - 1 > next_) {  // the slice below the next one to predict is known
    const int first = added_ - static_cast<int>(window_.size());
    const Held* above = next_ > 0 ? &window_[next_ - 1 - first] : nullptr;
    predictMiddle(above, window_[next_ - first], &window_[next_ + 1 - first]);
    ++next_;
    if (window_.size() > 2) window_.erase(window_.begin());  // slice next_ - 2: no longer a neighbour
  }
}

void StackPredictor::finish() {
  if (next_ >= added_) return;
  const int first = added_ - static_cast<int>(window_.size());
  const Held* above = next_ > 0 ? &window_[next_ - 1 - first] : nullptr;
  predictMiddle(above, window_[next_ - first], nullptr);
  ++next_;
  window_.clear();
}

void StackPredictor::predictMiddle(const Held* above, const Held& slice, const Held* below) {
  const Classifier::Impl& model = *model_.impl_;
  if (!cacheBanks_ || (!above && !below)) {
    deliver(next_, slice.slice,
            model_.predict(slice.slice, {above ? above->slice : cv::Mat(), below ? below->slice : cv::Mat()},
                           withProbabilities_));
    return;
  }
  // The features predict() computes band by band, here from the kept banks of the whole slices.
  const FeatureSpec& spec = model.spec;
  std::vector<cv::Mat> planes = slice.bank;
  if (model.cnn) {
    auto maps = model.cnn->run(slice.normalised);
    if (static_cast<int>(maps.size()) != spec.cnnChannels)
      throw Error("CNN model " + spec.cnnModel + " gave " + std::to_string(maps.size()) +
                  " feature maps; the feature specification expects " + std::to_string(spec.cnnChannels));
    for (auto& m : maps) planes.push_back(std::move(m));
  }
  // At a stack's end the one neighbour stands in for the missing one (as contextImages does).
  const Held& up = above ? *above : *below;
  const Held& down = below ? *below : *above;
  detail::appendContextBanks(planes, {up.bank, down.bank}, spec);
  Prediction out;
  out.labels.create(slice.slice.size(), CV_8U);
  if (withProbabilities_) out.probabilities = probabilityPlanes(slice.slice.size(), model.forest.classes());
  const cv::Range all(0, slice.slice.rows);
  if (spec.autoContextScales.empty()) {
    classifyBand(planes, all, model.forest, out.labels, out.probabilities);
  } else {
    auto stage1 = probabilityPlanes(detail::firstStageGrid(slice.slice.size(), spec), model.forest.classes());
    classifyFirstStage(planes, all, model.forest, spec, stage1);
    detail::appendAutoContextFeatures(planes, stage1, all, spec, slice.slice.cols);
    classifyBand(planes, all, model.stage2, out.labels, out.probabilities);
  }
  deliver(next_, slice.slice, std::move(out));
}

}  // namespace fibseg::learn
