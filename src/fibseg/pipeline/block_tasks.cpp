#include "fibseg/pipeline/block_tasks.hpp"

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <chrono>
#include <cstring>
#include <sstream>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "fibseg/config/load.hpp"
#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/pipeline/correct_pass.hpp"
#include "fibseg/pipeline/finish_run.hpp"
#include "fibseg/pipeline/output_folder.hpp"
#include "fibseg/pipeline/progress.hpp"
#include "fibseg/pipeline/run_graph.hpp"
#include "fibseg/pipeline/segment_pass.hpp"
#include "fibseg/pipeline/stage_cache.hpp"

#ifndef FIBSEG_VERSION_TEXT
#define FIBSEG_VERSION_TEXT "unknown"
#endif

namespace fibseg::pipeline {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

// ---- records: small results of a task, CBOR with the images as raw bytes ----

json matToJson(const cv::Mat& m) {
  const cv::Mat c = m.isContinuous() ? m : m.clone();
  return {{"rows", c.rows}, {"cols", c.cols}, {"type", c.type()},
          {"data", json::binary(std::vector<std::uint8_t>(c.data, c.data + c.total() * c.elemSize()))}};
}

cv::Mat matFromJson(const json& j) {
  cv::Mat m(j.at("rows").get<int>(), j.at("cols").get<int>(), j.at("type").get<int>());
  const auto& bytes = j.at("data").get_binary();
  if (bytes.size() != m.total() * m.elemSize()) throw Error("a block record holds an image of the wrong size (damaged)");
  std::copy(bytes.begin(), bytes.end(), m.data);
  return m;
}

fs::path recordPath(const fs::path& staging, const std::string& stage, int block) {
  char name[64];
  std::snprintf(name, sizeof name, "%s_%05d.cbor", stage.c_str(), block);
  return staging / ".blocks" / name;
}

void writeRecord(const fs::path& path, const json& record) {
  const std::vector<std::uint8_t> bytes = json::to_cbor(record);
  AtomicFile file(path);
  {
    std::ofstream out(file.temporaryPath(), std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    if (!out) throw Error("cannot write " + path.string() + " (disk full?)");
  }
  file.commit();
}

json readRecord(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read " + path.string() + ": a block of the run has no record");
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  json j = json::from_cbor(bytes, true, false);
  if (j.is_discarded()) throw Error(path.string() + ": not a block record (damaged)");
  return j;
}

json readJson(const fs::path& path) {
  std::ifstream in(path);
  json j = in ? json::parse(in, nullptr, false) : json();
  if (!j.is_object()) throw Error("cannot read " + path.string() + ": missing or damaged");
  return j;
}

// ---- the worker process ----

// dask's nanny starts every worker with MALLOC_TRIM_THRESHOLD_=65536 (its config
// distributed.nanny.pre-spawn-environ, to hand memory back after Python tasks). Setting it turns
// off glibc's dynamic mmap threshold, so every image buffer over 128 KiB is mmapped, zeroed by the
// kernel and unmapped again on every use: on the 60 x 2048 x 1536 phantom the workers spent 7 of
// 25 CPU s in the kernel and the registration ran 1.6x slower than in `fibseg run`. The tasks
// restore what a plain process reaches on its own after its first large frees (glibc's dynamic
// threshold settles at its maximum, 32 MiB, with trimming at twice that), so a worker runs the
// task functions as the CLI does. A worker's heap may then keep up to 64 MiB it no longer uses.
void allocateAsAPlainProcess() {
#if defined(__GLIBC__)
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
  });
#endif
}

// ---- the plan on a worker: made once per process and plan ----

struct WorkerPlan {
  config::ParamSet params;
  RunPlan plan;
};

