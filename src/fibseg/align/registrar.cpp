// Registration of a slice series: phase correlation of each slice with the previous one and with
// a running reference (the mean of several earlier slices), then one weighted least-squares solve
// for every slice's shift.
//
// Chaining consecutive pairs adds each pair's error to every later slice, so the error
// random-walks (about 1 px after 50 slices even with 0.1 px per pair). The reference averages
// away the slice-to-slice noise and texture, and a measurement against it ties a slice to several
// earlier ones at once, so one pair's error is not passed on whole. What no image comparison can
// remove is apparent motion of the structure itself: grain cross-sections grow and shrink from
// slice to slice, and where grains overlap that shifts what the images show, consistently over
// several slices; with few grains in view this dominates the error.
#include <algorithm>
#include <cmath>
#include <deque>
#include <opencv2/imgproc.hpp>
#include <tbb/parallel_invoke.h>

#include "fibseg/align/align.hpp"
#include "fibseg/align/phase_correlation.hpp"
#include "fibseg/core/error.hpp"

namespace fibseg::align {

namespace {

constexpr double kOutlierPx = 1.0;     // a measurement this far from the solution is dropped
constexpr int kMaxOutlierRounds = 4;   // plus one per 8 slices
constexpr double kBridgeTrust = 1e-6;  // weight of a bridge, relative to a measurement
// Relative weights of a pair with the previous slice and of a comparison with the running
// reference (besides each one's peak strength).
constexpr double kPairTrust = 1.0;
constexpr double kReferenceTrust = 1.0;

// One measured relation: shift[to] - sum_j weight_j * shift[j] = value (weights sum to 1).
// A pair with the previous slice has one term; a comparison with the running reference (the
// mean of several earlier slices) has one per slice in it.
struct Measurement {
  int to;
  std::vector<std::pair<int, double>> terms;  // (slice, weight)
  cv::Point2d value;
  double peak;
  double trust;  // relative weight of this kind of measurement
  bool used = true;
  int first() const {
    int f = to;
    for (const auto& [j, w] : terms) f = std::min(f, j);
    return f;
  }
};

// Solves the symmetric positive-definite banded system A s = b in place (Cholesky); `band`[i][k]
// holds A(i, i - k) for k = 0..bandwidth.
void solveBanded(std::vector<std::vector<double>>& band, std::vector<cv::Point2d>& rhs) {
  const int n = int(band.size());
  if (n == 0) return;
  const int bw = int(band[0].size()) - 1;
  for (int i = 0; i < n; ++i) {
    for (int k = bw; k >= 0; --k) {  // L(i, i-k)
      const int j = i - k;
      if (j < 0) continue;
      double sum = band[i][k];
      for (int m = 1; m + k <= bw && j - m >= 0; ++m) sum -= band[i][k + m] * band[j][m];
      if (k == 0) {
        if (sum <= 0) throw Error("align: registration system is singular (internal error)");
        band[i][0] = std::sqrt(sum);
      } else {
        band[i][k] = sum / band[j][0];
      }
    }
  }
  for (int i = 0; i < n; ++i) {  // L y = b
    cv::Point2d sum = rhs[i];
    for (int k = 1; k <= bw && i - k >= 0; ++k) sum -= band[i][k] * rhs[i - k];
    rhs[i] = sum / band[i][0];
  }
  for (int i = n - 1; i >= 0; --i) {  // L^T x = y
    cv::Point2d sum = rhs[i];
    for (int k = 1; k <= bw && i + k < n; ++k) sum -= band[i + k][k] * rhs[i + k];
    rhs[i] = sum / band[i][0];
  }
}

// Shifts of slices 0..n-1 (slice 0 fixed at 0) best agreeing with the used measurements
// (weighted least squares; the normal equations are banded, as no measurement spans more than
// `bandwidth` slices).
std::vector<cv::Point2d> solveShifts(int n, const std::vector<Measurement>& measurements, int bandwidth) {
  std::vector<cv::Point2d> shifts(n, {0, 0});
  if (n < 2) return shifts;
  // Unknowns are slices 1..n-1 (index - 1).
  std::vector<std::vector<double>> band(n - 1, std::vector<double>(bandwidth + 1, 0.0));
  std::vector<cv::Point2d> rhs(n - 1, {0, 0});
  std::vector<std::pair<int, double>> row;
  for (const auto& m : measurements) {
    if (!m.used) continue;
    // A clear peak means a trustworthy measurement.
    const double peak = std::max(m.peak, 1e-3), w = m.trust * peak * peak;
    row.assign(1, {m.to, 1.0});
    for (const auto& [j, c] : m.terms) row.push_back({j, -c});
    for (const auto& [a, ca] : row) {
      if (a == 0) continue;
      rhs[a - 1] += w * ca * m.value;
      for (const auto& [b, cb] : row)
        if (b != 0 && b <= a) band[a - 1][a - b] += w * ca * cb;
    }
  }
  solveBanded(band, rhs);
  for (int z = 1; z < n; ++z) shifts[z] = rhs[z - 1];
  return shifts;
}

std::vector<cv::Point2d> smooth(const std::vector<cv::Point2d>& shifts, int window) {
  const int n = int(shifts.size());
  std::vector<cv::Point2d> out(shifts);
  // Symmetric window that shrinks at the ends, so slice 0 stays at (0, 0) and ends do not bend.
  for (int z = 0; z < n; ++z) {
    const int half = std::min({window / 2, z, n - 1 - z});
    cv::Point2d sum(0, 0);
    for (int k = z - half; k <= z + half; ++k) sum += shifts[k];
    out[z] = sum / double(2 * half + 1);
  }
  return out;
}

}  // namespace

struct Registrar::Prepared {
  cv::Mat slice;                               // shrunk by the scale, CV_32F
  cv::Mat transformed;                         // its plain Fourier transform (for the reference;
                                               // empty on a short region, whose reference moves slices)
  detail::PhaseCorrelator::Spectrum spectrum;  // whitened, for the comparisons
};

struct Registrar::State {
  RegistrationParams params;
  cv::Size sliceSize;  // cropped slices, px
  int scale = 1;       // slices are registered shrunk by this factor; shifts are in full-size px
  std::unique_ptr<detail::PhaseCorrelator> correlator;  // works on the shrunk slices
  std::shared_ptr<const Prepared> previous;    // slice count-1
  // The last referenceSlices slices that matched their predecessors, with their slice numbers;
  // newest last. Only what the reference needs of each (pixels on a short region, else transform).
  std::deque<std::pair<int, std::shared_ptr<const Prepared>>> recent;
  cv::Point2d lastStep{0, 0};                  // the last step measured with a clear peak
  std::vector<cv::Point2d> provisional;        // per slice, as estimated when it was added
  std::vector<Measurement> measurements;
  std::vector<double> previousPeak;            // per slice: peak with slice z-1 (slice 0: 1)
  int count = 0;

