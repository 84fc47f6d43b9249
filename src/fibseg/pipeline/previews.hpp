#pragma once
// Small images for the report, made while the slices stream past: downsampled 8-bit copies of
// slices and orthogonal re-slices (XZ: the middle row of every slice stacked; YZ: the middle
// column), which show alignment and segmentation through the depth of the volume at a glance.
#include <opencv2/core.hpp>

namespace fibseg::pipeline {

/// 8-bit copy of `slice` at most `width` px wide. Grey: area-averaged, 16-bit scaled by 1/257;
/// labels (`nearest`): nearest neighbour, values kept.
cv::Mat previewImage(const cv::Mat& slice, int width, bool nearest = false);

/// Collects the middle row and column of each slice of a stack into XZ and YZ images.
class OrthoSlices {
 public:
  OrthoSlices() = default;
  OrthoSlices(int slices, cv::Size sliceSize, int type);
  /// Thread-safe for distinct z.
  void add(int z, const cv::Mat& slice);
  /// Rows z0.. from a block's own OrthoSlices (a task's): the reduction of a distributed run.
  void place(int z0, const cv::Mat& xzRows, const cv::Mat& yzRows);
  bool empty() const { return xz_.empty(); }
  cv::Mat xz() const { return xz_; }
  cv::Mat yz() const { return yz_; }

 private:
  cv::Mat xz_, yz_;
};

}  // namespace fibseg::pipeline