// Shared, so a task keeps its plan while another task's new plan empties the cache.
std::shared_ptr<const WorkerPlan> workerPlan(const std::string& planJson) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<WorkerPlan>> plans;
  std::lock_guard lock(mutex);
  if (auto it = plans.find(planJson); it != plans.end()) return it->second;
  const json j = json::parse(planJson);
  if (j.value("version", "") != taskVersion())
    throw Error("this worker runs fibseg " + taskVersion() + ", the client fibseg " + j.value("version", "?") +
                "; expected the same version on every worker");
  auto made = std::make_shared<WorkerPlan>(WorkerPlan{config::loadParameters(j.at("parameters_file").get<std::string>(), {}), {}});
  made->plan = makePlan(made->params);
  made->plan.output = j.at("staging").get<std::string>();
  made->plan.cacheFolder = made->plan.output / "cache";
  if (plans.size() > 4) plans.clear();  // a long-lived worker serves few runs at once
  return plans.emplace(planJson, made).first->second;
}

RegisterResult registration(const RunPlan& plan) {
  return registerResultFromJson(readJson(blocksFolder(plan) / "register.json"));
}

// ---- the tasks ----

json brightnessToJson(const intensity::BrightnessStats& b) { return {{"quantiles", b.quantiles}, {"bit_depth", b.bitDepth}}; }
intensity::BrightnessStats brightnessFromJson(const json& j) {
  return {j.at("quantiles").get<std::vector<double>>(), j.at("bit_depth").get<int>()};
}

// A registration chain: its comparisons (doubles exact in CBOR), brightness and raw ortho rows.
void registerChain(const RunPlan& plan, int index) {
  const auto chains = registrationChainsOf(plan);
  if (index < 0 || index >= int(chains.size()))
    throw Error("registration chain " + std::to_string(index) + " asked, the run has " + std::to_string(chains.size()));
  const ChainResult r = measureChain(plan, chains[index]);
  json comparisons = json::array(), brightness = json::array();
  for (const auto& c : r.measured.comparisons) {
    json terms = json::array();
    for (const auto& [j, w] : c.terms) terms.push_back({j, w});
    comparisons.push_back({c.to, terms, c.value.x, c.value.y, c.peak, c.quality, c.trust, c.used});
  }
  for (const auto& b : r.brightness) brightness.push_back(brightnessToJson(b));
  writeRecord(recordPath(plan.output, "register", index),
              {{"chain", index}, {"first", r.measured.first}, {"comparisons", comparisons}, {"peaks", r.measured.peaks},
               {"qualities", r.measured.qualities}, {"brightness", brightness}, {"xz", matToJson(r.xz)},
               {"yz", matToJson(r.yz)}});
}

ChainResult chainFromRecord(const json& r) {
  ChainResult chain;
  chain.measured.first = r.at("first").get<int>();
  for (const auto& c : r.at("comparisons")) {
    align::Comparison& m = chain.measured.comparisons.emplace_back();
    m.to = c[0].get<int>();
    for (const auto& t : c[1]) m.terms.push_back({t[0].get<int>(), t[1].get<double>()});
    m.value = {c[2].get<double>(), c[3].get<double>()};
    m.peak = c[4].get<double>(), m.quality = c[5].get<double>(), m.trust = c[6].get<double>(), m.used = c[7].get<bool>();
  }
  chain.measured.peaks = r.at("peaks").get<std::vector<double>>();
  chain.measured.qualities = r.at("qualities").get<std::vector<double>>();
  for (const auto& b : r.at("brightness")) chain.brightness.push_back(brightnessFromJson(b));
  chain.xz = matFromJson(r.at("xz")), chain.yz = matFromJson(r.at("yz"));
  return chain;
}

// The block view's front face is slice 0: only the block holding it records it (a whole slice).
json frontFace(const Block& block, const BlockFaces& faces) {
  return matToJson(block.first == 0 ? faces.front() : cv::Mat());
}

