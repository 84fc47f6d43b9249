#pragma once
// Classical segmentation of a BSE slice into pore / solid electrolyte (SE) / active material (CAM):
// an Otsu threshold takes the brightest phase (CAM); on the inverted image with CAM set to 0 a
// Gabor filter and a manual threshold mark the pores; SE is the rest. Optional cleanup merges
// small islands into their surroundings. Plus the pure renderings the pipeline writes to disk.
#include <opencv2/core.hpp>

#include <array>
#include <cstdint>
#include <vector>

namespace fibseg::segment {

// ---- 1. CAM by Otsu -------------------------------------------------------------------------

/// Grey-level histogram of 8-bit (256 bins) or 16-bit (65536 bins) slices, accumulated slice by
/// slice so the pipeline can stream a whole stack and take one Otsu threshold from it.
class GreyHistogram {
 public:
  explicit GreyHistogram(int bitDepth);  // 8 or 16
  /// Adds every pixel of `slice` (CV_8U or CV_16U, matching the bit depth).
  void add(const cv::Mat& slice);
  void merge(const GreyHistogram& other);
  /// From counts summed elsewhere (the reduction of a distributed run); throws on a wrong length.
  static GreyHistogram fromCounts(int bitDepth, std::vector<std::uint64_t> counts);
  int bitDepth() const { return bitDepth_; }
  const std::vector<std::uint64_t>& counts() const { return counts_; }
  std::uint64_t total() const;

