#pragma once
// Non-local means denoising with the semantics of scikit-image's denoise_nl_means in fast mode
// (Buades et al. 2005; Darbon et al. 2008 for the fast, integral-image form): every pixel becomes
// the weighted mean of the pixels within `patchDistance` whose surrounding patches look alike.
// The original notebook denoises with it before Otsu, so fibseg follows that documented
// algorithm exactly (OpenCV's fastNlMeansDenoising is another algorithm and disagrees on 2-5 %
// of pixels). Implemented in nl_means.cpp.
#include <opencv2/core.hpp>

namespace fibseg::intensity {

struct NlMeansParams {
  double h;           // filter strength on the 0..1 grey scale (skimage's h): larger = smoother
  int patchSize;      // px, side of the compared patches (skimage patch_size), e.g. 5
  int patchDistance;  // px, search radius (skimage patch_distance), e.g. 6
  double sigma = 0;   // noise standard deviation on the 0..1 scale (skimage sigma), 0 = none
};

/// The slice (CV_8U or CV_16U) denoised, on skimage's img_as_float scale (grey / 255 or
/// / 65535), CV_64F: what denoise_nl_means returns, to be thresholded as the notebook does.
cv::Mat nonLocalMeansUnitScale(const cv::Mat& slice, const NlMeansParams& params);

/// The same, rounded back to the slice's type and grey scale.
cv::Mat nonLocalMeans(const cv::Mat& slice, const NlMeansParams& params);

}  // namespace fibseg::intensity