  void start(cv::Size size) {
    sliceSize = size;
    scale = registrationScale(size, params.scale);
    RegistrationParams shrunk = params;
    shrunk.fineSigmaPx /= scale;
    shrunk.coarseSigmaPx /= scale;
    shrunk.maxShiftPx = (params.maxShiftPx + scale - 1) / scale;
    correlator = std::make_unique<detail::PhaseCorrelator>(cv::Size(size.width / scale, size.height / scale), shrunk);
  }
};

int registrationScale(cv::Size size, int requested) {
  if (requested < 0)
    throw Error("parameter align.register_scale = " + std::to_string(requested) + ": expected 0 (automatic) or more");
  if (requested > 0) {
    if (std::min(size.width, size.height) / requested < 8)
      throw Error("parameter align.register_scale = " + std::to_string(requested) + ": slices of " +
                  std::to_string(size.width) + " x " + std::to_string(size.height) +
                  " px shrunk that much leave fewer than 8 px; expected a smaller factor");
    return requested;
  }
  int scale = 1;
  while (scale < 8 && std::min(size.width, size.height) / (2 * scale) >= 512) scale *= 2;
  return scale;
}

Registrar::Registrar(const RegistrationParams& params, cv::Size sliceSize) : state_(std::make_unique<State>()) {
  if (params.referenceSlices < 1)
    throw Error("parameter align.reference_slices = " + std::to_string(params.referenceSlices) +
                ": expected at least 1");
  if (params.smoothingSlices < 0)
    throw Error("parameter align.smoothing_slices = " + std::to_string(params.smoothingSlices) +
                ": expected 0 (off) or more");
  if (params.maxShiftPx < 0)
    throw Error("parameter align.max_shift = " + std::to_string(params.maxShiftPx) + ": expected 0 or more");
  state_->params = params;
  if (!sliceSize.empty()) state_->start(sliceSize);
}
Registrar::~Registrar() = default;
Registrar::Registrar(Registrar&&) noexcept = default;
Registrar& Registrar::operator=(Registrar&&) noexcept = default;

int Registrar::slices() const { return state_->count; }

std::shared_ptr<const Registrar::Prepared> Registrar::prepare(const cv::Mat& croppedSlice) const {
  const State& s = *state_;
  if (!s.correlator) throw Error("align: Registrar::prepare before the slice size is known (internal error)");
  detail::requireSliceSize(croppedSlice, s.sliceSize);
  auto prepared = std::make_shared<Prepared>();
  const cv::Size small = s.correlator->size();
  if (s.scale == 1) {
    croppedSlice.convertTo(prepared->slice, CV_32F);
  } else {
    // Whole blocks only (the last partial row and column of blocks are left out), so a pixel of
    // the shrunk slice is exactly the mean of scale x scale pixels and shifts scale exactly.
    cv::Mat whole;
    croppedSlice(cv::Rect(0, 0, small.width * s.scale, small.height * s.scale)).convertTo(whole, CV_32F);
    cv::resize(whole, prepared->slice, small, 0, 0, cv::INTER_AREA);
  }
  if (s.correlator->shortRegion()) {
    prepared->spectrum = s.correlator->prepare(prepared->slice);  // its reference moves slices
  } else {
    prepared->transformed = s.correlator->transform(prepared->slice);  // for the Fourier reference
    prepared->spectrum = s.correlator->whiten(prepared->transformed.clone());
  }
  return prepared;
}

ShiftEstimate Registrar::add(const cv::Mat& croppedSlice) {
  if (!state_->correlator) state_->start(croppedSlice.size());
  return add(*prepare(croppedSlice));
}

ShiftEstimate Registrar::add(const Prepared& prepared) {
  State& s = *state_;
  const cv::Mat& slice = prepared.slice;
  const auto current = std::make_shared<const Prepared>(prepared);  // shares the pixels
  // What the running reference needs of this slice later (keeping the spectrum too would hold
  // 15 MB a slice at 1024 x 768).
  const auto forReference = std::make_shared<const Prepared>(
      Prepared{s.correlator->shortRegion() ? prepared.slice : cv::Mat(), prepared.transformed, {}});
  const double scale = s.scale;
  const int z = s.count;
  ShiftEstimate estimate;
  estimate.peak = 1;
  cv::Point2d shift(0, 0);
  if (z > 0) {
    const cv::Point2d before = s.provisional.back();
    // The running reference: the last few slices, each moved to where slice z is expected (slice
    // z-1 plus the last step) by the shifts estimated so far, averaged. Averaging cancels their
    // slice-to-slice noise and texture, and an error in one slice's shift moves the reference by
    // only a fraction of it. Placing it at the expected position leaves only the unsteady part of
    // the drift to measure: a comparison of two tapered images is pulled towards zero shift by ~1%
    // of the shift, which a steady drift would add up along the stack. Slices that matched nothing
    // (a beam blank, say) are left out. The slices are moved and summed in the Fourier domain (a
    // phase ramp each), which is exact and saves a transform of the sum.
    const cv::Point2d expected = before + s.lastStep;
    const int slices = int(s.recent.size());
    const bool useReference = slices >= 2 || (slices == 1 && s.recent.back().first != z - 1);
    std::vector<std::pair<int, double>> terms;
    cv::Point2d meanShift(0, 0);
    PairShift pair, match;
    // The two comparisons are independent: run them side by side.
    tbb::parallel_invoke(
        [&] {
          pair = s.correlator->match(s.previous->slice, s.previous->spectrum, slice, prepared.spectrum,
                                     s.correlator->maxShiftFor(1));
        },
        [&] {
          if (!useReference) return;
          if (s.correlator->shortRegion()) {
            // A region a few dozen pixels across (a fiducial band): the tapers are a large part
            // of it, and moving tapered slices would leave the reference's taper elsewhere than
            // the slice's. Move the slices themselves (bilinear: the reference is an average seen
            // through the band-pass) and taper the mean.
            cv::Mat reference = cv::Mat::zeros(slice.size(), CV_32F), moved;
            for (const auto& [j, kept] : s.recent) {
              const cv::Point2d offset = (s.provisional[j] - expected) / scale;
              cv::warpAffine(kept->slice, moved, cv::Matx23d(1, 0, offset.x, 0, 1, offset.y), slice.size(),
                             cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_REFLECT);
              reference += moved;
            }
            reference /= slices;
            match = s.correlator->match(reference, s.correlator->prepare(reference), slice, prepared.spectrum,
                                        s.correlator->maxShiftFor(1));
          } else {
            cv::Mat sum;
            for (const auto& [j, kept] : s.recent)
              s.correlator->addMoved(sum, kept->transformed, (s.provisional[j] - expected) / scale);
            match = s.correlator->correlate(s.correlator->whiten(std::move(sum)), prepared.spectrum,
                                            s.correlator->maxShiftFor(1));
          }
          for (const auto& [j, kept] : s.recent) {
            terms.push_back({j, 1.0 / slices});
            meanShift += s.provisional[j] / double(slices);
          }
        });
    pair.shift *= scale;
    match.shift *= scale;

    s.measurements.push_back({z, {{z - 1, 1.0}}, pair.shift, pair.peak, kPairTrust});
    estimate.step = pair.shift;
    estimate.peak = pair.peak;
    estimate.flagged = pair.peak < s.params.minPeak;
    shift = before + pair.shift;
    bool matched = pair.peak >= s.params.minPeak;
    if (useReference) {
      // The reference shows content at mean_j(shift_j - provisional_j) + expected, so
      // shift_z - mean_j shift_j = match + expected - mean_j provisional_j.
      s.measurements.push_back({z, terms, match.shift + expected - meanShift, match.peak, kReferenceTrust});
      if (match.peak >= s.params.minPeak) {
        // Provisional: the reference measurement and the pair, by their peak strengths.
        const cv::Point2d fromReference = expected + match.shift;
        const double wPair = matched ? kPairTrust * pair.peak * pair.peak : 0.0;
        const double wRef = kReferenceTrust * match.peak * match.peak;
        shift = (wPair * (before + pair.shift) + wRef * fromReference) / (wPair + wRef);
        matched = true;
      }
    }
    if (!matched) shift = before + s.lastStep;  // bridged until finalise()
    else s.lastStep = shift - before;
    if (matched) s.recent.push_back({z, forReference});
  } else {
    s.recent.push_back({z, forReference});
  }
  estimate.provisionalShift = shift;
  s.provisional.push_back(shift);
  s.previousPeak.push_back(estimate.peak);
  s.previous = current;
  if (int(s.recent.size()) > s.params.referenceSlices) s.recent.pop_front();
  ++s.count;
  return estimate;
}

std::vector<SliceTransform> Registrar::finalise() const {
  const State& s = *state_;
  const int n = s.count;
  std::vector<SliceTransform> out(n);
  if (n == 0) return out;
  std::vector<Measurement> measurements = s.measurements;
  std::vector<bool> flagged(n, false);
  for (int z = 1; z < n; ++z) flagged[z] = s.previousPeak[z] < s.params.minPeak;

  // Weak references further back are never trusted (the previous slice is the better one anyway);
  // a weak pair with the previous slice is trusted only if the user asked not to bridge.
  for (auto& m : measurements)
    if (m.peak < s.params.minPeak && (m.terms.size() > 1 || s.params.bridgeFlagged)) m.used = false;

  // Bridges: every step also gets a prior, the mean of the nearest trusted steps before and after
  // it (drift is locally steady), with a weight so small that it only decides where nothing was
  // measured: a flagged pair whose slice also failed against the reference. It also keeps the
  // system solvable whatever was dropped.
  auto withBridges = [&](const std::vector<Measurement>& list) {
    std::vector<Measurement> all = list;
    std::vector<cv::Point2d> step(n);
    std::vector<bool> known(n, false);
    for (const auto& m : list)
      if (m.used && m.terms.size() == 1 && m.trust > kBridgeTrust) step[m.to] = m.value, known[m.to] = true;
    for (int z = 1; z < n; ++z) {
      cv::Point2d sum(0, 0);
      int found = 0;
      for (int k = z - 1; k >= 1; --k)
        if (known[k]) { sum += step[k], ++found; break; }
      for (int k = z + 1; k < n; ++k)
        if (known[k]) { sum += step[k], ++found; break; }
      all.push_back({z, {{z - 1, 1.0}}, found ? sum / double(found) : cv::Point2d(0, 0), 1.0, kBridgeTrust});
    }
    return all;
  };

  // Slices left out of the reference (matched nothing) can make one reach further back.
  int bandwidth = 1;
  for (const auto& m : measurements) bandwidth = std::max(bandwidth, m.to - m.first());
  std::vector<cv::Point2d> shifts;
  // Measurements that disagree with the solution by more than kOutlierPx (a false peak) are
  // dropped one at a time, worst first, and the rest solved again.
  for (int round = 0;; ++round) {
    shifts = solveShifts(n, withBridges(measurements), bandwidth);
    if (round == kMaxOutlierRounds + n / 8) break;
    double worst = kOutlierPx;
    int worstIndex = -1;
    for (int i = 0; i < int(measurements.size()); ++i) {
      const auto& m = measurements[i];
      if (!m.used) continue;
      cv::Point2d predicted = shifts[m.to];
      for (const auto& [j, c] : m.terms) predicted -= c * shifts[j];
      const double r = cv::norm(predicted - m.value);
      if (r > worst) worst = r, worstIndex = i;
    }
    if (worstIndex < 0) break;
    measurements[worstIndex].used = false;
    if (measurements[worstIndex].terms.size() == 1) flagged[measurements[worstIndex].to] = true;
  }
  if (s.params.smoothingSlices > 1) shifts = smooth(shifts, s.params.smoothingSlices);

  for (int z = 0; z < n; ++z) out[z] = {shifts[z], s.previousPeak[z], flagged[z]};
  return out;
}

std::vector<SliceTransform> registerSlices(const std::vector<cv::Mat>& croppedSlices,
                                           const RegistrationParams& params) {
  Registrar registrar(params);
  for (const auto& slice : croppedSlices) registrar.add(slice);
  return registrar.finalise();
}

std::vector<cv::Point2d> shiftsOf(const std::vector<SliceTransform>& transforms) {
  std::vector<cv::Point2d> shifts;
  shifts.reserve(transforms.size());
  for (const auto& t : transforms) shifts.push_back(t.shift);
  return shifts;
}

PairShift measurePairShift(const cv::Mat& fixed, const cv::Mat& moving, const RegistrationParams& params) {
  RegistrationParams pairOnly = params;
  pairOnly.referenceSlices = 1;
  Registrar registrar(pairOnly, fixed.size());
  registrar.add(*registrar.prepare(fixed));
  const ShiftEstimate estimate = registrar.add(*registrar.prepare(moving));
  return {estimate.step, estimate.peak};
}

}  // namespace fibseg::align
