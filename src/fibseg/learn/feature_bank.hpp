#pragma once
// Internal to the learn stage: the feature bank on a normalised (CV_32F, about 0..1) image, the
// ONNX runner, and band-wise evaluation that keeps memory flat on large slices.
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "fibseg/learn/learn.hpp"

namespace fibseg::learn::detail {

/// A loaded ONNX feature extractor. cv::dnn::Net is not re-entrant, so runs are serialised.
class CnnRunner {
 public:
  explicit CnnRunner(const std::string& path);
  /// Feature maps of `normalised` (CV_32F), each resized to its size.
  std::vector<cv::Mat> run(const cv::Mat& normalised);
  int channels() const { return channels_; }

 private:
  std::string path_;
  cv::dnn::Net net_;
  std::mutex mutex_;
  int channels_ = 0;
};

/// Image buffers for the bank's planes, reused once no one else holds them. A prediction makes
/// and drops some hundred planes of a band's size per band; fresh from the allocator each is new
/// pages the kernel maps and zeroes (glibc hands big blocks back to the system, and TBB's
/// threads' heaps come and go): that was 40 % of the bank's CPU time. Taken from here, a band
/// reuses the planes of the band before it, and a slice those of the slice before. The pool
/// keeps at most the planes a prediction needed at once (its peak memory: ~110 MB for a 1024 x
/// 1024 slice with the default bank and auto-context, as long as the model lives) and drops free
/// ones of another size when it needs a new one. Thread-safe.
class PlanePool {
 public:
  /// A `size` image of `type`, contents undefined; with no pool (nullptr) a newly allocated one.
  static cv::Mat take(PlanePool* pool, cv::Size size, int type = CV_32F);

 private:
  std::mutex mutex_;
  std::vector<cv::Mat> planes_;
};

/// FNV-1a 64-bit digest of a file's bytes, as 16 hex digits; throws naming the file.
std::string fileDigest(const std::string& path);

/// The slice as CV_32F scaled as spec.normalisation says (spec.greyLow/greyHigh for "training").
cv::Mat normaliseSlice(const cv::Mat& slice, const FeatureSpec& spec);
/// The 1st and 99th grey percentiles of all `slices` together (CV_8U or CV_16U, one depth).
std::pair<double, double> greyPercentiles(const std::vector<cv::Mat>& slices);

/// The z-context images from the neighbours {z-1, z+1} (an empty Mat or a single entry at a
/// stack's end), each normalised on its own: for "neighbours" their mean, for "above_below" and
/// "changes" both (one standing in for a missing other). None when spec.zContext is "none";
/// throws naming `where` when there is no neighbour, or one of another size.
std::vector<cv::Mat> contextImages(const std::vector<cv::Mat>& neighbours, const FeatureSpec& spec, cv::Size size,
                                   const std::string& where);

/// Rows of context a band needs on each side so its features equal whole-slice ones.
int featureHalo(const FeatureSpec& spec);

/// Bank features (and CNN features if `cnn`) of a normalised image: one CV_32F plane per name.
/// `pool`: where the planes' memory comes from (none: allocated afresh; the values are the same).
std::vector<cv::Mat> bankFeatures(const cv::Mat& normalised, const FeatureSpec& spec, CnnRunner* cnn,
                                  PlanePool* pool = nullptr);

/// The bank of one context image (a normalised neighbour, see contextImages): scales and Gabor,
/// no CNN. The same planes as the neighbour's own bank without its CNN maps.
std::vector<cv::Mat> contextBank(const cv::Mat& context, const FeatureSpec& spec, PlanePool* pool = nullptr);

/// Whether the z context holds the context images' whole banks (all but "changes", which holds
/// only their change from the slice).
bool hasContextBanks(const FeatureSpec& spec);

/// What the change of a context image from the slice is taken of: its grey, then its smoothed grey
/// at each of spec.scales (the same values as those planes of its contextBank). All that
/// z context "changes" needs of a neighbour.
std::vector<cv::Mat> contextChangeSources(const cv::Mat& context, const FeatureSpec& spec, PlanePool* pool = nullptr);

/// Appends the z-context features to `planes` (the slice's own bank, CNN maps included): each
/// context bank (contextImages' order; not for z context "changes"), then each one's change from
/// the slice. `banks`: per context its contextBank, or for "changes" its contextChangeSources.
void appendContextBanks(std::vector<cv::Mat>& planes, const std::vector<std::vector<cv::Mat>>& banks,
                        const FeatureSpec& spec, PlanePool* pool = nullptr);

/// Splits the normalised slice into horizontal bands of about `bandPixels` pixels, computes each
/// band's features with a halo, and hands `visit` the band's rows and its feature planes (one
/// CV_32F image of the band per feature, halo cut off).
/// `contexts`: the contextImages (none without z context); their banks are appended to the planes.
void forEachBand(const cv::Mat& normalised, const std::vector<cv::Mat>& contexts, const FeatureSpec& spec,
                 CnnRunner* cnn, long long bandPixels,
                 const std::function<void(cv::Range rows, const std::vector<cv::Mat>& planes)>& visit,
                 PlanePool* pool = nullptr);

/// Rows of context the auto-context features need on each side of a band.
int autoContextHalo(const FeatureSpec& spec);

/// The size of the first stage's probability planes of an auto-context model: the slice's
/// pixels on the grid of every spec.autoContextStep-th row and column.
cv::Size firstStageGrid(cv::Size slice, const FeatureSpec& spec);

/// The auto-context features of rows `rows` (slice rows) of the stage-1 probability planes
/// (one CV_32F plane per phase of firstStageGrid's size, whole slice): per phase the probability,
/// then its Gaussian smoothing at each of spec.autoContextScales (as if computed on the whole
/// slice; on the grid, sigma / step), interpolated to the slice's `sliceCols` columns, appended to
/// `planes`.
void appendAutoContextFeatures(std::vector<cv::Mat>& planes, const std::vector<cv::Mat>& probabilities,
                               cv::Range rows, const FeatureSpec& spec, int sliceCols, PlanePool* pool = nullptr);

/// Each connected stroke (8-connected pixels of one code) of `annotation` gets one of `k` folds:
/// per phase, strokes in scan order are dealt 0, 1, ..., k-1, 0, ... Returns a CV_32S map: fold
/// index, -1 unpainted.
cv::Mat strokeFolds(const cv::Mat& annotation, int phases, int k);

}  // namespace fibseg::learn::detail