// What a block's correction gathers (its record) and writes (its aligned volume block; the
// corrected block file when the segment tasks read it).
void recordCorrection(const RunPlan& plan, const AlignedStack& stack, const Block& block,
                      std::vector<CorrectedSlice>& items, bool keepCorrected) {
  const int type = stack.bitDepth == 16 ? CV_16U : CV_8U;
  OrthoSlices ortho(block.size(), stack.outputRect.size(), type);
  BlockFaces faces(block.size(), stack.outputRect.size(), type);
  segment::GreyHistogram histogram(stack.bitDepth);
  std::vector<cv::Mat> aligned, corrected;
  json brightness = json::array();
  for (auto& item : items) {
    ortho.add(item.z - block.first, item.corrected);
    faces.add(item.z - block.first, item.corrected);
    histogram.merge(item.histogram);
    const auto& b = item.brightness;
    brightness.push_back({b.medianBefore, b.p05Before, b.p95Before, b.medianAfter, b.p05After, b.p95After});
    aligned.push_back(std::move(item.aligned));
    if (keepCorrected) corrected.push_back(std::move(item.corrected));
  }
  if (plan.align.writeAlignedStack) writeVolumeBlock(plan, alignedVolume(plan, stack), block, aligned);
  if (const auto grey = greyCacheVolume(plan, stack)) writeVolumeBlock(plan, *grey, block, aligned);
  if (keepCorrected) writeBlockFile(plan, correctedVolume(plan, stack), block, corrected);
  const auto& counts = histogram.counts();
  writeRecord(recordPath(plan.output, "correct", block.index),
              {{"block", block.index}, {"first", block.first}, {"brightness", brightness},
               {"histogram", json::binary(std::vector<std::uint8_t>(reinterpret_cast<const std::uint8_t*>(counts.data()),
                                                                    reinterpret_cast<const std::uint8_t*>(counts.data() + counts.size())))},
               {"xz", matToJson(ortho.xz())}, {"yz", matToJson(ortho.yz())},
               {"front", frontFace(block, faces)}, {"top", matToJson(faces.top())}, {"side", matToJson(faces.side())}});
}

// learn.probabilities: probability_<phase>.tif (8-bit, deflate), as fibseg run writes them
// whatever output.format; from "probability_<phase>" blocks.
std::vector<VolumeSpec> probabilityVolumes(const RunPlan& plan, const AlignedStack& stack) {
  std::vector<VolumeSpec> volumes;
  if (!(plan.model && plan.learn.writeProbabilities)) return volumes;
  for (int p = 0; p < plan.phases.count(); ++p) {
    const std::string name = "probability_" + plan.phases.key(p);
    volumes.push_back({name, stack.outputRect.width, stack.outputRect.height, 8, true, plan.output / (name + ".tif")});
  }
  return volumes;
}

// What a block's segmentation gathers (its record, written last) and writes (its labels block).
void recordSegmentation(const RunPlan& plan, const AlignedStack& stack, const Block& block,
                        const std::vector<SegmentedSlice>& items) {
  OrthoSlices ortho(block.size(), stack.outputRect.size(), CV_8U);
  BlockFaces faces(block.size(), stack.outputRect.size(), CV_8U);
  std::vector<cv::Mat> labelImages;
  json fractions = json::array(), pixels = json::array(), otsu = json::array(), uncertain = json::array();
  for (const auto& item : items) {
    ortho.add(item.z - block.first, item.labels);
    faces.add(item.z - block.first, item.labels);
    labelImages.push_back(item.labelImage);
    fractions.push_back(item.fractions.fraction);
    pixels.push_back(item.fractions.pixels);
    otsu.push_back(item.otsuThreshold);
    if (item.leastCertain.empty()) continue;  // output.uncertainty_pngs, on the report's slices
    json regions = json::array();
    for (const auto& r : item.leastCertain) regions.push_back({r.box.x, r.box.y, r.box.width, r.box.height, r.meanUncertainty});
    uncertain.push_back({item.z, item.meanUncertainty, regions});
  }
  writeVolumeBlock(plan, labelsVolume(plan, stack), block, labelImages);
  const auto probabilities = probabilityVolumes(plan, stack);
  for (std::size_t p = 0; p < probabilities.size(); ++p) {
    std::vector<cv::Mat> slices;
    for (const auto& item : items) slices.push_back(item.probabilities.at(p));
    writeVolumeBlock(plan, probabilities[p], block, slices);
  }
  writeRecord(recordPath(plan.output, "segment", block.index),
              {{"block", block.index}, {"first", block.first}, {"fractions", fractions}, {"pixels", pixels},
               {"otsu", otsu}, {"uncertain", uncertain}, {"xz", matToJson(ortho.xz())}, {"yz", matToJson(ortho.yz())},
               {"front", frontFace(block, faces)}, {"top", matToJson(faces.top())}, {"side", matToJson(faces.side())}});
}

