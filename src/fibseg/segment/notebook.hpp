#pragma once
// The original notebook's segmentation (segment.method = notebook), step for step, so a user's
// first run gives the labels they know: CLAHE per slice; non-local means then Otsu for the active
// material (CAM, brightest); optional vertical-line removal on the CAM mask; a Gabor filter on the
// undenoised slice with CAM set to 0 (not inverted), saturated to 8 bits, CAM set to 255, 5 x 5
// median; pores below the pore threshold, solid electrolyte (SE) the rest.
#include <opencv2/core.hpp>

namespace fibseg::segment {

struct NotebookParams {
  bool lightAdjustment;        // CLAHE on each slice ("Light adjustment")
  double clipLimit;            // OpenCV CLAHE clip limit ("clip_lim")
  int gridSize;                // CLAHE tiles per side ("Grid size")
  bool removeVerticalLines;    // opening + median of the CAM mask ("Removing vertical lines")
  cv::Size horizontalKernel;   // px, width x height of the opening ("Horizontal kernel size")
  int medianSmoothing;         // px, odd median size after the opening ("Median smoothing")
  double poreThreshold;        // pores: filtered value below this, 8-bit scale ("Pores threshold")
};

struct NotebookSegmentation {
  cv::Mat labels;         // CV_8U phase indices: 0 pore, 1 SE, 2 CAM
  cv::Mat gaborResponse;  // CV_8U: the median-filtered Gabor result the pore threshold is applied to
  double camThreshold;    // Otsu threshold on the denoised slice, 0..1 (scikit-image scale)
};

/// Segments one 8-bit slice as the notebook does (a 16-bit slice is first divided by 257).
NotebookSegmentation segmentLikeNotebook(const cv::Mat& slice, const NotebookParams& params);

/// scikit-image's threshold_otsu on a float image: 256 bins over the image's own range, the
/// threshold is the centre of the last bin of the dark class.
double otsuThresholdLikeScikitImage(const cv::Mat& image);

}  // namespace fibseg::segment

namespace fibseg::config {
class ParamSet;
/// Defined in config/params_segment.cpp (the segment.notebook_* values).
segment::NotebookParams notebookParamsFrom(const ParamSet& params);
}  // namespace fibseg::config
