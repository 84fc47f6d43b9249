#include "fibseg/measure/score.hpp"

#include <cmath>
#include <cstdio>

#include "fibseg/core/error.hpp"
#include "fibseg/core/image.hpp"

namespace fibseg::measure {

ShiftScore scoreShifts(const std::vector<cv::Point2d>& truth, const std::vector<cv::Point2d>& estimated) {
  if (truth.size() != estimated.size())
    throw Error("shift scoring: " + std::to_string(estimated.size()) + " estimated shifts for " +
                std::to_string(truth.size()) + " true ones; expected one per slice");
  ShiftScore score;
  double sum = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    const double error = cv::norm(truth[i] - estimated[i]);
    sum += error * error;
    score.maxError = std::max(score.maxError, error);
  }
  score.slices = static_cast<int>(truth.size());
  score.rmsError = truth.empty() ? 0 : std::sqrt(sum / truth.size());
  return score;
}

void SegmentationScorer::add(const cv::Mat& segmented, const cv::Mat& truth, cv::Point offset) {
  if (segmented.type() != CV_8U || truth.type() != CV_8U)
    throw Error("segmentation scoring: labels must be 8-bit (0 pore, 1 SE, 2 CAM)");
  const cv::Rect region(offset, segmented.size());
  if ((region & cv::Rect(cv::Point(0, 0), truth.size())) != region)
    throw Error("segmentation scoring: segmented slice " + std::to_string(segmented.cols) + "x" +
                std::to_string(segmented.rows) + " at offset (" + std::to_string(offset.x) + ", " +
                std::to_string(offset.y) + ") does not fit in the truth slice " +
                std::to_string(truth.cols) + "x" + std::to_string(truth.rows));
  const cv::Mat t = truth(region);
  for (int y = 0; y < segmented.rows; ++y) {
    const uchar* s = segmented.ptr<uchar>(y);
    const uchar* tr = t.ptr<uchar>(y);
    for (int x = 0; x < segmented.cols; ++x) {
      if (s[x] >= kPhaseCount || tr[x] >= kPhaseCount)
        throw Error("segmentation scoring: label " + std::to_string(std::max(s[x], tr[x])) +
                    " found; expected 0 (pore), 1 (SE) or 2 (CAM)");
      ++confusion_[tr[x]][s[x]];
    }
  }
  ++slices_;
}

SegmentationScore SegmentationScorer::result() const {
  SegmentationScore score;
  long long total = 0, correct = 0;
  for (int t = 0; t < kPhaseCount; ++t)
    for (int s = 0; s < kPhaseCount; ++s) total += confusion_[t][s];
  for (int p = 0; p < kPhaseCount; ++p) {
    long long truthCount = 0, segmentedCount = 0;
    for (int q = 0; q < kPhaseCount; ++q) {
      truthCount += confusion_[p][q];
      segmentedCount += confusion_[q][p];
    }
    const long long intersection = confusion_[p][p];
    const long long unionCount = truthCount + segmentedCount - intersection;
    // A phase absent from both is perfectly segmented.
    score.iou[p] = unionCount ? double(intersection) / unionCount : 1.0;
    score.fractionTruth[p] = total ? double(truthCount) / total : 0;
    score.fractionSegmented[p] = total ? double(segmentedCount) / total : 0;
    correct += intersection;
    score.meanIou += score.iou[p] / kPhaseCount;
  }
  score.accuracy = total ? double(correct) / total : 0;
  score.pixels = total;
  score.slices = slices_;
  return score;
}

std::string formatShiftScore(const ShiftScore& s) {
  char line[160];
  std::snprintf(line, sizeof line, "registration: %d slices, RMS error %.3f px, max error %.3f px\n",
                s.slices, s.rmsError, s.maxError);
  return line;
}

std::string formatSegmentationScore(const SegmentationScore& s) {
  std::string out = "phase     IoU     fraction(truth)  fraction(segmented)\n";
  char line[160];
  for (int p = 0; p < kPhaseCount; ++p) {
    std::snprintf(line, sizeof line, "%-8s  %.4f  %.4f           %.4f\n", phaseName(p), s.iou[p],
                  s.fractionTruth[p], s.fractionSegmented[p]);
    out += line;
  }
  std::snprintf(line, sizeof line, "mean IoU %.4f, accuracy %.4f over %d slices (%lld px)\n", s.meanIou,
                s.accuracy, s.slices, s.pixels);
  return out + line;
}

MaskOverlap overlapWithRawMask(const cv::Mat& labels, int phaseValue, const cv::Mat& mask, int maskValue,
                               cv::Point2d origin, const std::string& maskName) {
  if (mask.type() != CV_8UC1) throw Error(maskName + ": expected a single-channel 8-bit mask");
  if (labels.type() != CV_8UC1) throw Error("labels: expected 8-bit labels");
  MaskOverlap o;
  for (int y = 0; y < mask.rows; ++y) {
    const uchar* m = mask.ptr<uchar>(y);
    const long ly = std::lround(y - origin.y);
    const bool rowInside = ly >= 0 && ly < labels.rows;
    const uchar* l = rowInside ? labels.ptr<uchar>(int(ly)) : nullptr;
    for (int x = 0; x < mask.cols; ++x) {
      const long lx = std::lround(x - origin.x);
      if (!rowInside || lx < 0 || lx >= labels.cols) {
        ++o.outside;
        continue;
      }
      ++o.counted;
      const bool truth = m[x] == maskValue, found = l[lx] == phaseValue;
      o.intersection += truth && found;
      o.unionPixels += truth || found;
    }
  }
  return o;
}

}  // namespace fibseg::measure
