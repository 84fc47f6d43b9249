#pragma once
// Grey-level corrections of a slice before segmentation, every step optional, always in this order:
//   1. brightness equalisation between slices (match the slice to a reference slice's grey levels),
//   2. shading correction (remove a smooth background, keep the mean grey level),
//   3. curtaining removal (suppress vertical milling stripes without blurring particle edges),
//   4. light enhancement: CLAHE, then gamma.
// Equalisation comes first so its statistics can be measured on the slices as read (one light
// first pass over the stack); shading and curtains are the same in every slice, so they do not
// bias it. Enhancement is non-linear and comes last. Slices are CV_8U or CV_16U; every function
// returns the type it was given.
#include <opencv2/core.hpp>

#include <vector>

namespace fibseg::intensity {

// ---- parameters (filled by config::intensityParamsFrom; defaults live in the registry) ----

enum class BrightnessMethod {
  None,
  Percentiles,  // linear grey map fitted (least squares) to the slice-vs-reference percentiles
                // at every percent from lowPercentile to highPercentile
  Histogram,    // full histogram matching (quantile mapping) onto the reference
};
enum class BrightnessReference {
  FirstSlice,   // the reference is slice 0's statistics
  StackMedian,  // the median, level by level, of every slice's quantile function
};
struct BrightnessParams {
  BrightnessMethod method;
  BrightnessReference reference;
  double lowPercentile;   // %, e.g. 5  (Percentiles method)
  double highPercentile;  // %, e.g. 95
};

enum class ShadingMethod { None, Gaussian, Polynomial };
enum class ShadingMode { Divide, Subtract };
struct ShadingParams {
  ShadingMethod method;
  ShadingMode mode;
  double sigma;         // px, Gaussian background width (Gaussian method); 0 = a quarter of
                        // the slice's shorter side
  int polynomialOrder;  // 1..4 (Polynomial method)
};

struct CurtainingParams {
  bool enabled;
  double stripeWidth;  // px: widest stripe removed (horizontal high-pass scale)
  double bandHeight;   // px: stripes are estimated per horizontal band this tall, i.e. their
                       // strength may change along y on this scale (the notch width on the
                       // vertical-frequency axis is about 1 / bandHeight)
};

struct EnhanceParams {
  bool clahe;
  double claheClipLimit;  // OpenCV clip limit (contrast amplification cap), e.g. 2
  int claheTileSize;      // px, side of a CLAHE tile
  double gamma;           // 1 = off; < 1 brightens dark phases, > 1 darkens; on the type's
                          // full scale: out = max * (in / max)^gamma, max = 255 or 65535
};

struct IntensityParams {
  BrightnessParams brightness;
  ShadingParams shading;
  CurtainingParams curtaining;
  EnhanceParams enhance;
};

// ---- brightness statistics (streaming: measure each slice once, build a reference) ----

/// A slice's grey-level distribution as its quantile function sampled at kQuantileLevels
/// evenly spaced fractions 0, 0.001, ..., 1 (grey values, interpolated within histogram bins so
/// 8-bit slices get sub-grey-level precision). Small (8 kB) whatever the bit depth, so a whole
/// stack's statistics fit in memory; enough for percentiles and for histogram matching.
struct BrightnessStats {
  static constexpr int kQuantileLevels = 1001;
  std::vector<double> quantiles;  // kQuantileLevels values, non-decreasing
  int bitDepth = 8;               // 8 or 16

  /// Grey value below which `percent` % of the pixels lie (0..100), interpolated.
  double percentile(double percent) const;
  double median() const { return percentile(50); }
  double p05() const { return percentile(5); }
  double p95() const { return percentile(95); }
};

/// Statistics of one slice (CV_8U or CV_16U, single channel; crop the data bar off first).
BrightnessStats measureBrightness(const cv::Mat& slice);

/// The reference all slices are matched to: `stats[0]` (FirstSlice) or the level-wise median of
/// all slices' quantile functions (StackMedian). Throws if `stats` is empty or mixes bit depths.
BrightnessStats brightnessReference(const std::vector<BrightnessStats>& stats, BrightnessReference how);

/// True when `params` need a reference (brightness method not None): the pipeline then measures
/// every slice (or only slice 0 for FirstSlice) in a first pass.
bool needsBrightnessReference(const IntensityParams& params);

// ---- the steps (pure functions) ----

/// Step 1: maps the slice's grey levels so its statistics match `reference`. `sliceStats` is
/// measureBrightness(slice). Method None returns a copy.
cv::Mat equaliseBrightness(const cv::Mat& slice, const BrightnessStats& sliceStats,
                           const BrightnessStats& reference, const BrightnessParams& params);

/// Step 2: divides by (or subtracts) a smooth background and rescales so the mean grey level is
/// unchanged. Method None returns a copy.
cv::Mat correctShading(const cv::Mat& slice, const ShadingParams& params);

/// The smooth background correctShading removes (CV_32F, same size), for inspection and tests.
cv::Mat estimateShading(const cv::Mat& slice, const ShadingParams& params);

/// Step 3: subtracts the vertical stripe pattern (per column, per horizontal band, estimated
/// robustly so particle edges are kept). Disabled returns a copy.
cv::Mat removeCurtaining(const cv::Mat& slice, const CurtainingParams& params);

/// Step 4: CLAHE (if enabled) then gamma (if not 1).
cv::Mat enhanceContrast(const cv::Mat& slice, const EnhanceParams& params);

// ---- the whole chain, with the numbers brightness.csv records ----

/// One row of brightness.csv: the slice's median, 5th and 95th percentile before and after all
/// corrections.
struct SliceBrightness {
  double medianBefore, p05Before, p95Before;
  double medianAfter, p05After, p95After;
};

struct CorrectedSlice {
  cv::Mat image;  // same size and type as the input
  SliceBrightness brightness;
};

/// Runs steps 1-4 in order. `reference` is used only when the brightness method is not None
/// (pass a default-constructed BrightnessStats otherwise). Measures the slice's statistics itself.
CorrectedSlice correctIntensity(const cv::Mat& slice, const BrightnessStats& reference,
                                const IntensityParams& params);

/// The column-mean stripe amplitude (grey levels, RMS): the column means' deviation from their
/// own horizontal smoothing over `stripeWidth`-scale windows. What curtaining looks like in a
/// single number; used by the tests and the report.
double stripeAmplitude(const cv::Mat& slice, double stripeWidth);

}  // namespace fibseg::intensity

namespace fibseg::config {
class ParamSet;
/// Defined in config/params_intensity.cpp.
intensity::IntensityParams intensityParamsFrom(const ParamSet& params);
}  // namespace fibseg::config