 private:
  int bitDepth_;
  std::vector<std::uint64_t> counts_;
};

/// Otsu's threshold on the full histogram (65536 bins for 16-bit, no 8-bit conversion): the grey
/// level t maximising between-class variance; pixels > t belong to the bright class (CAM).
/// Throws if the histogram is empty or has a single grey level.
int otsuThreshold(const GreyHistogram& histogram);
/// Convenience: the histogram of one slice, then its Otsu threshold.
int otsuThreshold(const cv::Mat& slice);

/// 255 where slice > threshold (CAM), else 0.
cv::Mat camMask(const cv::Mat& slice, int threshold);

// ---- 2. pores by Gabor filter + threshold ---------------------------------------------------

/// How the Gabor kernel is applied. The results agree to float rounding; only speed differs
/// (bench/README.md, section Segment).
enum class Convolution {
  Auto,     // Spatial for rank-1 kernels (theta a multiple of 90 degrees) and for rank-2 ones
            // (gamma = 1) of 11x11 and up; otherwise OpenCv
  OpenCv,   // cv::filter2D: direct below 13x13 (kernel area < 130 for float), DFT from 13x13 up
  Spatial,  // direct: the kernel as a sum of separable (rank-1) filters, exact to float rounding
  Dft       // explicit whole-image DFT multiplication
};

/// Number of separable (rank-1) filters whose sum is `kernel` to float precision.
int separableRank(const cv::Mat& kernel);

/// Same meaning as OpenCV's getGaborKernel, with angles in degrees.
struct GaborParams {
  int kernelSize;    // px, odd: the kernel is kernelSize x kernelSize
  double sigma;      // px, standard deviation of the Gaussian envelope
  double thetaDeg;   // orientation of the stripes' normal, degrees
  double lambda;     // px, wavelength of the cosine factor
  double gamma;      // spatial aspect ratio of the envelope (1 = round)
  double psiDeg;     // phase offset, degrees (0 = even, symmetric kernel)
};

/// The Gabor kernel (CV_32F), exactly cv::getGaborKernel with angles converted to radians.
/// Throws naming the bad value for an even/non-positive size, sigma <= 0, lambda <= 0, gamma <= 0.
cv::Mat gaborKernel(const GaborParams& gabor);

/// The image the Gabor filter runs on: inverted slice on an 8-bit grey scale (255 - I, or
/// (65535 - I) / 257 for 16-bit, kept as float so 16-bit precision survives), CAM pixels set to 0.
/// SE and pores are bright, pores brightest.
cv::Mat poreCandidateImage(const cv::Mat& slice, const cv::Mat& camMask);

/// Gabor response (CV_32F, same size) of `input`, borders reflected (reflect-101). The scale is
/// that of the seed's 8-bit `filter2D(inverted, CV_8U, kernel)`, so its thresholds carry over, but
/// neither rounded to whole grey levels nor clipped to 0..255.
cv::Mat gaborResponse(const cv::Mat& input, const GaborParams& gabor, Convolution method = Convolution::Auto);

// ---- 3. labels ------------------------------------------------------------------------------

enum class OtsuScope { PerSlice, Stack };

struct SegmentParams {
  OtsuScope otsuScope;       // per slice, or one threshold for the whole stack (pipeline's job)
  GaborParams gabor;
  double poreThreshold;      // Gabor response above this = pore (8-bit grey scale, see above)
  Convolution convolution;
  std::array<int, 3> minIslandPx;  // per phase (pore, SE, CAM): smaller islands merged; 0 = off
  int otsuOffset = 0;        // grey levels added to the Otsu threshold (segment.otsu_offset)
};

struct SliceSegmentation {
  cv::Mat labels;          // CV_8U, 0 pore, 1 SE, 2 CAM (phase indices; see labelImage)
  cv::Mat gaborResponse;   // CV_32F, for the report's preview
  int camThreshold = 0;    // the Otsu threshold used (slice's grey scale)
};

/// Segments one slice. `camThreshold` < 0: Otsu of this slice; otherwise use it (stack scope:
/// the pipeline passes otsuThreshold(stackHistogram)); params.otsuOffset is added to either. Cleanup applied if params ask for it.
SliceSegmentation segmentSlice(const cv::Mat& slice, const SegmentParams& params, int camThreshold = -1);
/// The same, with CAM thresholded on `denoised` (the slice after intensity.denoise, same size and
/// type) while the Gabor pore filter sees the undenoised `slice`, as in the original notebook:
/// denoising first would blur the small dark pores the Gabor filter is tuned to.
SliceSegmentation segmentSlice(const cv::Mat& slice, const cv::Mat& denoised, const SegmentParams& params,
                               int camThreshold = -1);

/// Merges 8-connected islands of each phase smaller than minIslandPx[phase] into the phase that
/// surrounds them most (majority of their 4-neighbour boundary pixels). Phases are processed
/// pore, SE, CAM in turn. Returns new labels (0/1/2).
cv::Mat removeSmallIslands(const cv::Mat& labels, const std::array<int, 3>& minIslandPx);

// ---- outputs (pure; the pipeline writes the files) ------------------------------------------

/// Colours of the classical three phases (RGB), for pictures made without a run's parameters
/// (`fibseg tune`'s contact sheet): the registry default of phases.colours.
inline constexpr std::array<std::array<std::uint8_t, 3>, 3> kPhaseColoursRgb{{
    {247, 247, 247},  // pore: light grey
    {239, 138, 98},   // SE: orange
    {98, 138, 239},   // CAM: blue
}};

/// CV_8UC3 in OpenCV's BGR order (ready for cv::imwrite / io::writePng): label i (a phase index)
/// gets coloursRgb[i]; labels past the list show black.
cv::Mat colourLabels(const cv::Mat& labels, const std::vector<std::array<std::uint8_t, 3>>& coloursRgb);
cv::Mat colourLabels(const cv::Mat& labels);  // the classical three, kPhaseColoursRgb
/// Phase indices 0..n-1 mapped to the user's grey values (levels[i] for phase i); throws if two
/// levels are equal.
cv::Mat labelImage(const cv::Mat& labels, const std::vector<std::uint8_t>& levels);

struct PhaseFractions {
  std::vector<double> fraction;  // per phase index; sum to 1
  std::vector<long long> pixels;
};
/// Phase fractions of one label slice (indices 0..phases-1; a larger label is an error); pass
/// several to combine (pixel-weighted total).
PhaseFractions phaseFractions(const cv::Mat& labels, int phases = 3);
PhaseFractions combineFractions(const std::vector<PhaseFractions>& slices);

}  // namespace fibseg::segment

namespace fibseg::config {
class ParamSet;
/// Defined in config/params_segment.cpp (the registry holds the defaults and descriptions).
segment::SegmentParams segmentParamsFrom(const ParamSet& params);
}  // namespace fibseg::config
