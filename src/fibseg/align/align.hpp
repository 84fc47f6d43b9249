#pragma once
// Crop and align: cut the microscope's data bar and an optional region of interest, measure how
// far each slice's content has drifted (phase correlation on a band-passed copy, sub-pixel, blind
// to brightness changes and to curtaining stripes fixed in the frame), and move every slice back
// onto slice 0's frame, cropped to the area all slices share or padded to the full frame.
//
// Streaming use (the pipeline):
//   first slice:  rows = dataBarRows(first, p); rect = cropRect(first.size(), rows, p.roi)
//   pass 1:       Registrar reg(p.registration); for each slice: reg.add(cropSlice(slice, rect, name))
//                 transforms = reg.finalise()
//                 (in chains, as the pipeline runs it: one Registrar per chainsOf(...) chain, each
//                 fed from chain.start(); solveRegistration(params, n, {each reg.measurements(...)}))
//   output area:  out = outputRect(shiftsOf(transforms), rect.size(), p.crop)
//   pass 2:       for each slice: applyShift(cropSlice(slice, rect, name), transforms[z].shift, out)
// Shifts are content displacements relative to slice 0, px (slice 0 = (0, 0)); aligning a slice
// moves it by minus its shift (DEVELOPING.md).
#include <opencv2/core.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fibseg::align {

// ---- parameters (filled by config::alignParamsFrom; defaults live in the registry) ----

enum class DataBarMode {
  Auto,  // find the bar on the first slice (detectDataBarRows)
  Rows,  // the user gives the number of rows
  None,  // no bar
};
enum class CropMode {
  Common,  // keep only the area present in every aligned slice
  Pad,     // keep every pixel of every slice: the frame grows, uncovered pixels are 0
};

struct RegistrationParams {
  int maxShiftPx;           // largest content displacement between consecutive slices, px;
                            // 0 = up to a quarter of the frame's smaller side
  double fineSigmaPx;       // band-pass: detail finer than about this (noise, texture) counts less
  double coarseSigmaPx;     // band-pass: variation coarser than this (shading, brightness) is ignored
  bool suppressCurtaining;  // ignore the frequencies of vertical stripes (fixed in the frame)
  double minQuality;        // a comparison whose peak significance (PairShift::quality) is below
                            // this is not trusted
  bool bridgeFlagged;       // untrusted comparisons are left out: a slice's shift comes from the
                            // others (earlier slices, the running reference) or the neighbouring steps
  int referenceSlices;      // earlier slices each slice is compared with, one by one and as their
                            // mean (the running reference); 1 = previous slice only
  int smoothingSlices;      // 0 = off; else the width (slices) of a moving-average on the drift
  int scale = 1;            // register on a copy shrunk by this factor (mean of scale x scale
                            // pixels); 0 = automatic (registrationScale)
};

/// The shrink factor registration uses for slices of `size`: `requested`, or for 0 the largest
/// of 1, 2, 4, 8 that keeps the smaller side at 512 px or more. Large frames hold far more
/// structure than registration needs, and the Fourier transforms cost 4x less per halving.
int registrationScale(cv::Size size, int requested);

struct AlignParams {
  DataBarMode dataBarMode;
  int dataBarRows;   // with DataBarMode::Rows
  cv::Rect roi;      // in raw slice pixels; width / height 0 = up to the right edge / the data bar
  cv::Rect registrationRegion;  // where drift is measured, raw slice pixels; all 0 = the ROI
  RegistrationParams registration;
  CropMode crop;
  bool writeAlignedStack;  // for the pipeline: write aligned.tif
  int chainSlices = 0;     // for the pipeline: registration chains of this many slices; 0 = one
};

// ---- data bar and crop ----

/// Rows of the microscope's data bar at the bottom of `slice`: the band of bottom rows that sit
/// at one grey level except for sparse text and scale bar. 0 when the bottom rows are image.
/// Throws if the uniform band covers more than a third of the height (set the rows by hand).
int detectDataBarRows(const cv::Mat& slice);

/// The data-bar rows per `params`: for Auto the metadata's figure when the file gives one (FEI
/// DatabarHeight; it must leave image rows), else detected; given (Rows; must leave image rows); or 0.
int dataBarRows(const cv::Mat& firstSlice, const AlignParams& params, std::optional<int> fromMetadata = std::nullopt);

/// The part of each raw slice that is kept: `roi` within the rows above the data bar (width or
/// height 0 = to that edge). Throws, naming the rectangle, `parameter` and the slice size, if the
/// ROI lies even partly outside that area or is empty.
cv::Rect cropRect(cv::Size sliceSize, int dataBarRows, const cv::Rect& roi, const std::string& parameter = "align.roi");

