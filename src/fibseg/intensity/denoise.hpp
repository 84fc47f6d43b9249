#pragma once
// Denoising of what the segmentation looks at (Otsu's threshold and the pixel classifier): noisy
// BSE slices put isolated pixels on the wrong side of any grey-level threshold, and a little
// smoothing first removes most of them (on lco-fibsem BSE, Otsu's CAM IoU goes from 0.75 to 0.80;
// bench/README.md, Real data). The aligned stack written to disk stays undenoised.
#include <opencv2/core.hpp>

#include <string>

namespace fibseg::intensity {

enum class DenoiseMethod { None, Gaussian, Median, Bilateral, NonLocalMeans };

struct DenoiseParams {
  DenoiseMethod method;
  double gaussianSigma;      // px, standard deviation of the Gaussian blur
  int medianSize;            // px, odd side of the median window
  double bilateralSigmaGrey; // grey levels on an 8-bit scale (x 257 for 16-bit): edges stronger
                             // than about this are kept
  double bilateralSigmaPx;   // px, spatial reach of the bilateral filter
  double nlmH;               // non-local means strength on the 0..1 grey scale (skimage h)
  int nlmPatchSize;          // px, side of the compared patches
  int nlmPatchDistance;      // px, search radius
};

/// "none", "gaussian sigma=2 px", ...: what was applied, for run.json and the model file (a
/// classifier must see the same denoising when it runs as when it was trained).
std::string describeDenoise(const DenoiseParams& params);

/// The parameters with the method set to None (what the classifier gets unless learn.denoise_input).
inline DenoiseParams noDenoising(DenoiseParams params) {
  params.method = DenoiseMethod::None;
  return params;
}

/// The slice (CV_8U or CV_16U) denoised, same size and type; borders reflected (reflect-101).
/// Method None returns the slice itself (not a copy).
cv::Mat denoise(const cv::Mat& slice, const DenoiseParams& params);

}  // namespace fibseg::intensity

namespace fibseg::config {
class ParamSet;
/// Defined in config/params_intensity.cpp.
intensity::DenoiseParams denoiseParamsFrom(const ParamSet& params);
}  // namespace fibseg::config
