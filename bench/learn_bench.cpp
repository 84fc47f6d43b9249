// Pixel classifier throughput (src/fibseg/learn): feature bank alone, and whole prediction
// (features + trees) of a 1024 x 1024 slice with the registry's default features. Models are
// trained on a small phantom from ~1% stroke annotation (as in tests/learn) or, for the worst
// case of deep full trees, from every pixel of a slice. Counter Mpx/s = megapixels per second
// of wall time.
#include <benchmark/benchmark.h>
#include <opencv2/imgproc.hpp>

#include <sys/resource.h>

#include <cstdlib>
#include <random>

#include "fibseg/core/image.hpp"
#include "fibseg/learn/learn.hpp"
#include "fibseg/phantom/phantom.hpp"

using namespace fibseg;

namespace {

learn::FeatureSpec defaultSpec() {  // = the registry defaults (config/params_learn.cpp)
  learn::FeatureSpec s;
  s.scales = {0.7, 1.6, 3.5};
  s.gaborWavelengths = {4};
  s.gaborOrientations = 4;
  s.normalisation = "percentile";
  s.cnnChannels = 0;
  s.autoContextStep = 2;  // learn.auto_context_step (used when auto-context is on)
  return s;
}

learn::TrainingParams defaultTraining() {
  return {.rounds = 15, .maxDepth = 4, .learningRate = 0.3, .samplesPerPhase = 50000, .seed = 1};
}

cv::Mat strokes(const cv::Mat& truth, double fraction, unsigned seed) {
  cv::Mat annotation = cv::Mat::zeros(truth.size(), CV_8U);
  std::mt19937 rng(seed);
  for (int phase = 0; phase < kPhaseCount; ++phase) {
    std::vector<cv::Point> candidates;
    cv::findNonZero(truth == phase, candidates);
    std::uniform_int_distribution<std::size_t> pick(0, candidates.size() - 1);
    long long painted = 0;
    for (int a = 0; a < 10000 && painted < fraction * truth.total() / kPhaseCount; ++a) {
      const cv::Point s = candidates[pick(rng)];
      cv::Mat stroke = cv::Mat::zeros(truth.size(), CV_8U);
      cv::line(stroke, s, s + cv::Point(7, 5), 255, 1);
      stroke &= (truth == phase) & (annotation == 0);
      painted += cv::countNonZero(stroke);
      annotation.setTo(phase + 1, stroke);
    }
  }
  return annotation;
}

struct Fixture {
  cv::Mat slice;  // 1024 x 1024 phantom content
  learn::Classifier sparse, dense;
  static Fixture& get() {
    static Fixture* f = new Fixture;  // never destroyed: outlives XGBoost's own statics
    return *f;
  }

