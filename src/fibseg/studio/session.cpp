#include "fibseg/studio/session.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "fibseg/config/load.hpp"
#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/intensity/denoise.hpp"
#include "fibseg/io/png.hpp"
#include "fibseg/io/slice_series.hpp"
#include "fibseg/io/tiff.hpp"
#include "fibseg/pipeline/corrected_slices.hpp"
#include "fibseg/segment/segment.hpp"

namespace fibseg::studio {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kCachedSlices = 12;               // per cache: a few slices either side
constexpr std::size_t kResliceStackBytes = 1ull << 30;  // live XZ/YZ only for stacks up to 1 GB


std::string annotationName(int z) {
  char name[40];
  std::snprintf(name, sizeof name, "annotation_%04d.png", z);
  return name;
}

}  // namespace

Session::Session(fs::path runFolder, fs::path studioFolder)
    : runFolder_(std::move(runFolder)), studioFolder_(std::move(studioFolder)) {
  parameterFile_ = runFolder_ / "parameters_used.toml";
  for (const fs::path& needed : {runFolder_ / "run.json", parameterFile_, runFolder_ / "cache" / "corrected.json"})
    if (!fs::is_regular_file(needed))
      throw Error("studio: " + runFolder_.string() + " lacks " + needed.filename().string() +
                  "; expected the output folder of a completed `fibseg run` (or give the parameter file instead)");
  parameters_ = config::loadParameters(parameterFile_, {}, config::RequiredValues::MayBeMissing);
  corrected_ = std::make_shared<const pipeline::RunCorrectedSlices>(runFolder_);
  slices_ = corrected_->pages();
  size_ = corrected_->size();
  bitDepth_ = corrected_->bitDepth();
  // The input slices, for the raw view; a run whose input has moved since still opens.
  try {
    const auto params = parameters();
    const auto series = io::SliceSeries::open(
        params.text("input.path"), {params.text("input.format"), params.text("input.prefer_names_containing")});
    rawSlices_ = static_cast<int>(series.size());
  } catch (const std::exception&) {
    rawSlices_ = 0;
  }
  // Annotations saved earlier (index.csv: slice,file,revision).
  std::ifstream index(studioFolder_ / "annotations" / "index.csv");
  std::string line;
  std::getline(index, line);  // header
  while (std::getline(index, line)) {
    int z = -1, revision = 0;
    char file[256] = {};
    if (std::sscanf(line.c_str(), "%d,%255[^,],%d", &z, file, &revision) != 3 || z < 0 || z >= slices_) continue;
    const fs::path path = studioFolder_ / "annotations" / file;
    if (!fs::is_regular_file(path)) continue;
    cv::Mat codes = io::readPngGrey(path);
    if (codes.size() != size_ || codes.type() != CV_8U) continue;
    annotations_[z] = {codes, revision};
  }
}

config::ParamSet Session::parameters(const Overrides& overrides) const {
  config::ParamSet params = *parameters_;
  for (const auto& [name, value] : overrides) params.set(name, value, "studio");
  return params;
}

PhaseSet Session::phases() const { return config::phasesFrom(parameters()); }

cv::Mat Session::cached(std::map<int, cv::Mat>& cache, int z, const std::function<cv::Mat()>& read) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache.find(z); it != cache.end()) return it->second;
  }
  cv::Mat image = read();
  std::lock_guard lock(mutex_);
  if (cache.size() >= kCachedSlices) {
    // Drop the slice farthest from this one: the page steps through neighbouring slices.
    auto farthest = std::max_element(cache.begin(), cache.end(), [z](const auto& a, const auto& b) {
      return std::abs(a.first - z) < std::abs(b.first - z);
    });
    cache.erase(farthest);
  }
  cache[z] = image;
  return image;
}

static void requireSlice(int z, int slices, const std::string& what) {
  if (z < 0 || z >= slices)
    throw Error("studio: " + what + " slice " + std::to_string(z) + " does not exist; expected 0 to " +
                std::to_string(slices - 1));
}

cv::Mat Session::slice(int z) {
  requireSlice(z, slices_, "aligned");
  return cached(slices_cache_, z, [&] {
    std::shared_ptr<const pipeline::RunCorrectedSlices> corrected;
    {
      std::lock_guard lock(mutex_);  // reload() replaces it
      corrected = corrected_;
    }
    return corrected->read(z);
  });
}