/// The part of each raw slice registration compares: `region` (as cropRect; it may lie outside
/// the ROI, e.g. a fiducial or the protective cap above it), or `cropRect` when `region` is all 0.
/// A translation is the same everywhere, so shifts measured there apply to the ROI.
cv::Rect registrationRect(cv::Size sliceSize, int dataBarRows, const cv::Rect& cropRect, const cv::Rect& region);

/// slice(rect) (shares the pixels). Throws naming `sliceName` if the slice does not contain
/// `rect` (a slice smaller than the first one, or than the ROI).
cv::Mat cropSlice(const cv::Mat& slice, const cv::Rect& rect, const std::string& sliceName);

// ---- registration ----

/// What add() learns about one slice right away.
struct ShiftEstimate {
  cv::Point2d step;              // content displacement relative to the previous slice, px
  cv::Point2d provisionalShift;  // relative to slice 0 by summing steps; finalise() is better
  double peak = 0;               // correlation peak with the previous slice, 0..1 (1 = identical)
  double quality = 0;            // its significance (PairShift::quality)
  bool flagged = false;          // quality below minQuality
};

/// One row of transforms.csv.
struct SliceTransform {
  cv::Point2d shift;     // content displacement relative to slice 0, px (slice 0: (0, 0))
  double peak = 1;       // correlation peak with the previous slice, 0..1 (slice 0: 1)
  bool flagged = false;  // bridged: no trusted comparison ties this slice to the ones before it,
                         // so its step from slice z-1 is the neighbouring slices' steps (a guess)
  double quality = 0;    // significance of the comparison with the previous slice (slice 0: 0)
};

/// One comparison a registration made, in the stack's slice numbers:
/// shift[to] - sum_j weight_j * shift[j] = value (weights sum to 1). A pair has one term; a
/// comparison with the running reference (the mean of several earlier slices) one per slice in it.
struct Comparison {
  int to = 0;
  std::vector<std::pair<int, double>> terms;  // (slice, weight)
  cv::Point2d value;
  double peak = 0;
  double quality = 0;  // PairShift::quality
  double trust = 1;    // relative weight of this kind of comparison
  bool used = true;    // false: replaced by a better one when it was made (left out of the solve)
};

/// What one chain of slices (a Registrar) measured, for the solve: its comparisons that end at
/// slice `first` or later, and per slice from `first` the peak and quality with the previous one.
/// A chain that starts with slices of the chain before it (to fill its running reference) leaves
/// their comparisons to that chain and ties to it through the comparisons that reach back.
struct ChainMeasurements {
  int first = 0;
  std::vector<Comparison> comparisons;
  std::vector<double> peaks, qualities;
};

/// One registration chain of a stack cut into chains: it decides slices [first, end) and starts
/// `warmUp` slices earlier (the last referenceSlices slices of the chain before: they fill its
/// running reference, and its comparisons reaching back to them tie the chains together).
struct Chain {
  int first = 0, end = 0, warmUp = 0;
  int start() const { return first - warmUp; }
  int size() const { return end - first; }
};

/// `slices` cut into ceil(slices / chainSlices) chains (0 = one chain), each started
/// min(referenceSlices, first) slices early, and cut so that each reads about as many slices, its
/// warm-up included (60 slices in chains of 32, 8 reference slices: 0-33 and 26-59 deciding
/// 34-59). Fixed by these numbers alone, so however the chains are run (in turn, on threads, on
/// other machines) the shifts are the same.
std::vector<Chain> chainsOf(int slices, int chainSlices, int referenceSlices);

/// Every slice's transform from the chains' measurements solved together (weighted least squares,
/// false peaks dropped, bridges, the comparison offset: as Registrar::finalise, which is this on
/// its one chain). The chains must cover slices 0 .. slices-1, in order.
std::vector<SliceTransform> solveRegistration(const RegistrationParams& params, int slices,
                                              const std::vector<ChainMeasurements>& chains,
                                              cv::Point2d* comparisonOffset = nullptr);

/// How many slices of `transforms` are bridged (flagged).
int bridgedCount(const std::vector<SliceTransform>& transforms);

struct PairShift;

/// Fed cropped slices in order. Each slice is phase-correlated with each of the last
/// `referenceSlices` slices on its own, and with a running reference: the mean of the earlier
/// slices it matched, moved to where those pairs put it (less noise than one slice, and one
/// slice's error moves it by only a fraction). When the reference matches, it replaces the longer
/// pairs; when it does not (structure changing fast, a sparse series), they count. A comparison is
/// trusted when its peak's significance (PairShift::quality) reaches minQuality. finalise() solves
/// all trusted measurements together (weighted least squares, false peaks dropped; a slice nothing
/// measured is bridged from its neighbours' steps and flagged; an offset every comparison carries,
/// whatever slices it spans, is solved for too and removed where it is significant), so errors
/// do not simply add up along the stack as they do when chaining pairs. Keeps the last
/// `referenceSlices` slices (pixels, transform and whitened spectrum) in memory.
class Registrar {
 public:
  /// `sliceSize`: the cropped slices' size, needed before prepare(); empty = taken from the
  /// first slice given to add().
  explicit Registrar(const RegistrationParams& params, cv::Size sliceSize = {});
  ~Registrar();
  Registrar(Registrar&&) noexcept;
  Registrar& operator=(Registrar&&) noexcept;