 private:
  static learn::Classifier train(bool dense) {
    phantom::PhantomParams p;
    p.width = 256;
    p.height = 224;
    p.slices = 2;
    p.seed = 7;
    const phantom::Phantom ph(p);
    const cv::Mat truth = ph.truthLabels(0);
    const cv::Mat annotation = dense ? cv::Mat(truth + 1) : strokes(truth, 0.01, 3);
    return learn::Classifier::train({{ph.rawSlice(0).rowRange(0, ph.contentHeight()).clone(), annotation, "0"}},
                                    defaultSpec(), defaultTraining(),
                                    {{"pore", "SE", "CAM"}, {0, 1, 2}, {}, 0, "none"});
  }
  Fixture() : sparse(train(false)), dense(train(true)) {
    phantom::PhantomParams p;
    p.width = 1024;
    p.height = 1024 + 80;
    p.dataBarRows = 80;
    p.slices = 1;
    p.seed = 11;
    const phantom::Phantom ph(p);
    slice = ph.rawSlice(0).rowRange(0, 1024).clone();
  }
};

double processCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Mpx/s of wall time, and CPU seconds (all threads) per megapixel: on a shared machine the
// latter says what 2 idle cores would do (2 / cpu_s_per_Mpx Mpx/s, if the work splits evenly).
void setRate(benchmark::State& state, const cv::Mat& slice, double cpuSeconds) {
  const double mpx = double(slice.total()) * state.iterations() / 1e6;
  state.counters["Mpx/s"] = benchmark::Counter(mpx, benchmark::Counter::kIsRate);
  state.counters["cpu_s_per_Mpx"] = cpuSeconds / mpx;
}

void BM_FeatureBank(benchmark::State& state) {
  const auto& f = Fixture::get();
  const double cpu = processCpuSeconds();
  for (auto _ : state) benchmark::DoNotOptimize(learn::computeFeatures(f.slice, defaultSpec()));
  setRate(state, f.slice, processCpuSeconds() - cpu);
}
BENCHMARK(BM_FeatureBank)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PredictStrokeModel(benchmark::State& state) {
  const auto& f = Fixture::get();
  const double cpu = processCpuSeconds();
  for (auto _ : state) benchmark::DoNotOptimize(f.sparse.predict(f.slice));
  setRate(state, f.slice, processCpuSeconds() - cpu);
}
BENCHMARK(BM_PredictStrokeModel)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PredictStrokeModelWithProbabilities(benchmark::State& state) {
  const auto& f = Fixture::get();
  const double cpu = processCpuSeconds();
  for (auto _ : state) benchmark::DoNotOptimize(f.sparse.predict(f.slice, true));
  setRate(state, f.slice, processCpuSeconds() - cpu);
}
BENCHMARK(BM_PredictStrokeModelWithProbabilities)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PredictDenseModel(benchmark::State& state) {
  const auto& f = Fixture::get();
  const double cpu = processCpuSeconds();
  for (auto _ : state) benchmark::DoNotOptimize(f.dense.predict(f.slice));
  setRate(state, f.slice, processCpuSeconds() - cpu);
}
BENCHMARK(BM_PredictDenseModel)->Unit(benchmark::kMillisecond)->UseRealTime();

// learn.z_context = above_below: the bank also on the slices above and below (here the slice
// itself stands in for both: the cost does not depend on the content).
learn::FeatureSpec zContextSpec() {
  auto s = defaultSpec();
  s.zContext = "above_below";
  return s;
}

void BM_FeatureBankZContext(benchmark::State& state) {
  const auto& f = Fixture::get();
  const double cpu = processCpuSeconds();
  for (auto _ : state) benchmark::DoNotOptimize(learn::computeFeatures(f.slice, {f.slice, f.slice}, zContextSpec()));
  setRate(state, f.slice, processCpuSeconds() - cpu);
}
BENCHMARK(BM_FeatureBankZContext)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PredictStrokeModelZContext(benchmark::State& state) {
  const auto& f = Fixture::get();
  static const learn::Classifier model = [] {
    phantom::PhantomParams p;
    p.width = 256;
    p.height = 224;
    p.slices = 3;
    p.seed = 7;
    p.randomWalk = 0;
    p.steadyDriftX = 0;
    p.steadyDriftY = 0;
    const phantom::Phantom ph(p);
    auto content = [&](int z) { return ph.rawSlice(z).rowRange(0, ph.contentHeight()).clone(); };
    return learn::Classifier::train({{content(1), strokes(ph.truthLabels(1), 0.01, 3), "1", {content(0), content(2)}}},
                                    zContextSpec(), defaultTraining(), {{"pore", "SE", "CAM"}, {0, 1, 2}, {}, 0, "none"});
  }();
  const double cpu = processCpuSeconds();
  for (auto _ : state) benchmark::DoNotOptimize(model.predict(f.slice, {f.slice, f.slice}));
  setRate(state, f.slice, processCpuSeconds() - cpu);
}
BENCHMARK(BM_PredictStrokeModelZContext)->Unit(benchmark::kMillisecond)->UseRealTime();

// Opt-in parts (issue 13): rank features (learn.rank_features) and auto-context
// (learn.auto_context_scales = 1, 2, 4, 8: a second stage, so the bank is computed twice), 2D and
// with z context; models from strokes on phantom slices as above (two slices for auto-context,
// so its first stage is trained out of fold as on real annotations).
// With `camOrRest`, two phases (pore and SE strokes become "rest"), as lco-fibsem's particle masks.
learn::Classifier trainedOn(const learn::FeatureSpec& spec, const learn::TrainingParams& training = defaultTraining(),
                            bool camOrRest = false) {
  phantom::PhantomParams p;
  p.width = 256;
  p.height = 224;
  p.slices = 4;
  p.seed = 7;
  p.randomWalk = 0;
  p.steadyDriftX = 0;
  p.steadyDriftY = 0;
  const phantom::Phantom ph(p);
  auto content = [&](int z) { return ph.rawSlice(z).rowRange(0, ph.contentHeight()).clone(); };
  std::vector<learn::AnnotatedSlice> examples;
  for (int z : {1, 2}) {
    cv::Mat annotation = strokes(ph.truthLabels(z), 0.01, 3 + z);  // 1 pore, 2 SE, 3 CAM
    if (camOrRest) {
      annotation.setTo(1, annotation == 2);
      annotation.setTo(2, annotation == 3);
    }
    examples.push_back({content(z), annotation, std::to_string(z), {content(z - 1), content(z + 1)}});
  }
  const learn::TrainingContext phases = camOrRest ? learn::TrainingContext{{"rest", "CAM"}, {0, 1}, {}, 0, "none"}
                                                  : learn::TrainingContext{{"pore", "SE", "CAM"}, {0, 1, 2}, {}, 0, "none"};
  return learn::Classifier::train(examples, spec, training, phases);
}

void predictWith(benchmark::State& state, const learn::Classifier& model) {
  const auto& f = Fixture::get();
  const double cpu = processCpuSeconds();
  for (auto _ : state) benchmark::DoNotOptimize(model.predict(f.slice, {f.slice, f.slice}));
  setRate(state, f.slice, processCpuSeconds() - cpu);
}

void BM_FeatureBankRank(benchmark::State& state) {
  const auto& f = Fixture::get();
  auto spec = defaultSpec();
  spec.rankFeatures = true;
  const double cpu = processCpuSeconds();
  for (auto _ : state) benchmark::DoNotOptimize(learn::computeFeatures(f.slice, spec));
  setRate(state, f.slice, processCpuSeconds() - cpu);
}
BENCHMARK(BM_FeatureBankRank)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PredictStrokeModelRank(benchmark::State& state) {
  static const learn::Classifier model = [] {
    auto s = defaultSpec();
    s.rankFeatures = true;
    return trainedOn(s);
  }();
  predictWith(state, model);
}
BENCHMARK(BM_PredictStrokeModelRank)->Unit(benchmark::kMillisecond)->UseRealTime();

// Arg: learn.auto_context_step (1: the first stage on every pixel, as models before it; 2: the
// registry default, on every second pixel of every second row).
learn::Classifier autoContextModel(int step, bool twoPhases) {
  auto s = defaultSpec();
  s.autoContextScales = {1, 2, 4, 8};
  s.autoContextStep = step;
  return trainedOn(s, defaultTraining(), twoPhases);
}

void BM_PredictStrokeModelAutoContext(benchmark::State& state) {
  static const learn::Classifier every = autoContextModel(1, false), grid = autoContextModel(2, false),
                                 coarse = autoContextModel(3, false);
  predictWith(state, state.range(0) == 1 ? every : state.range(0) == 2 ? grid : coarse);
}
BENCHMARK(BM_PredictStrokeModelAutoContext)->Arg(1)->Arg(2)->Arg(3)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same with two phases (CAM against the rest, as lco-fibsem's masks: auto's choice there).
void BM_PredictStrokeModelAutoContextTwoPhases(benchmark::State& state) {
  static const learn::Classifier every = autoContextModel(1, true), grid = autoContextModel(2, true);
  predictWith(state, state.range(0) == 1 ? every : grid);
}
BENCHMARK(BM_PredictStrokeModelAutoContextTwoPhases)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PredictStrokeModelZContextAutoContext(benchmark::State& state) {
  static const learn::Classifier model = [] {
    auto s = zContextSpec();
    s.autoContextScales = {1, 2, 4, 8};
    return trainedOn(s);
  }();
  predictWith(state, model);
}
BENCHMARK(BM_PredictStrokeModelZContextAutoContext)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

// A stack predicted in order (learn::StackPredictor, as `fibseg run` and `fibseg predict` do):
// each slice's bank is computed once and serves as its neighbours' context too. Eight slices of
// 1024 x 1024 (the fixture's slice stands in for each: the cost does not depend on the content);
// Mpx/s counts every slice.
void predictStackWith(benchmark::State& state, const learn::Classifier& model, learn::BoundaryRefinement refine = {}) {
  const auto& f = Fixture::get();
  constexpr int kSlices = 8;
  const double cpu = processCpuSeconds();
  for (auto _ : state) {
    learn::StackPredictor predictor(model, false, [](int, learn::Prediction p) { benchmark::DoNotOptimize(p); }, refine);
    for (int z = 0; z < kSlices; ++z) predictor.add(f.slice);
    predictor.finish();
  }
  const double mpx = double(f.slice.total()) * kSlices * state.iterations() / 1e6;
  state.counters["Mpx/s"] = benchmark::Counter(mpx, benchmark::Counter::kIsRate);
  state.counters["cpu_s_per_Mpx"] = (processCpuSeconds() - cpu) / mpx;
}

void BM_PredictStackZContext(benchmark::State& state) {
  static const learn::Classifier model = trainedOn(zContextSpec());
  predictStackWith(state, model);
}
BENCHMARK(BM_PredictStackZContext)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PredictStackZContextAutoContext(benchmark::State& state) {
  static const learn::Classifier model = [] {
    auto s = zContextSpec();
    s.autoContextScales = {1, 2, 4, 8};
    return trainedOn(s);
  }();
  predictStackWith(state, model);
}
BENCHMARK(BM_PredictStackZContextAutoContext)->Unit(benchmark::kMillisecond)->UseRealTime();

// learn.z_context = changes with auto-context (what auto chooses on lco-fibsem's stack strokes):
// each slice's own bank plus a few smoothings of each neighbour, predicted slice by slice.
void BM_PredictStackZChangesAutoContext(benchmark::State& state) {
  static const learn::Classifier model = [] {
    auto s = defaultSpec();
    s.zContext = "changes";
    s.autoContextScales = {1, 2, 4, 8};
    return trainedOn(s);
  }();
  predictStackWith(state, model);
}
BENCHMARK(BM_PredictStackZChangesAutoContext)->Unit(benchmark::kMillisecond)->UseRealTime();

// The setting of the best CAM IoU on lco-fibsem (bench/README.md, Real data): two phases, z
// context, auto-context 1, 2, 4, 8, 30 rounds of depth 6; trained from strokes on two phantom
// slices (CAM against the rest): the same trees' count and depth, and the same features.
void BM_PredictStackBestLcoSetting(benchmark::State& state) {
  static const learn::Classifier model = [] {
    auto s = zContextSpec();
    s.autoContextScales = {1, 2, 4, 8};
    auto training = defaultTraining();
    training.rounds = 30;
    training.maxDepth = 6;
    return trainedOn(s, training, true);
  }();
  predictStackWith(state, model);
}
BENCHMARK(BM_PredictStackBestLcoSetting)->Unit(benchmark::kMillisecond)->UseRealTime();

// The lighter setting that also reaches CAM IoU 0.88 on lco-fibsem with learn.refine_band = 3:
// two phases, z context, auto-context 1, 2, 4, 8, the registry's 15 rounds of depth 4.
void BM_PredictStackLighterLcoSetting(benchmark::State& state) {
  static const learn::Classifier model = [] {
    auto s = zContextSpec();
    s.autoContextScales = {1, 2, 4, 8};
    return trainedOn(s, defaultTraining(), true);
  }();
  predictStackWith(state, model);
}
BENCHMARK(BM_PredictStackLighterLcoSetting)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same with learn.refine_band = 3, refine_sigma = 1.5, as the 0.88 figure has it (in
// `fibseg predict` the refinement follows each slice's prediction in the same thread).
void BM_PredictStackLighterLcoSettingRefined(benchmark::State& state) {
  static const learn::Classifier model = [] {
    auto s = zContextSpec();
    s.autoContextScales = {1, 2, 4, 8};
    return trainedOn(s, defaultTraining(), true);
  }();
  predictStackWith(state, model, {3, 1.5});
}
BENCHMARK(BM_PredictStackLighterLcoSettingRefined)->Unit(benchmark::kMillisecond)->UseRealTime();

// learn.refine_band = 3, refine_sigma = 1.5 on the default stroke model's labels of the 1024 x
// 1024 slice: the refinement alone (one thread: a priority flood).
void BM_RefineBoundaries(benchmark::State& state) {
  const auto& f = Fixture::get();
  const cv::Mat labels = f.sparse.predict(f.slice).labels;
  const double cpu = processCpuSeconds();
  for (auto _ : state) benchmark::DoNotOptimize(learn::refineBoundaries(labels, f.slice, {3, 1.5}, 3));
  setRate(state, f.slice, processCpuSeconds() - cpu);
}
BENCHMARK(BM_RefineBoundaries)->Unit(benchmark::kMillisecond)->UseRealTime();

// learn.refine_method = half_contrast at 1 px (what auto scores beside the watershed) on the same labels.
void BM_RefineHalfContrast(benchmark::State& state) {
  const auto& f = Fixture::get();
  const cv::Mat labels = f.sparse.predict(f.slice).labels;
  const double cpu = processCpuSeconds();
  for (auto _ : state) benchmark::DoNotOptimize(learn::refineBoundaries(labels, f.slice, learn::kAutoHalfContrast, 3));
  setRate(state, f.slice, processCpuSeconds() - cpu);
}
BENCHMARK(BM_RefineHalfContrast)->Unit(benchmark::kMillisecond)->UseRealTime();

// Issue 25: `learn.preset = auto` training on strokes on 2 slices of 2048 x 1536 (phantom, 1.5 %
// painted), 2 leave-one-slice-out folds, then the chosen candidate on all strokes. /0: images
// (`fibseg train --image`): 4 candidates (grey per slice or from training, auto-context on the
// better half). /1: slices 1 and 2 of a 4-slice stack with their neighbours (`--stack`): 8
// candidates (z context too). Counter cpu_s = CPU seconds of all threads per training; target
// <= 60 s wall on 2 cores. The label is the choice.
void BM_TrainAutoTwoSlices2048x1536(benchmark::State& state) {
  const bool stack = state.range(0) == 1;
  phantom::PhantomParams p;
  p.width = 2048;
  p.height = 1536 + 100;
  p.dataBarRows = 100;
  p.slices = stack ? 4 : 2;
  p.seed = 5;
  const phantom::Phantom ph(p);
  auto slice = [&](int z) { return ph.rawSlice(z).rowRange(0, 1536).clone(); };
  std::vector<learn::AnnotatedSlice> examples;
  for (int z : stack ? std::vector<int>{1, 2} : std::vector<int>{0, 1})
    examples.push_back({slice(z), strokes(ph.truthLabels(z).rowRange(0, 1536).clone(), 0.015, 20 + z),
                        "slice " + std::to_string(z), stack ? std::vector<cv::Mat>{slice(z - 1), slice(z + 1)}
                                                            : std::vector<cv::Mat>{}});
  learn::LearnParams lp;
  lp.features = defaultSpec();
  lp.training = defaultTraining();
  lp.refine = {};
  lp.writeProbabilities = false;
  lp.denoiseInput = false;
  lp.preset = "auto";
  const double cpu = processCpuSeconds();
  std::string chosen;
  for (auto _ : state) {
    const auto model = learn::trainModel(examples, lp, {{"pore", "SE", "CAM"}, {0, 1, 2}, {}, 0, "none"});
    chosen = model.presetChoiceText();
  }
  state.counters["cpu_s"] = (processCpuSeconds() - cpu) / state.iterations();
  if (std::getenv("SHOW_PRESET")) std::printf("%s", chosen.c_str());
  state.SetLabel(chosen.substr(chosen.find('*') + 2, chosen.find('\n', chosen.find('*')) - chosen.find('*') - 2));
}
BENCHMARK(BM_TrainAutoTwoSlices2048x1536)->Arg(0)->Arg(1)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

