// Registration of a slice series: phase correlation of each slice with several earlier ones, one
// by one and as a running reference (their mean), then one weighted least-squares solve for every
// slice's shift.
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
#include <tbb/parallel_for.h>

#include "fibseg/align/align.hpp"
#include "fibseg/align/phase_correlation.hpp"
#include "fibseg/core/error.hpp"

namespace fibseg::align {

namespace {

constexpr double kOutlierPx = 1.0;     // a measurement this far from the solution is dropped
constexpr double kOutlierSpread = 3.0; // ... or this many times the median disagreement
constexpr int kMaxOutlierRounds = 4;   // plus one per 8 slices
constexpr double kBridgeTrust = 1e-6;  // weight of a bridge, relative to a measurement
// Relative weights of a pair with the previous slice and of a comparison with the running
// reference (besides each one's peak strength).
constexpr double kPairTrust = 1.0;
constexpr double kReferenceTrust = 1.0;

// One measured relation (align.hpp, Comparison).
using Measurement = Comparison;
int firstSlice(const Measurement& m) {
  int f = m.to;
  for (const auto& [j, w] : m.terms) f = std::min(f, j);
  return f;
}

// Factors the symmetric positive-definite banded matrix A = L L^T in place (Cholesky); `band`[i][k]
// holds A(i, i - k) for k = 0..bandwidth, and L(i, i - k) afterwards.
void factorBanded(std::vector<std::vector<double>>& band) {
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
}

// Solves A x = rhs in place with the factor from factorBanded.
template <class T>
void solveFactored(const std::vector<std::vector<double>>& band, std::vector<T>& rhs) {
  const int n = int(band.size());
  if (n == 0) return;
  const int bw = int(band[0].size()) - 1;
  for (int i = 0; i < n; ++i) {  // L y = b
    T sum = rhs[i];
    for (int k = 1; k <= bw && i - k >= 0; ++k) sum -= band[i][k] * rhs[i - k];
    rhs[i] = sum / band[i][0];
  }
  for (int i = n - 1; i >= 0; --i) {  // L^T x = y
    T sum = rhs[i];
    for (int k = 1; k <= bw && i + k < n; ++k) sum -= band[i + k][k] * rhs[i + k];
    rhs[i] = sum / band[i][0];
  }
}

// Two-sided critical value of Student's t with `dof` degrees of freedom at the level of 3 sigma
// of a normal distribution (99.73 %), by the Cornish-Fisher expansion (Abramowitz & Stegun
// 26.7.5; scipy's t.ppf: 3.303 at 27 degrees of freedom, 3.85 at 11, 3.18 at 45, all as this;
// at 1 and 2 it gives 58 and 15 where the exact values are 236 and 19): a spread estimated from
// few residuals is itself uncertain, so few residuals need a larger ratio.
double threeSigmaT(int dof) {
  const double z = 3.0, v = dof, z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z;
  return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v) +
         (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v * v * v);
}

struct Solution {
  std::vector<cv::Point2d> shifts;  // per slice, slice 0 at (0, 0)
  cv::Point2d offset{0, 0};         // the comparison offset, px (see solveShifts)
};

// Shifts of slices 0..n-1 (slice 0 fixed at 0) best agreeing with the used measurements
// (weighted least squares; the normal equations are banded, as no measurement spans more than
// `bandwidth` slices).
//
// Every comparison may also carry one common offset: measured = true relation + offset, the same
// for a pair with the previous slice, a longer pair and a comparison with the running reference.
// That is what lco-fibsem shows (every 10th slice kept, so any two slices compared hold different
// cross-sections): a chain of lag-1 pairs and the direct pair across the same slices disagree by
// (lag - 1) x the same ~0.7 px (BSE) / ~0.2 px (SE) in y, whatever the sign of the step, so each
// comparison is off by about that much once, and a chain of pairs adds it once per slice (the
// solve finds -0.48 px for BSE: 14 px over 29 pairs). Comparisons spanning different numbers of
// slices (the pair with the previous slice, the reference 1-8 slices back) tell the offset apart
// from the drift, so it is solved for as
// one more unknown per axis, and kept only where the data show it: where it stands out of its own
// uncertainty (from the spread of the residuals) by the 3-sigma t value. On the phantom (dense
// slices, the pair chain and the long pairs agree on average) it stays within 1.7 of its
// uncertainty and is not used; so too on shale (2.6) and on helios (3 slices: no residual left).
Solution solveShifts(int n, const std::vector<Measurement>& measurements, int bandwidth) {
  Solution out;
  out.shifts.assign(n, {0, 0});
  if (n < 2) return out;
  // Unknowns are slices 1..n-1 (index - 1), then the offset: the normal matrix is banded plus one
  // dense row and column (`offsetColumn`, `offsetDiagonal`), solved through its Schur complement.
  std::vector<std::vector<double>> band(n - 1, std::vector<double>(bandwidth + 1, 0.0));
  std::vector<cv::Point2d> rhs(n - 1, {0, 0});
  std::vector<double> offsetColumn(n - 1, 0.0);
  double offsetDiagonal = 0;
  cv::Point2d offsetRhs(0, 0);
  std::vector<std::pair<int, double>> row;
  auto weightOf = [](const Measurement& m) {
    // A peak that stands out clearly means a trustworthy measurement.
    return m.trust * std::max(m.quality, 1e-3) * std::max(m.quality, 1e-3);
  };
  for (const auto& m : measurements) {
    if (!m.used) continue;
    const double w = weightOf(m);
    row.assign(1, {m.to, 1.0});
    for (const auto& [j, c] : m.terms) row.push_back({j, -c});
    for (const auto& [a, ca] : row) {
      if (a == 0) continue;
      rhs[a - 1] += w * ca * m.value;
      offsetColumn[a - 1] += w * ca;
      for (const auto& [b, cb] : row)
        if (b != 0 && b <= a) band[a - 1][a - b] += w * ca * cb;
    }
    offsetDiagonal += w;
    offsetRhs += w * m.value;
  }
  factorBanded(band);
  std::vector<cv::Point2d> withoutOffset = rhs;
  solveFactored(band, withoutOffset);
  std::vector<double> response = offsetColumn;  // how the shifts move per px of offset
  solveFactored(band, response);
  double schur = offsetDiagonal;
  cv::Point2d offsetRhsLeft = offsetRhs;
  for (int i = 0; i < n - 1; ++i) schur -= offsetColumn[i] * response[i], offsetRhsLeft -= offsetColumn[i] * withoutOffset[i];
  for (int z = 1; z < n; ++z) out.shifts[z] = withoutOffset[z - 1];
  // Pairs with the previous slice alone (reference_slices = 1) cannot tell an offset from the
  // drift: the complement vanishes (to rounding) and there is nothing to solve for.
  if (!(schur > 1e-9 * offsetDiagonal)) return out;
  const cv::Point2d offset = offsetRhsLeft / schur;
  std::vector<cv::Point2d> withOffset(n, {0, 0});
  for (int z = 1; z < n; ++z) withOffset[z] = withoutOffset[z - 1] - response[z - 1] * offset;

  // Its uncertainty per axis: the weighted residual spread of the measurements (not the bridges,
  // which only fill gaps) over the degrees of freedom left, divided by the complement.
  cv::Point2d squares(0, 0);
  int count = 0;
  for (const auto& m : measurements) {
    if (!m.used || m.trust <= kBridgeTrust) continue;
    cv::Point2d r = withOffset[m.to] + offset - m.value;
    for (const auto& [j, c] : m.terms) r -= c * withOffset[j];
    squares += weightOf(m) * cv::Point2d(r.x * r.x, r.y * r.y);
    ++count;
  }
  const int dof = count - n;  // n - 1 shifts and the offset
  if (dof < 1) return out;
  const double critical = threeSigmaT(dof);
  const bool useX = std::abs(offset.x) > critical * std::sqrt(squares.x / dof / schur);
  const bool useY = std::abs(offset.y) > critical * std::sqrt(squares.y / dof / schur);
  for (int z = 1; z < n; ++z) {
    if (useX) out.shifts[z].x = withOffset[z].x;
    if (useY) out.shifts[z].y = withOffset[z].y;
  }
  out.offset = {useX ? offset.x : 0.0, useY ? offset.y : 0.0};
  return out;
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
  std::unique_ptr<detail::PhaseCorrelator> coarse;      // half their size, for the last retry
  // The last referenceSlices slices with their slice numbers, newest last.
  std::deque<std::pair<int, std::shared_ptr<const Prepared>>> recent;
  cv::Point2d lastStep{0, 0};                  // the last step measured with a clear peak
  std::vector<cv::Point2d> provisional;        // per slice, as estimated when it was added
  std::vector<Measurement> measurements;
  std::vector<double> previousPeak;            // per slice: peak with slice z-1 (slice 0: 1)
  std::vector<double> previousQuality;         // per slice: its quality
  std::vector<bool> matched;                   // per slice: some comparison was trusted when added
  int count = 0;

  void start(cv::Size size) {
    sliceSize = size;
    scale = registrationScale(size, params.scale);
    RegistrationParams shrunk = params;
    shrunk.fineSigmaPx /= scale;
    shrunk.coarseSigmaPx /= scale;
    shrunk.maxShiftPx = (params.maxShiftPx + scale - 1) / scale;
    const cv::Size small(size.width / scale, size.height / scale);
    correlator = std::make_unique<detail::PhaseCorrelator>(small, shrunk);
    // The last retry: half the size again, searched up to a quarter of the frame whatever
    // align.max_shift says (a jump larger than expected, or detail too fine or noisy to match).
    if (std::min(small.width, small.height) / 2 >= 32) {
      RegistrationParams half = shrunk;
      half.fineSigmaPx /= 2, half.coarseSigmaPx /= 2, half.maxShiftPx = 0;
      coarse = std::make_unique<detail::PhaseCorrelator>(cv::Size(small.width / 2, small.height / 2), half);
    }
  }

  // The previous slice against `slice` on the coarse copy; quality 0 when there is none.
  PairShift coarseRetry(const cv::Mat& previousSlice, const cv::Mat& slice) const {
    if (!coarse) return {};
    cv::Mat a, b;
    const cv::Rect whole(0, 0, coarse->size().width * 2, coarse->size().height * 2);
    cv::resize(previousSlice(whole), a, coarse->size(), 0, 0, cv::INTER_AREA);
    cv::resize(slice(whole), b, coarse->size(), 0, 0, cv::INTER_AREA);
    PairShift p = coarse->match(a, coarse->prepare(a), b, coarse->prepare(b), coarse->maxShiftFor(1));
    p.shift *= 2.0 * scale;
    return p;
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

PairShift Registrar::pairWithPrevious(const Prepared& previous, const Prepared& current) const {
  const State& s = *state_;
  PairShift pair = s.correlator->match(previous.slice, previous.spectrum, current.slice, current.spectrum,
                                       s.correlator->maxShiftFor(1));
  pair.shift *= double(s.scale);
  return pair;
}

ShiftEstimate Registrar::add(const Prepared& prepared, const PairShift* withPrevious) {
  State& s = *state_;
  const cv::Mat& slice = prepared.slice;
  const auto current = std::make_shared<const Prepared>(prepared);  // shares the pixels
  const double scale = s.scale;
  const double minQuality = s.params.minQuality;
  const int z = s.count;
  ShiftEstimate estimate;
  estimate.peak = 1;
  cv::Point2d shift(0, 0);
  bool matchedAny = z == 0;
  if (z > 0) {
    // The running reference of `members` (earlier slices), each moved to `expected` by the shifts
    // estimated so far, averaged, compared with this slice; the shift in full-size px.
    auto find = [&](int j) -> const Prepared& {
      for (const auto& [k, earlier] : s.recent)
        if (k == j) return *earlier;
      throw Error("align: running reference lost a slice (internal error)");
    };
    auto referenceMatch = [&](const std::vector<int>& members, cv::Point2d expected) {
      const int m = int(members.size());
    PairShift match;
    if (s.correlator->shortRegion()) {
      // A region a few dozen pixels across (a fiducial band): the tapers are a large part
      // of it, and moving tapered slices would leave the reference's taper elsewhere than
      // the slice's. Move the slices themselves (bilinear: the reference is an average seen
      // through the band-pass) and taper the mean.
      cv::Mat reference = cv::Mat::zeros(slice.size(), CV_32F), moved;
      for (int j : members) {
        const cv::Point2d offset = (s.provisional[j] - expected) / scale;
        cv::warpAffine(find(j).slice, moved, cv::Matx23d(1, 0, offset.x, 0, 1, offset.y), slice.size(),
                       cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_REFLECT);
        reference += moved;
      }
      reference /= m;
      match = s.correlator->match(reference, s.correlator->prepare(reference), slice, prepared.spectrum,
                                  s.correlator->maxShiftFor(1));
    } else {
      cv::Mat fourierSum;
      for (int j : members) s.correlator->addMoved(fourierSum, find(j).transformed, (s.provisional[j] - expected) / scale);
      match = s.correlator->correlate(s.correlator->whiten(std::move(fourierSum)), prepared.spectrum,
                                      s.correlator->maxShiftFor(1));
    }
      match.shift *= scale;
      return match;
    };
    const cv::Point2d before = s.provisional.back();
    // 0. The usual case first: the previous slice and a reference of every kept slice that matched
    // when it was added. When both are trusted that is all (two comparisons a slice, as fast as
    // before); otherwise the slice is compared with each kept slice on its own.
    if (s.recent.size() >= 2) {
      const auto& previous = *s.recent.back().second;
      PairShift pair, quick;
      std::vector<int> members;
      for (const auto& [j, earlier] : s.recent)
        if (s.matched[j]) members.push_back(j);
      pair = withPrevious ? *withPrevious : pairWithPrevious(previous, prepared);
      if (pair.quality >= minQuality && members.size() >= 2) {
        // Placed where the steady drift puts this slice (the last step again), as the reference
        // was before issue 13: what is left to measure is only the unsteady part of the drift, and
        // the pull of tapered images towards zero shift (~1 % of it) stays small (demo: 0.055 px
        // RMS; placed by this pair instead: 0.063).
        const cv::Point2d expected = before + s.lastStep;
        quick = referenceMatch(members, expected);
        if (quick.quality >= minQuality) {
          std::vector<std::pair<int, double>> terms;
          cv::Point2d meanShift(0, 0);
          for (int j : members) terms.push_back({j, 1.0 / members.size()}), meanShift += s.provisional[j] / double(members.size());
          s.measurements.push_back({z, {{z - 1, 1.0}}, pair.shift, pair.peak, pair.quality, kPairTrust});
          s.measurements.push_back({z, terms, quick.shift + expected - meanShift, quick.peak, quick.quality, kReferenceTrust});
          const double wPair = pair.quality * pair.quality, wRef = quick.quality * quick.quality;
          shift = (wPair * (before + pair.shift) + wRef * (expected + quick.shift)) / (wPair + wRef);
          s.lastStep = shift - before;
          estimate = {pair.shift, shift, pair.peak, pair.quality, false};
          return finishAdd(estimate, shift, current, true);
        }
      }
    }
    // 1. This slice against each kept earlier slice on its own (newest first). The previous slice
    // alone is the comparison that never blurs; the longer pairs tie the slice to several earlier
    // ones, so one pair's error is not passed on whole (chained pairs add up every pair's error;
    // on a sparsely sampled series, every 10th slice say, that is ~0.5 px a pair of apparent
    // motion of the changing structure).
    const int kept = int(s.recent.size());
    std::vector<PairShift> pairs(kept);
    tbb::parallel_for(0, kept, [&](int i) {
      const auto& [j, earlier] = s.recent[kept - 1 - i];
      if (i == 0) {  // the previous slice
        pairs[i] = withPrevious ? *withPrevious : pairWithPrevious(*earlier, prepared);
        return;
      }
      pairs[i] = s.correlator->match(earlier->slice, earlier->spectrum, slice, prepared.spectrum,
                                     s.correlator->maxShiftFor(z - j));
      pairs[i].shift *= scale;
    });
    cv::Point2d sum(0, 0);
    double weights = 0;
    std::vector<int> similar;  // earlier slices this one matched
    for (int i = 0; i < kept; ++i) {
      const int j = s.recent[kept - 1 - i].first;
      const PairShift& p = pairs[i];
      s.measurements.push_back({z, {{j, 1.0}}, p.shift, p.peak, p.quality, kPairTrust});
      if (j == z - 1) estimate.step = p.shift, estimate.peak = p.peak, estimate.quality = p.quality;
      if (p.quality < minQuality) continue;
      const double w = p.quality * p.quality;
      sum += w * (s.provisional[j] + p.shift), weights += w;
      similar.push_back(j);
    }
    estimate.flagged = estimate.quality < minQuality;
    const bool matched = weights > 0;
    // Where slice z is expected: from the pairs, else from the steady drift.
    const cv::Point2d expected = matched ? sum / weights : before + s.lastStep;

    // 2. The running reference: the earlier slices this one matched (all kept ones if it matched
    // none: a retry for a slice no single one matched), each moved to where the pairs put this
    // slice, averaged. The mean cancels their slice-to-slice noise. Only slices this one matched
    // go in, so where the structure changes fast from slice to slice (large steps, every n-th
    // slice kept) the reference holds only the few that still resemble it, not a blur of
    // different structures: how many slices it holds follows from the data. Placing it where the
    // pairs put the slice (not where the last step would: steps of sparse series jump by tens of
    // px) leaves only a small correction to measure.
    std::vector<int> members = similar;
    if (members.empty())
      for (const auto& [j, earlier] : s.recent) members.push_back(j);
    if (members.size() >= 2 || (members.size() == 1 && members[0] != z - 1)) {
      const int m = int(members.size());
      PairShift match = referenceMatch(members, expected);
      std::vector<std::pair<int, double>> terms;
      cv::Point2d meanShift(0, 0);
      for (int j : members) terms.push_back({j, 1.0 / m}), meanShift += s.provisional[j] / double(m);
      // The reference shows content at mean_j(shift_j - provisional_j) + expected, so
      // shift_z - mean_j shift_j = match + expected - mean_j provisional_j.
      s.measurements.push_back({z, terms, match.shift + expected - meanShift, match.peak, match.quality,
                                kReferenceTrust});
      if (match.quality >= minQuality) {
        // The mean matched: it replaces the longer pairs (on the phantom they bring back the
        // noise it averages away: 0.28 px RMS instead of 0.22), and the previous slice stays.
        sum = {0, 0}, weights = 0;
        for (int i = 0; i < kept; ++i) {
          Measurement& pairWith = s.measurements[s.measurements.size() - 2 - (kept - 1 - i)];
          if (pairWith.terms[0].first != z - 1) pairWith.used = false;
          else if (pairWith.quality >= minQuality)
            sum += pairWith.quality * pairWith.quality * (before + pairWith.value), weights += pairWith.quality * pairWith.quality;
        }
        const double wRef = match.quality * match.quality;
        sum += wRef * (expected + match.shift), weights += wRef;
      }
    }
    if (weights == 0 && s.recent.back().first == z - 1) {
      // Nothing matched: the previous slice again, coarser and searched further.
      const PairShift retry = s.coarseRetry(s.recent.back().second->slice, slice);
      if (retry.quality >= minQuality) {
        s.measurements.push_back({z, {{z - 1, 1.0}}, retry.shift, retry.peak, retry.quality, kPairTrust});
        sum = retry.quality * retry.quality * (before + retry.shift), weights = retry.quality * retry.quality;
      }
    }
    shift = weights > 0 ? sum / weights : before + s.lastStep;  // no match: bridged until finalise()
    matchedAny = weights > 0;
    if (weights > 0) s.lastStep = shift - before;
  }
  return finishAdd(estimate, shift, current, matchedAny);
}

ShiftEstimate Registrar::finishAdd(ShiftEstimate estimate, cv::Point2d shift, std::shared_ptr<const Prepared> slice,
                                   bool matched) {
  State& s = *state_;
  estimate.provisionalShift = shift;
  s.provisional.push_back(shift);
  s.previousPeak.push_back(estimate.peak);
  s.previousQuality.push_back(estimate.quality);
  s.matched.push_back(matched);
  s.recent.push_back({s.count, std::move(slice)});
  if (int(s.recent.size()) > s.params.referenceSlices) s.recent.pop_front();
  ++s.count;
  return estimate;
}

std::vector<SliceTransform> Registrar::finalise(cv::Point2d* comparisonOffset) const {
  return solveRegistration(state_->params, state_->count, {measurements(0, 0)}, comparisonOffset);
}

ChainMeasurements Registrar::measurements(int stackSlice, int warmUp) const {
  const State& s = *state_;
  ChainMeasurements chain;
  chain.first = stackSlice + warmUp;
  for (const auto& m : s.measurements) {
    if (m.to < warmUp) continue;
    Measurement& kept = chain.comparisons.emplace_back(m);
    kept.to += stackSlice;
    for (auto& [j, weight] : kept.terms) j += stackSlice;
  }
  chain.peaks.assign(s.previousPeak.begin() + std::min(warmUp, s.count), s.previousPeak.end());
  chain.qualities.assign(s.previousQuality.begin() + std::min(warmUp, s.count), s.previousQuality.end());
  return chain;
}

std::vector<SliceTransform> solveRegistration(const RegistrationParams& params, int n,
                                              const std::vector<ChainMeasurements>& chains,
                                              cv::Point2d* comparisonOffset) {
  std::vector<SliceTransform> out(n);
  if (comparisonOffset) *comparisonOffset = {0, 0};
  if (n == 0) return out;
  std::vector<Measurement> measurements;
  std::vector<double> previousPeak, previousQuality;
  for (const auto& chain : chains) {
    if (chain.first != int(previousPeak.size()) || chain.peaks.size() != chain.qualities.size())
      throw Error("align: registration chains do not follow each other (internal error)");
    measurements.insert(measurements.end(), chain.comparisons.begin(), chain.comparisons.end());
    previousPeak.insert(previousPeak.end(), chain.peaks.begin(), chain.peaks.end());
    previousQuality.insert(previousQuality.end(), chain.qualities.begin(), chain.qualities.end());
  }
  if (int(previousPeak.size()) != n) throw Error("align: registration chains do not cover the stack (internal error)");
  for (const auto& m : measurements)
    if (m.to < 0 || m.to >= n || firstSlice(m) < 0)
      throw Error("align: a registration comparison lies outside the stack (internal error)");
  // Untrusted comparisons are left out; a weak pair with the previous slice is kept only if the
  // user asked not to bridge.
  for (auto& m : measurements)
    if (m.quality < params.minQuality && !(m.terms.size() == 1 && m.terms[0].first == m.to - 1 && !params.bridgeFlagged))
      m.used = false;

  // Bridges: every step also gets a prior, the mean of the nearest measured steps before and after
  // it (drift is locally steady), with a weight so small that it only decides where nothing was
  // measured. It also keeps the system solvable whatever was dropped.
  auto withBridges = [&](const std::vector<Measurement>& list) {
    std::vector<Measurement> all = list;
    std::vector<cv::Point2d> step(n);
    std::vector<bool> known(n, false);
    for (const auto& m : list)
      if (m.used && m.terms.size() == 1 && m.terms[0].first == m.to - 1) step[m.to] = m.value, known[m.to] = true;
    for (int z = 1; z < n; ++z) {
      cv::Point2d sum(0, 0);
      int found = 0;
      for (int k = z - 1; k >= 1; --k)
        if (known[k]) { sum += step[k], ++found; break; }
      for (int k = z + 1; k < n; ++k)
        if (known[k]) { sum += step[k], ++found; break; }
      all.push_back({z, {{z - 1, 1.0}}, found ? sum / double(found) : cv::Point2d(0, 0), 1.0, 1.0, kBridgeTrust});
    }
    return all;
  };

  int bandwidth = 1;
  for (const auto& m : measurements) bandwidth = std::max(bandwidth, m.to - firstSlice(m));
  std::vector<cv::Point2d> shifts;
  cv::Point2d offset(0, 0);
  // Measurements that disagree with the solution (a false peak) are dropped one at a time, worst
  // first, and the rest solved again. "Disagree": further off than kOutlierPx, or than three
  // times the typical disagreement where the structure itself moves (apparent motion of
  // changing cross-sections makes every comparison of a sparse series a little off).
  const int used = int(std::count_if(measurements.begin(), measurements.end(), [](const Measurement& m) { return m.used; }));
  for (int round = 0;; ++round) {
    Solution solution = solveShifts(n, withBridges(measurements), bandwidth);
    shifts = std::move(solution.shifts), offset = solution.offset;
    if (round >= kMaxOutlierRounds + used / 3) break;
    std::vector<double> residuals(measurements.size(), 0.0), usedResiduals;
    for (int i = 0; i < int(measurements.size()); ++i) {
      const auto& m = measurements[i];
      if (!m.used) continue;
      cv::Point2d predicted = shifts[m.to] + offset;
      for (const auto& [j, c] : m.terms) predicted -= c * shifts[j];
      residuals[i] = cv::norm(predicted - m.value);
      usedResiduals.push_back(residuals[i]);
    }
    if (usedResiduals.empty()) break;
    std::nth_element(usedResiduals.begin(), usedResiduals.begin() + usedResiduals.size() / 2, usedResiduals.end());
    const double typical = usedResiduals[usedResiduals.size() / 2];
    double worst = std::max(kOutlierPx, kOutlierSpread * typical);
    int worstIndex = -1;
    for (int i = 0; i < int(measurements.size()); ++i)
      if (measurements[i].used && residuals[i] > worst) worst = residuals[i], worstIndex = i;
    if (worstIndex < 0) break;
    measurements[worstIndex].used = false;
  }
  if (comparisonOffset) *comparisonOffset = offset;
  if (params.smoothingSlices > 1) shifts = smooth(shifts, params.smoothingSlices);

  // Slice z is bridged when no trusted comparison spans the gap between z-1 and z: then only the
  // prior placed it; and so is a slice no trusted comparison includes at all (a beam blank).
  std::vector<bool> spanned(n, false), seen(n, false);
  for (const auto& m : measurements)
    if (m.used) {
      for (int z = firstSlice(m) + 1; z <= m.to; ++z) spanned[z] = true;
      seen[m.to] = true;
      for (const auto& [j, c] : m.terms) seen[j] = true;
    }
  for (int z = 0; z < n; ++z)
    out[z] = {shifts[z], previousPeak[z], z > 0 && !(spanned[z] && seen[z]), z > 0 ? previousQuality[z] : 0.0};
  return out;
}

int bridgedCount(const std::vector<SliceTransform>& transforms) {
  return int(std::count_if(transforms.begin(), transforms.end(), [](const SliceTransform& t) { return t.flagged; }));
}

std::vector<SliceTransform> registerSlices(const std::vector<cv::Mat>& croppedSlices,
                                           const RegistrationParams& params) {
  Registrar registrar(params);
  for (const auto& slice : croppedSlices) registrar.add(slice);
  return registrar.finalise();
}

std::vector<Chain> chainsOf(int slices, int chainSlices, int referenceSlices) {
  std::vector<Chain> chains;
  if (slices <= 0) return chains;
  const int n = chainSlices > 0 ? (slices + chainSlices - 1) / chainSlices : 1;
  // Cut so that every chain reads and compares about as many slices: a later chain also reads its
  // warm-up, so it decides that many fewer. Chains run side by side (a distributed run's tasks):
  // equal work ends them together. With chain 0 deciding W and each later one W - r, where
  // W = (slices + (n - 1) r) / n, chain k starts deciding at k W - (k - 1) r.
  const long long r = std::max(0, referenceSlices), total = slices + (n - 1) * r;
  int first = 0;
  for (int k = 0; k < n; ++k) {
    int end = k + 1 == n ? slices : int((2 * (k + 1) * total + n) / (2 * n) - k * r);  // rounded
    end = std::clamp(end, first + 1, slices - (n - 1 - k));  // every chain decides at least one slice
    chains.push_back({first, end, std::min(first, referenceSlices)});
    first = end;
  }
  return chains;
}

std::vector<SliceTransform> registerSlices(const std::vector<cv::Mat>& croppedSlices, const RegistrationParams& params,
                                           int chainSlices, cv::Point2d* comparisonOffset) {
  const int n = int(croppedSlices.size());
  std::vector<ChainMeasurements> measured;
  for (const Chain& chain : chainsOf(n, chainSlices, params.referenceSlices)) {
    Registrar registrar(params);
    for (int z = chain.start(); z < chain.end; ++z) registrar.add(croppedSlices[z]);
    measured.push_back(registrar.measurements(chain.start(), chain.warmUp));
  }
  return solveRegistration(params, n, measured, comparisonOffset);
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
  return {estimate.step, estimate.peak, estimate.quality};
}

}  // namespace fibseg::align