cv::Mat Session::rawSlice(int z) {
  requireSlice(z, rawSlices_, "input");
  return cached(raw_cache_, z, [&] {
    const auto params = parameters();
    const auto series = io::SliceSeries::open(
        params.text("input.path"), {params.text("input.format"), params.text("input.prefer_names_containing")});
    return series.read(static_cast<std::size_t>(z));
  });
}

cv::Mat Session::labels(int z) {
  requireSlice(z, slices_, "label");
  const fs::path file = runFolder_ / "labels.tif";
  if (!fs::is_regular_file(file)) return {};
  return cached(labels_cache_, z, [&] {
    // labels.tif holds the user's grey values (phases.values): back to phase indices.
    const PhaseSet set = phases();
    cv::Mat lut(1, 256, CV_8U, cv::Scalar(255));
    for (int p = 0; p < set.count(); ++p) lut.at<std::uint8_t>(set.values[p]) = static_cast<std::uint8_t>(p);
    cv::Mat indices;
    cv::LUT(io::readTiffPage(file, z), lut, indices);
    return indices;
  });
}

cv::Mat Session::reslice(const std::string& axis, int position) {
  const std::size_t bytes = std::size_t(slices_) * size_.area() * (bitDepth_ == 16 ? 2 : 1);
  if (bytes > kResliceStackBytes)
    throw Error("studio: the stack (" + std::to_string(bytes >> 20) +
                " MB) is too large for live re-slices; see the run's preview/ortho_*.png");
  const bool xz = axis == "xz";
  if (!xz && axis != "yz") throw Error("studio: re-slice axis '" + axis + "'; expected xz or yz");
  const int limit = xz ? size_.height : size_.width;
  if (position < 0 || position >= limit)
    throw Error("studio: re-slice at " + std::to_string(position) + "; expected 0 to " + std::to_string(limit - 1));
  cv::Mat out(slices_, xz ? size_.width : size_.height, bitDepth_ == 16 ? CV_16U : CV_8U);
  for (int z = 0; z < slices_; ++z) {
    const cv::Mat s = slice(z);
    if (xz) s.row(position).copyTo(out.row(z));
    else cv::Mat(s.col(position).t()).copyTo(out.row(z));
  }
  return out;
}

Annotation Session::annotation(int z) {
  requireSlice(z, slices_, "annotated");
  std::lock_guard lock(mutex_);
  if (auto it = annotations_.find(z); it != annotations_.end()) return {it->second.codes.clone(), it->second.revision};
  return {cv::Mat::zeros(size_, CV_8U), 0};
}

std::vector<int> Session::annotatedSlices() {
  std::lock_guard lock(mutex_);
  std::vector<int> out;
  for (const auto& [z, a] : annotations_)
    if (cv::countNonZero(a.codes) > 0) out.push_back(z);
  return out;
}

void Session::writeIndex() {
  // Which slice each file belongs to, and the stack to train on with `fibseg train --stack`.
  std::string csv = "slice,file,revision\n";
  for (const auto& [z, a] : annotations_)
    if (cv::countNonZero(a.codes) > 0)
      csv += std::to_string(z) + "," + annotationName(z) + "," + std::to_string(a.revision) + "\n";
  writeTextFile(studioFolder_ / "annotations" / "index.csv", csv);
}

int Session::saveAnnotation(int z, const cv::Mat& codes, int fromRevision) {
  requireSlice(z, slices_, "annotated");
  if (codes.size() != size_ || codes.type() != CV_8U)
    throw Error("studio: annotation of slice " + std::to_string(z) + " is not " + std::to_string(size_.width) + "x" +
                std::to_string(size_.height) + " bytes");
  double maxCode = 0;
  cv::minMaxLoc(codes, nullptr, &maxCode);
  const int phaseCount = phases().count();
  if (maxCode > phaseCount)
    throw Error("studio: annotation of slice " + std::to_string(z) + " holds code " + std::to_string(int(maxCode)) +
                "; expected 0 (unpainted) to " + std::to_string(phaseCount));
  // One save at a time: the revision check and the write cannot interleave with another tab's.
  std::lock_guard saving(annotationMutex_);
  int current = 0;
  {
    std::lock_guard lock(mutex_);
    if (auto it = annotations_.find(z); it != annotations_.end()) current = it->second.revision;
  }
  if (fromRevision != current) throw StaleRevision(current);
  const fs::path folder = studioFolder_ / "annotations";
  ensureWritableFolder(folder);
  if (cv::countNonZero(codes) > 0) io::writePng(folder / annotationName(z), codes);
  else fs::remove(folder / annotationName(z));
  std::lock_guard lock(mutex_);
  annotations_[z] = {codes.clone(), current + 1};
  writeIndex();
  return current + 1;
}