void correctBlock(const RunPlan& plan, const Block& block) {
  const RegisterResult registered = registration(plan);
  const AlignedStack stack = startAlignedStack(plan, registered);
  std::vector<CorrectedSlice> items(block.size());
  tbb::parallel_for(block.first, block.end, [&](int z) {
    items[z - block.first] = correctSlice(plan, stack, registered.reference, z);
  });
  recordCorrection(plan, stack, block, items, true);
}

// A classifier with z context (learn.z_context) sees each slice's neighbours: the block is fed to
// it in order with a halo of one slice on each side from the neighbouring blocks' corrected
// files, so its first and last slices have the neighbours they have in `fibseg run`.
std::vector<std::optional<learn::Prediction>> predictWithNeighbours(const RunPlan& plan, const AlignedStack& stack,
                                                                    const SegmentContext& context, const Block& block,
                                                                    std::vector<cv::Mat>& slices) {
  const auto blocks = blocksOf(plan);
  const VolumeSpec corrected = correctedVolume(plan, stack);
  std::vector<cv::Mat> fed;
  int firstFed = block.first;
  if (block.index > 0) fed.push_back(readBlockFile(plan, corrected, blocks[block.index - 1]).back()), --firstFed;
  fed.insert(fed.end(), slices.begin(), slices.end());
  if (block.index + 1 < int(blocks.size())) fed.push_back(readBlockFile(plan, corrected, blocks[block.index + 1]).front());
  if (fed.size() < 2)
    throw Error("learn.model " + plan.learn.model.string() + " was trained with learn.z_context = " +
                plan.model->featureSpec().zContext + ", which needs each slice's neighbours; the input has " +
                std::to_string(plan.slices) + " slice; expected a stack, or a model trained with learn.z_context = none");
  std::vector<std::optional<learn::Prediction>> predictions(block.size());
  learn::StackPredictor inOrder(*plan.model, context.probabilities || context.uncertainty,
                                [&](int i, learn::Prediction prediction) {
                                  const int z = firstFed + i;
                                  if (z >= block.first && z < block.end) predictions[z - block.first] = std::move(prediction);
                                });
  for (int i = 0; i < int(fed.size()); ++i) {
    const int z = firstFed + i;
    cv::Mat seen = asTrained(plan, fed[i]);  // what segmentSlice is then given, as in fibseg run
    inOrder.add(seen);
    if (z >= block.first && z < block.end) slices[z - block.first] = seen;
  }
  inOrder.finish();
  return predictions;
}

void segmentBlock(const RunPlan& plan, const Block& block) {
  const AlignedStack stack = alignedStackFromJson(readJson(blocksFolder(plan) / "stack.json"));
  const SegmentContext context = segmentContext(plan, stack);
  std::vector<cv::Mat> slices = readBlockFile(plan, correctedVolume(plan, stack), block);
  std::vector<std::optional<learn::Prediction>> predictions(block.size());
  if (plan.model && plan.model->needsNeighbours()) predictions = predictWithNeighbours(plan, stack, context, block, slices);
  std::vector<SegmentedSlice> items(block.size());
  tbb::parallel_for(block.first, block.end, [&](int z) {
    const int i = z - block.first;
    items[i] = segmentSlice(plan, context, z, slices[i], std::move(predictions[i]));
  });
  recordSegmentation(plan, stack, block, items);
}

