#pragma once
// Gabor tuning: instead of a few hundred hand tests, sweep Gabor parameter sets and pore thresholds
// on one slice and pick the set that best reproduces the pores vs SE a person painted on it.
// The Gabor response of each set is computed once; thresholds are swept on it (cheap).
#include <opencv2/core.hpp>

#include <string>
#include <vector>

#include "fibseg/segment/segment.hpp"

namespace fibseg::segment {

/// Annotation of one slice: per pixel 0 pore, 1 SE, 2 CAM, or kUnknown (unpainted).
inline constexpr std::uint8_t kUnknown = 255;

/// Reads a painted annotation image as stored (grey or BGR) into phase labels (kUnknown where
/// unpainted). Accepted: grey values 1 pore, 2 SE, 3 CAM (0 unknown); or colours within a small
/// tolerance of the default phase colours (light grey pore, orange SE, blue CAM; anything else unknown).
/// Throws naming `what` (the file) if a grey annotation holds other values or nothing is painted.
cv::Mat annotationLabels(const cv::Mat& annotation, const std::string& what);

/// Lists of values to sweep; every combination is one parameter set. For each set every threshold
/// that changes the painted pixels' labels is tried (exactly, by sorting the responses).
struct GaborSweep {
  std::vector<int> kernelSizes;
  std::vector<double> sigmas;
  std::vector<double> thetasDeg;
  std::vector<double> lambdas;
  std::vector<double> gammas;
  std::vector<double> psisDeg;
};
/// A default sweep broad enough for typical pore sizes (a few hundred sets, seconds per slice).
GaborSweep defaultGaborSweep();
std::vector<GaborParams> expandSweep(const GaborSweep& sweep);

struct TuneCandidate {
  GaborParams gabor;
  double threshold = 0;
  double score = 0;       // mean of pore IoU and SE IoU over painted non-CAM pixels
  double poreIou = 0, seIou = 0, balancedAccuracy = 0;
};

struct TuneResult {
  std::vector<TuneCandidate> candidates;  // one per parameter set (its best threshold), best first
  TuneCandidate best;
  int camThreshold = 0;
  double camAgreement = 0;   // fraction of painted CAM/non-CAM pixels the Otsu mask gets right
  long long paintedPore = 0, paintedSe = 0, paintedCam = 0;
};

/// Sweeps all parameter sets (TBB parallel over sets) on `slice` (aligned and cropped) with its CAM
/// mask (255 = CAM, from the Otsu step) against `annotation` (annotationLabels output, same size).
/// Needs at least one painted pore and one painted SE pixel outside the CAM mask. With
/// Convolution::Auto and a sparse annotation the response is computed at the painted pixels only.
TuneResult tuneGabor(const cv::Mat& slice, const cv::Mat& camMask, const cv::Mat& annotation,
                     const GaborSweep& sweep, Convolution method = Convolution::Auto);

/// Without an annotation: the pore mask of each set at a threshold placed by Otsu on its response
/// over non-CAM pixels beyond the filter's reach of CAM (whose zeros darken a halo), for a person to
/// pick by eye. Same order as expandSweep.
std::vector<TuneCandidate> untunedCandidates(const cv::Mat& slice, const cv::Mat& camMask,
                                             const GaborSweep& sweep, Convolution method = Convolution::Auto);

/// Gabor response (as gaborResponse) at `pixels` (indices y * cols + x) of an image that was padded
/// by `pad` >= kernel radius on every side with cv::BORDER_REFLECT_101.
std::vector<float> responseAt(const cv::Mat& padded, int pad, int cols, const std::vector<int>& pixels,
                              const cv::Mat& kernel);

/// Contact sheet (CV_8UC3, BGR): one tile per candidate (at most `maxTiles`, in the given order),
/// each the slice downsampled to `tileWidth` with its pore mask in light grey over CAM blue / SE orange,
/// and a caption with the set's values, threshold and score (if scored).
cv::Mat contactSheet(const cv::Mat& slice, const cv::Mat& camMask, const std::vector<TuneCandidate>& candidates,
                     int tileWidth = 256, int maxTiles = 48, Convolution method = Convolution::Auto);

/// The chosen values as TOML lines for the [segment] section, with the registry's names.
std::string tuneResultToml(const TuneCandidate& best);
/// `existing` parameter-file text with the chosen values put into its [segment] section: lines
/// setting those keys are replaced, missing keys are added at the end of the section (a section is
/// appended if there is none); every other line, comment and section is kept as it was.
std::string mergeTuneResultIntoToml(const std::string& existing, const TuneCandidate& best);

}  // namespace fibseg::segment