ClassicalPreview Session::classical(int z, const Overrides& overrides) {
  const auto params = parameters(overrides);
  const auto segmentParams = config::segmentParamsFrom(params);
  const auto denoise = config::denoiseParamsFrom(params);
  int stackThreshold = -1;
  if (segmentParams.otsuScope == segment::OtsuScope::Stack) {
    // The pipeline's stack scope: one Otsu threshold from the histogram of every corrected slice.
    segment::GreyHistogram histogram(bitDepth_);
    for (int i = 0; i < slices_; ++i) histogram.add(slice(i));
    stackThreshold = segment::otsuThreshold(histogram);
  }
  const cv::Mat s = slice(z);
  cv::Mat denoised;
  const std::string denoiseText = intensity::describeDenoise(denoise);
  {
    std::lock_guard lock(mutex_);
    if (denoisedZ_ == z && denoisedWith_ == denoiseText) denoised = denoised_;
  }
  if (denoised.empty()) {
    denoised = intensity::denoise(s, denoise);
    std::lock_guard lock(mutex_);
    denoisedZ_ = z;
    denoisedWith_ = denoiseText;
    denoised_ = denoised;
  }
  const auto segmentation = segment::segmentSlice(s, denoised, segmentParams, stackThreshold);
  ClassicalPreview out;
  out.labels = segmentation.labels;
  out.camThreshold = segmentation.camThreshold;
  out.fractions = segment::phaseFractions(segmentation.labels, 3).fraction;
  return out;
}

segment::TuneResult Session::tune(int z, const Overrides& overrides) {
  if (!phases().isClassicalThree())
    throw Error("studio: tune chooses the classical path's pore filter, which needs the phases pore, SE, CAM; "
                "these parameters name " + phases().namesText());
  const Annotation painted = annotation(z);
  // The studio's codes are `fibseg tune`'s grey annotation format: 1 pore, 2 SE, 3 CAM, 0 unpainted.
  const cv::Mat strokes = segment::annotationLabels(painted.codes, "slice " + std::to_string(z) + "'s strokes");
  const auto preview = classical(z, overrides);
  const cv::Mat s = slice(z);
  const auto method = config::segmentParamsFrom(parameters(overrides)).convolution;
  return segment::tuneGabor(s, segment::camMask(s, preview.camThreshold), strokes, segment::defaultGaborSweep(), method);
}

std::vector<cv::Mat> Session::neighboursOf(int z, bool wanted, const intensity::DenoiseParams& denoise) {
  std::vector<cv::Mat> neighbours;
  if (!wanted) return neighbours;
  for (int n : {z - 1, z + 1}) {
    if (n < 0 || n >= slices_) neighbours.emplace_back();  // the stack's end: the other one stands in
    else neighbours.push_back(intensity::denoise(slice(n), denoise));
  }
  return neighbours;
}

void Session::train(const Overrides& overrides) {
  // As `fibseg corrected OUT`, then `fibseg train PARAMS --stack cache/corrected.tif --slice z --annotation annotation_z.png`.
  const auto params = parameters(overrides);
  auto learnParams = config::learnParamsFrom(params);
  const PhaseSet set = config::phasesFrom(params);
  const auto denoiseAll = config::denoiseParamsFrom(params);
  const auto denoise = learnParams.denoiseInput ? denoiseAll : intensity::noDenoising(denoiseAll);
  const bool withNeighbours = learn::trainingWantsNeighbours(learnParams);  // as `fibseg train --stack`
  std::vector<learn::AnnotatedSlice> examples;
  for (int z : annotatedSlices()) {
    const Annotation a = annotation(z);
    examples.push_back({intensity::denoise(slice(z), denoise),
                        learn::annotationFromImage(a.codes, annotationName(z), set), annotationName(z),
                        neighboursOf(z, withNeighbours, denoise)});
  }
  if (examples.empty()) throw Error("studio: no painted slice to train on; paint strokes of every phase and save");
  learn::resolveCnnModel(learnParams.features);
  const learn::TrainingContext context{set.names, set.values, set.coloursRgb, 0, intensity::describeDenoise(denoise)};
  auto model = std::make_shared<const learn::Classifier>(
      learn::trainModel(examples, learnParams, context));  // learn.preset: auto cross-validates, manual as given
  std::lock_guard lock(mutex_);
  model_ = std::move(model);
  modelOverrides_ = overrides;
}