// Correction and segmentation as one step (segmentation needs no whole-stack result), as the
// local run's alignCorrectAndSegment: each slice corrected, then segmented, in one task.
void correctAndSegmentBlock(const RunPlan& plan, const Block& block) {
  const RegisterResult registered = registration(plan);
  const AlignedStack stack = startAlignedStack(plan, registered);
  const SegmentContext context = segmentContext(plan, stack);
  std::vector<CorrectedSlice> corrected(block.size());
  std::vector<SegmentedSlice> segmented(block.size());
  tbb::parallel_for(block.first, block.end, [&](int z) {
    corrected[z - block.first] = correctSlice(plan, stack, registered.reference, z);
    segmented[z - block.first] = segmentSlice(plan, context, z, corrected[z - block.first].corrected);
  });
  recordCorrection(plan, stack, block, corrected, false);
  recordSegmentation(plan, stack, block, segmented);
}

// A joined TIFF volume, hashed as it grew: run.json takes that hash.
void finishJoin(VolumeJoin& join, OutputFolder& folder) {
  if (const std::string sha256 = join.finish(); !sha256.empty()) folder.addHashed(join.tiff(), sha256);
}

std::string runKey(const fs::path& input, const config::ParamSet& params) {
  std::set<std::string> sections;
  for (const auto& [name, value] : params.values()) sections.insert(name.substr(0, name.find('.')));
  sections.erase("measure");  // runs after every block, on the client
  return taskVersion() + " " + stageFingerprint(input, params, {sections.begin(), sections.end()});
}

}  // namespace

std::string taskVersion() { return FIBSEG_VERSION_TEXT; }

double runBlockTask(const std::string& planJson, const std::string& stage, int index, int threads) {
  if (threads > 0) {
    tbb::task_arena arena(threads);
    return arena.execute([&] { return runBlockTask(planJson, stage, index, 0); });
  }
  const auto start = Clock::now();
  allocateAsAPlainProcess();
  const auto held = workerPlan(planJson);
  const RunPlan& plan = held->plan;
  if (stage == "register") {
    registerChain(plan, index);
    return secondsSince(start);
  }
  const auto blocks = blocksOf(plan);
  if (index < 0 || index >= int(blocks.size()))
    throw Error("block " + std::to_string(index) + " asked, the run has " + std::to_string(blocks.size()));
  if (stage == "correct") correctBlock(plan, blocks[index]);
  else if (stage == "segment") segmentBlock(plan, blocks[index]);
  else if (stage == kCorrectAndSegment) correctAndSegmentBlock(plan, blocks[index]);
  else throw Error("stage '" + stage + "': expected register, correct, segment or " + kCorrectAndSegment);
  return secondsSince(start);
}

// ---- the client ----

struct DistributedRun::State {
  config::ParamSet params;
  RunOptions options;
  RunPlan plan;
  std::unique_ptr<OutputFolder> folder;
  std::string planJson;
  Clock::time_point start = Clock::now();
  RunResults results;
  std::unique_ptr<Progress> progress;
  std::ostream* log = nullptr;
  std::string stage;  // of the progress shown
  bool alignedJoined = false;
  std::unique_ptr<VolumeJoin> labelsJoin;  // TIFF output: labels.tif joined as segment blocks finish
  std::unique_ptr<VolumeJoin> alignedJoin;  // ... and aligned.tif, when correct and segment are one task
  bool oneStep = false;                     // correct and segment as one task (kCorrectAndSegment)
};

