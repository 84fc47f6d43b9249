#pragma once
// Phase correlation with a frequency weight (internal to align/).
//
// Each slice becomes a whitened spectrum (phase only) times the square root of a weight, so the
// product of two spectra carries the weight once. Whitening makes the peak blind to gain and
// offset changes; the weight is a band-pass (a Gaussian low-pass against noise and per-slice
// texture, a high-pass against shading and slow brightness changes) and, optionally, a notch on
// the frequencies of vertical stripes: curtains stay fixed in the frame while the content drifts,
// so left in they pull the peak towards zero shift. Both slices are tapered to zero at the borders
// the same way (the FFT sees each slice repeated; the border jump would be another pattern fixed
// in the frame). The peak is found on the integer grid, placed by a 3-point Gaussian fit, then
// refined by Newton steps on the band-limited correlation surface itself (exact for a pure shift).
#include <opencv2/core.hpp>

#include "fibseg/align/align.hpp"

namespace fibseg::align::detail {

/// Throws unless `slice` is single-channel and of `size` (every cropped slice must be).
void requireSliceSize(const cv::Mat& slice, cv::Size size);

class PhaseCorrelator {
 public:
  PhaseCorrelator(cv::Size size, const RegistrationParams& params);

  cv::Size size() const { return size_; }
  /// Fewer than kShortRows (128) px across: tapers are a large part of the region (see the .cpp).
  bool shortRegion() const;
  /// The weighted, whitened spectrum of a slice of size(); energy = sum of |spectrum|^2.
  struct Spectrum {
    cv::Mat values;  // CV_32FC2, dftSize
    double energy = 0;
  };
  /// `window`: the taper (CV_32F, size()); empty = the standard one. = whiten(transform(...)).
  Spectrum prepare(const cv::Mat& slice, const cv::Mat& window = cv::Mat()) const;
  /// The plain Fourier transform of the slice, mean removed and tapered (CV_32FC2, dftSize).
  cv::Mat transform(const cv::Mat& slice, const cv::Mat& window = cv::Mat()) const;
  /// A transform() made into a Spectrum (whitened, weighted).
  Spectrum whiten(cv::Mat transformed) const;
  /// sum += transformed with its content moved by -offset px (a Fourier phase ramp: exact,
  /// sub-pixel, no interpolation), i.e. the transform of image(x + offset).
  void addMoved(cv::Mat& sum, const cv::Mat& transformed, cv::Point2d offset) const;
  /// Content displacement of `moving` relative to `fixed`, searched within +-maxShift px.
  /// `refine`: Newton steps on the surface after the 3-point fit.
  PairShift correlate(const Spectrum& fixed, const Spectrum& moving, int maxShift, bool refine = true) const;
  /// correlate(), then again with both slices tapered to the content they share at the
  /// whole-pixel part of the shift found (see the .cpp). Images CV_32F.
  PairShift match(const cv::Mat& fixed, const Spectrum& fixedSpectrum, const cv::Mat& moving,
                  const Spectrum& movingSpectrum, int maxShift) const;
  /// The search radius for slices `lag` apart (params' maxShiftPx, or a quarter of the frame).
  int maxShiftFor(int lag) const;

 private:
  cv::Mat shiftedWindow(cv::Point2d offset) const;
  cv::Point2d refinePeak(const cv::Mat& product, cv::Point2d start) const;
  cv::Size size_, dftSize_;
  RegistrationParams params_;
  cv::Mat window_;      // CV_32F, size_: smooth taper to zero at the borders
  cv::Mat sqrtWeight_;  // CV_32F, dftSize_
};

}  // namespace fibseg::align::detail