bool Session::hasModel() const {
  std::lock_guard lock(mutex_);
  return model_ != nullptr;
}

PredictionView Session::predict(int z, const Overrides& overrides) {
  std::shared_ptr<const learn::Classifier> model;
  {
    std::lock_guard lock(mutex_);
    model = model_;
  }
  if (!model) throw Error("studio: no model yet; press Train first");
  // As the pipeline's classifier pass: the slice as trained (learn.denoise_input), then
  // the boundary refinement `fibseg run` applies (learn.refine_band, or what auto chose for the model).
  const auto params = parameters(overrides);
  const auto learnParams = config::learnParamsFrom(params);
  const auto denoiseAll = config::denoiseParamsFrom(params);
  const auto denoise = learnParams.denoiseInput ? denoiseAll : intensity::noDenoising(denoiseAll);
  const cv::Mat seen = intensity::denoise(slice(z), denoise);
  auto prediction = model->predict(seen, neighboursOf(z, model->featureSpec().zContext != "none", denoise), true);
  const learn::BoundaryRefinement refine = learn::refinementFor(learnParams, *model);
  if (refine.bandPx > 0)
    prediction.labels =
        learn::refineBoundaries(prediction.labels, seen, refine, static_cast<int>(prediction.probabilities.size()));
  PredictionView out;
  out.labels = prediction.labels;
  cv::Mat first(seen.size(), CV_32F, cv::Scalar(0)), second(seen.size(), CV_32F, cv::Scalar(0));
  for (const cv::Mat& p : prediction.probabilities) {
    cv::Mat pushed = cv::min(first, p);  // what `p` displaces from first place, or p itself
    second = cv::max(second, pushed);
    first = cv::max(first, p);
  }
  first.convertTo(out.probability, CV_8U, 255.0);
  cv::Mat margin = 1.0 - (first - second);
  margin.convertTo(out.uncertainty, CV_8U, 255.0);
  return out;
}

std::pair<fs::path, config::ParamSet> Session::saveParameters(const Overrides& overrides) {
  auto params = parameters(overrides);
  ensureWritableFolder(studioFolder_);
  const fs::path file = studioFolder_ / "params.toml";
  writeTextFile(file, config::formatResolvedParameters(params));
  return {file, params};
}

std::pair<fs::path, fs::path> Session::saveModel(const Overrides& overrides) {
  std::shared_ptr<const learn::Classifier> model;
  Overrides trainedWith;
  {
    std::lock_guard lock(mutex_);
    model = model_;
    trainedWith = modelOverrides_;
  }
  if (!model) throw Error("studio: no model to save; press Train first");
  ensureWritableFolder(studioFolder_);
  const fs::path modelFile = studioFolder_ / "model.json";
  model->save(modelFile);
  // The parameter file that runs it: the parameters it was trained with, method classifier.
  Overrides runIt = trainedWith;
  runIt["segment.method"] = "classifier";
  runIt["learn.model"] = modelFile.string();
  const auto params = parameters(runIt);
  const fs::path paramFile = studioFolder_ / "params_classifier.toml";
  writeTextFile(paramFile, config::formatResolvedParameters(params));
  return {modelFile, paramFile};
}

void Session::reload() {
  std::lock_guard lock(mutex_);
  slices_cache_.clear();
  labels_cache_.clear();
  raw_cache_.clear();
  denoisedZ_ = -1;
  parameters_ = config::loadParameters(parameterFile_, {}, config::RequiredValues::MayBeMissing);
  corrected_ = std::make_shared<const pipeline::RunCorrectedSlices>(runFolder_);
  slices_ = corrected_->pages();
  size_ = corrected_->size();
  bitDepth_ = corrected_->bitDepth();
}

}  // namespace fibseg::studio