DistributedRun::DistributedRun(const config::ParamSet& params, const RunOptions& options, bool resume)
    : state_(std::make_unique<State>(State{params, options, {}, nullptr, {}, Clock::now(), {}, nullptr, nullptr, {}, false,
                                           nullptr, nullptr, false})) {
  State& s = *state_;
  s.log = options.log ? options.log : &std::cerr;
  params.requireComplete();
  if (!options.from.empty()) throw Error("--from " + options.from + ": the distributed run always runs every stage");
  s.plan = makePlan(params);
  s.oneStep = !segmentNeedsWholeStack(s.plan);
  const std::string key = runKey(s.plan.input, params);
  s.folder = std::make_unique<OutputFolder>(
      s.plan.output, OutputFolderOptions{.replaceEarlierRun = options.overwrite, .keepCache = false,
                                         .resumeKey = resume ? key : std::string()},
      *s.log);
  stageOutputs(s.plan, *s.folder, *s.log);
  ensureWritableFolder(blocksFolder(s.plan));
  if (s.plan.slicePngs || (s.plan.model && s.plan.uncertaintyPngs)) ensureWritableFolder(s.plan.output / "segmented.partial");
  const fs::path parameters = blocksFolder(s.plan) / "parameters.toml";
  writeTextFile(parameters, config::formatResolvedParameters(params));
  s.planJson = json{{"version", taskVersion()}, {"parameters_file", parameters.string()},
                    {"staging", s.plan.output.string()}, {"folder", s.folder->folder().string()}, {"key", key}}
                   .dump();
}

DistributedRun::~DistributedRun() = default;

std::string DistributedRun::planJson() const { return state_->planJson; }
int DistributedRun::blocks() const { return int(blocksOf(state_->plan).size()); }
int DistributedRun::slices() const { return state_->plan.slices; }
std::vector<int> DistributedRun::blockSizes() const {
  std::vector<int> sizes;
  for (const Block& b : blocksOf(state_->plan)) sizes.push_back(b.size());
  return sizes;
}

std::size_t DistributedRun::blockMemoryBytes() const {
  const RunPlan& p = state_->plan;
  const std::size_t pixels = std::size_t(p.cropRect.width) * p.cropRect.height;
  const std::size_t bytes = p.series.bitDepth() == 16 ? 2 : 1;
  // A correct task holds its block aligned and corrected; every thread a raw slice and the
  // float images of correction or segmentation (about 16 per slice: Gabor bank, denoising).
  const std::size_t block = std::size_t(p.blockSlices) * pixels * bytes * 2;
  const std::size_t perThread = std::size_t(p.series.width()) * p.series.height() * bytes + 16 * pixels * 4;
  return block + perThread;
}

std::string DistributedRun::blockMemoryText() const {
  const RunPlan& p = state_->plan;
  return std::to_string(blockMemoryBytes() >> 20) + " MiB for a block of " + std::to_string(p.blockSlices) +
         " slices of " + std::to_string(p.cropRect.width) + " x " + std::to_string(p.cropRect.height) +
         " px on one thread (output.block_slices)";
}

std::vector<std::string> DistributedRun::stages() const {
  if (state_->oneStep) return {"register", kCorrectAndSegment};
  return {"register", "correct", "segment"};
}

std::vector<int> DistributedRun::taskSizes(const std::string& stage) const {
  if (stage != "register") return blockSizes();
  std::vector<int> sizes;
  for (const align::Chain& c : registrationChainsOf(state_->plan)) sizes.push_back(c.size());
  return sizes;
}

bool DistributedRun::registered() const { return fs::exists(blocksFolder(state_->plan) / "register.json"); }

std::vector<int> DistributedRun::missingBlocks(const std::string& stage) const {
  // A one-step block is whole when its segment record (written last) is there.
  const std::string record = stage == kCorrectAndSegment ? "segment" : stage;
  std::vector<int> missing;
  for (int b = 0; b < int(taskSizes(stage).size()); ++b)
    if (!fs::exists(recordPath(state_->plan.output, record, b))) missing.push_back(b);
  return missing;
}

void DistributedRun::afterRegistration() {
  State& s = *state_;
  if (!registered()) {  // the reduction: every chain's comparisons solved together
    std::vector<ChainResult> chains;
    for (int c = 0; c < int(registrationChainsOf(s.plan).size()); ++c)
      chains.push_back(chainFromRecord(readRecord(recordPath(s.plan.output, "register", c))));
    writeTextFile(blocksFolder(s.plan) / "register.json", toJson(solveChains(s.plan, chains)).dump() + "\n");
  }
  const RegisterResult registered = registration(s.plan);
  reportRegistration(s.plan, s.params, registered, *s.log);
  s.results.stack = startAlignedStack(s.plan, registered);
  const AlignedStack& stack = s.results.stack;
  if (s.plan.align.writeAlignedStack) createVolume(s.plan, alignedVolume(s.plan, stack));
  if (s.oneStep) {
    createVolume(s.plan, labelsVolume(s.plan, stack));
    s.labelsJoin = std::make_unique<VolumeJoin>(s.plan, labelsVolume(s.plan, stack));
    if (s.plan.align.writeAlignedStack) s.alignedJoin = std::make_unique<VolumeJoin>(s.plan, alignedVolume(s.plan, stack));
  }
}