  /// Slices must all have the first one's size and be single-channel 8- or 16-bit (or float).
  ShiftEstimate add(const cv::Mat& croppedSlice);

  /// The part of add() that needs no other slice (shrink, band-pass, Fourier transform). Safe to
  /// call from several threads at once, so a pipeline can prepare slices in parallel and feed
  /// them to add() in order. Needs the slice size given to the constructor.
  struct Prepared;
  std::shared_ptr<const Prepared> prepare(const cv::Mat& croppedSlice) const;
  /// The comparison of a slice with the one before it, which add() makes first and which needs
  /// no earlier result: a pipeline can make it in parallel too and hand it to add(). Thread-safe.
  PairShift pairWithPrevious(const Prepared& previous, const Prepared& current) const;
  /// `withPrevious`: pairWithPrevious(slice added last, `prepared`), made beforehand (the same
  /// result as when add() makes it).
  ShiftEstimate add(const Prepared& prepared, const PairShift* withPrevious = nullptr);
  int slices() const;
  /// One transform per slice added (a single slice: {(0,0), 1, false}; none: empty).
  /// `comparisonOffset`, when given, receives the offset every comparison was found to carry
  /// (px; (0, 0) on an axis where the data show none; see registrar.cpp, solveShifts).
  std::vector<SliceTransform> finalise(cv::Point2d* comparisonOffset = nullptr) const;
  /// The measurements of this chain for solveRegistration: the slice added first is the stack's
  /// slice `stackSlice`; the chain decides slices from `stackSlice + warmUp` on (the first
  /// `warmUp` slices only filled its running reference).
  ChainMeasurements measurements(int stackSlice, int warmUp) const;

 private:
  ShiftEstimate finishAdd(ShiftEstimate estimate, cv::Point2d shift, std::shared_ptr<const Prepared> slice, bool matched);
  struct State;
  std::unique_ptr<State> state_;
};

/// The whole registration on slices held in memory (tests, small stacks).
std::vector<SliceTransform> registerSlices(const std::vector<cv::Mat>& croppedSlices,
                                           const RegistrationParams& params);
/// The same in chains of `chainSlices` (chainsOf), as the pipeline registers.
std::vector<SliceTransform> registerSlices(const std::vector<cv::Mat>& croppedSlices, const RegistrationParams& params,
                                           int chainSlices, cv::Point2d* comparisonOffset = nullptr);

/// The shift column of `transforms`.
std::vector<cv::Point2d> shiftsOf(const std::vector<SliceTransform>& transforms);

/// Content displacement of `moving` relative to `fixed` (same size), px, the peak (0..1) and how
/// far the peak stands above the rest of the correlation surface: quality = (peak - mean) / spread
/// of the surface outside the peak, divided by sqrt(2 ln N) for the N positions searched, which is
/// about the highest such ratio chance alone gives (two slices of pure noise: 0.7-1.0). Unlike the
/// peak's height it does not depend on how much noise and texture the slices hold: on noisy real
/// slices a right match has a peak of 0.06 and a quality of 4-8.
struct PairShift {
  cv::Point2d shift;
  double peak = 0;
  double quality = 0;
};
PairShift measurePairShift(const cv::Mat& fixed, const cv::Mat& moving, const RegistrationParams& params);

// ---- applying shifts ----

/// Area present in every aligned slice, in slice 0's frame (cropped-slice coordinates).
/// Throws if the drift is so large that no pixel is shared.
cv::Rect commonArea(const std::vector<cv::Point2d>& shifts, cv::Size sliceSize);
/// Area covered by any aligned slice (may start at negative coordinates).
cv::Rect paddedArea(const std::vector<cv::Point2d>& shifts, cv::Size sliceSize);
/// commonArea or paddedArea per `mode`.
cv::Rect outputRect(const std::vector<cv::Point2d>& shifts, cv::Size sliceSize, CropMode mode);

/// The slice moved by minus `shift` (bicubic, sub-pixel) and cut to `outputRect` (slice 0's
/// frame): out(y, x) = slice(y + outputRect.y + shift.y, x + outputRect.x + shift.x).
/// Pixels that fall outside the slice are 0. Same type as `slice`. (OpenCV's interpolation
/// table places sub-pixel positions to 1/32 px.)
cv::Mat applyShift(const cv::Mat& slice, cv::Point2d shift, const cv::Rect& outputRect);

}  // namespace fibseg::align

namespace fibseg::config {
class ParamSet;
/// Defined in config/params_align.cpp.
align::AlignParams alignParamsFrom(const ParamSet& params);
}  // namespace fibseg::config
