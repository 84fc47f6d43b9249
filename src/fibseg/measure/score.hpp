#pragma once
// Accuracy against known truth: registration error (px) and per-phase segmentation agreement.
// Every accuracy test and benchmark in fibseg reports these numbers, so they are defined once.
#include <opencv2/core.hpp>

#include <array>
#include <string>
#include <vector>

namespace fibseg::measure {

struct ShiftScore {
  double rmsError = 0;  // px, over all slices, Euclidean
  double maxError = 0;  // px
  int slices = 0;
};
/// Both lists are each slice's content displacement relative to slice 0 (slice 0 = (0, 0)).
ShiftScore scoreShifts(const std::vector<cv::Point2d>& truth, const std::vector<cv::Point2d>& estimated);

struct SegmentationScore {
  std::array<double, 3> iou{};                // per phase: pore, SE, CAM
  std::array<double, 3> fractionTruth{};      // phase fractions of the compared region
  std::array<double, 3> fractionSegmented{};
  double meanIou = 0;
  double accuracy = 0;                        // fraction of pixels with the right phase
  long long pixels = 0;
  int slices = 0;
};

/// Accumulates a score slice by slice, so whole volumes stream through it.
class SegmentationScorer {
 public:
  /// `segmented` (labels 0 pore, 1 SE, 2 CAM) covers truth's region starting at `offset`
  /// (the crop offset: segmented(y, x) is truth(y + offset.y, x + offset.x)).
  void add(const cv::Mat& segmented, const cv::Mat& truth, cv::Point offset = {0, 0});
  SegmentationScore result() const;

 private:
  std::array<std::array<long long, 3>, 3> confusion_{};  // [truth][segmented]
  int slices_ = 0;
};

/// One phase of a run's labels against a binary mask drawn on a raw slice (the frame the
/// microscope recorded): how they overlap.
struct MaskOverlap {
  long long intersection = 0, unionPixels = 0;  // of "label is the phase" and "mask is the value"
  long long counted = 0;   // mask pixels compared
  long long outside = 0;   // mask pixels outside the aligned output (not counted)
  double iou() const { return unionPixels > 0 ? double(intersection) / unionPixels : 0.0; }
};
/// `labels` (8-bit, one aligned output slice) is the raw slice seen from `origin`: label (y, x)
/// shows raw pixel (y + origin.y, x + origin.x), where origin = the output's place in slice 0's
/// raw frame + this slice's shift (aligning moved the slice by minus its shift). Each mask pixel
/// takes the label nearest to where it landed; pixels that landed outside the labels are not
/// counted. Throws naming `maskName` unless the mask is single-channel 8-bit.
MaskOverlap overlapWithRawMask(const cv::Mat& labels, int phaseValue, const cv::Mat& mask, int maskValue,
                               cv::Point2d origin, const std::string& maskName);

std::string formatShiftScore(const ShiftScore& score);
std::string formatSegmentationScore(const SegmentationScore& score);

}  // namespace fibseg::measure