void DistributedRun::afterCorrection() {
  State& s = *state_;
  AlignedStack& stack = s.results.stack;
  const int type = stack.bitDepth == 16 ? CV_16U : CV_8U;
  OrthoSlices ortho(s.plan.slices, stack.outputRect.size(), type);
  BlockFaces faces(s.plan.slices, stack.outputRect.size(), type);
  segment::GreyHistogram histogram(stack.bitDepth);
  std::vector<std::uint64_t> counts(stack.bitDepth == 16 ? 65536 : 256, 0);
  for (const Block& block : blocksOf(s.plan)) {
    const json r = readRecord(recordPath(s.plan.output, "correct", block.index));
    for (int i = 0; i < block.size(); ++i) {
      const auto& b = r.at("brightness")[i];
      stack.brightness[block.first + i] = {b[0], b[1], b[2], b[3], b[4], b[5]};
    }
    const auto& bytes = r.at("histogram").get_binary();
    if (bytes.size() != counts.size() * sizeof(std::uint64_t)) throw Error("a correct block record is damaged");
    for (std::size_t g = 0; g < counts.size(); ++g) {
      std::uint64_t c;
      std::memcpy(&c, bytes.data() + g * sizeof c, sizeof c);
      counts[g] += c;
    }
    ortho.place(block.first, matFromJson(r.at("xz")), matFromJson(r.at("yz")));
    faces.place(block.first, BlockFaces(matFromJson(r.at("front")), matFromJson(r.at("top")), matFromJson(r.at("side"))));
  }
  // The histogram as GreyHistogram sums it: one image of the counts would not do; add them.
  histogram = segment::GreyHistogram::fromCounts(stack.bitDepth, counts);
  finishCorrection(s.plan, stack, histogram, ortho, faces);
  if (s.oneStep) return;  // the blocks are segmented already
  writeTextFile(blocksFolder(s.plan) / "stack.json", toJson(stack, "", "").dump() + "\n");
  createVolume(s.plan, labelsVolume(s.plan, stack));
  s.labelsJoin = std::make_unique<VolumeJoin>(s.plan, labelsVolume(s.plan, stack));
}

void DistributedRun::joinAligned() {
  State& s = *state_;
  if (s.alignedJoined) return;
  if (s.alignedJoin) finishJoin(*s.alignedJoin, *s.folder);
  else if (s.plan.align.writeAlignedStack) joinVolumeBlocks(s.plan, alignedVolume(s.plan, s.results.stack));
  s.alignedJoined = true;
}

void DistributedRun::afterBlock() {
  State& s = *state_;
  if (!s.labelsJoin) throw Error("afterBlock before the labels volume is made (internal error)");
  const auto segmented = [&](int b) { return fs::exists(recordPath(s.plan.output, "segment", b)); };
  s.labelsJoin->appendFinished(segmented);
  if (s.alignedJoin) s.alignedJoin->appendFinished(segmented);
  s.folder->hashStagedOutputs();
}

RunSummary DistributedRun::finish() {
  State& s = *state_;
  const AlignedStack& stack = s.results.stack;
  OrthoSlices ortho(s.plan.slices, stack.outputRect.size(), CV_8U);
  BlockFaces faces(s.plan.slices, stack.outputRect.size(), CV_8U);
  s.results.fractions.assign(s.plan.slices, {});
  s.results.otsuThresholds = emptyOtsuThresholds(s.plan, stack);
  std::vector<SegmentedSlice> uncertain;  // output.uncertainty_pngs: the least certain regions
  for (const Block& block : blocksOf(s.plan)) {
    const json r = readRecord(recordPath(s.plan.output, "segment", block.index));
    for (const auto& u : r.value("uncertain", json::array())) {
      SegmentedSlice& slice = uncertain.emplace_back();
      slice.z = u[0].get<int>(), slice.meanUncertainty = u[1].get<double>();
      for (const auto& b : u[2])
        slice.leastCertain.push_back({{b[0].get<int>(), b[1].get<int>(), b[2].get<int>(), b[3].get<int>()}, b[4].get<double>()});
    }
    for (int i = 0; i < block.size(); ++i) {
      const int z = block.first + i;
      s.results.fractions[z] = {r.at("fractions")[i].get<std::vector<double>>(),
                                r.at("pixels")[i].get<std::vector<long long>>()};
      const int t = r.at("otsu")[i].get<int>();
      if (t >= 0 && int(s.results.otsuThresholds.size()) == s.plan.slices) s.results.otsuThresholds[z] = t;
    }
    ortho.place(block.first, matFromJson(r.at("xz")), matFromJson(r.at("yz")));
    faces.place(block.first, BlockFaces(matFromJson(r.at("front")), matFromJson(r.at("top")), matFromJson(r.at("side"))));
  }
  const SegmentContext context = segmentContext(s.plan, stack);
  if (context.uncertainty) writeUncertaintyRegions(s.plan, uncertain);
  finishSegmentation(s.plan, context, ortho, faces);
  joinAligned();
  if (!s.labelsJoin) throw Error("finish before afterCorrection (internal error)");
  finishJoin(*s.labelsJoin, *s.folder);
  // The grey stack and cache/corrected.json, as the local run leaves them (`--from segment`,
  // `fibseg corrected`, the studio).
  if (const auto grey = greyCacheVolume(s.plan, stack)) joinVolumeBlocks(s.plan, *grey);
  for (const VolumeSpec& volume : probabilityVolumes(s.plan, stack)) joinVolumeBlocks(s.plan, volume);
  writeTextFile(s.plan.cacheFolder / "corrected.json",
                toJson(stack, stageFingerprint(s.plan.input, s.params, kCachedSections),
                       describeParameterValues(s.params, kCachedSections))
                        .dump() +
                    "\n");
  std::error_code ec;
  fs::remove_all(blocksFolder(s.plan), ec);  // the records and the corrected blocks: not outputs
  // A worker killed while writing leaves its temporary file (AtomicFile: ".NAME.tmpPID_N"); the
  // task ran again elsewhere and wrote the file whole.
  std::vector<fs::path> strays;
  for (const auto& entry : fs::recursive_directory_iterator(s.plan.output, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.starts_with(".") && name.find(".tmp") != std::string::npos)
      strays.push_back(entry.path());
  }
  for (const auto& stray : strays) fs::remove(stray, ec);
  return finishRun(s.params, s.plan, *s.folder, s.results, s.start, *s.log);
}

void DistributedRun::startProgress(const std::string& stage, int total) {
  state_->progress = std::make_unique<Progress>(*state_->log, stage, total, state_->options.terminal);
  state_->stage = stage;
}
void DistributedRun::advanceProgress(int steps) {
  if (state_->progress) state_->progress->advance(steps);
}
double DistributedRun::finishProgress() {
  if (!state_->progress) return 0;
  const double seconds = state_->progress->finish();
  state_->progress.reset();
  if (state_->stage == "align   ") state_->results.timings["read_crop_register"] = seconds;
  if (state_->stage == "correct ") state_->results.timings["align_correct"] = seconds;
  if (state_->stage == "segment ") state_->results.timings["segment_write"] = seconds;
  if (state_->stage == "correct and segment ") state_->results.timings["align_correct_segment_write"] = seconds;
  return seconds;
}
std::ostream& DistributedRun::log() { return *state_->log; }

}  // namespace fibseg::pipeline
