#pragma once
// A 3D picture of a volume: the block seen from the front, above and right, showing its three
// outer faces (the first slice in front, the top row of every slice on top, the right column of
// every slice on the side), as the original notebook's Figure 4 shows a segmented electrode.
// The faces are collected while slices stream past, so no volume is held in memory.
#include <opencv2/core.hpp>

namespace fibseg::pipeline {

class BlockFaces {
 public:
  BlockFaces() = default;
  BlockFaces(int slices, cv::Size sliceSize, int type);
  /// From faces already collected (a task's record).
  BlockFaces(cv::Mat front, cv::Mat top, cv::Mat side) : front_(front), top_(top), side_(side) {}
  /// Thread-safe for distinct z.
  void add(int z, const cv::Mat& slice);
  /// Rows z0.. (and the front, from the block holding slice 0) from a block's own BlockFaces.
  void place(int z0, const BlockFaces& block);
  bool empty() const { return top_.empty(); }
  const cv::Mat& front() const { return front_; }  // slice 0
  const cv::Mat& top() const { return top_; }      // row z = row 0 of slice z  (slices x width)
  const cv::Mat& side() const { return side_; }    // row z = last column of slice z (slices x height)

 private:
  cv::Mat front_, top_, side_;
};

/// The block drawn in oblique projection (depth receding up and to the right at 30 degrees), CV_8UC3
/// BGR. Faces are BGR images (colour them first: labels with their phase colours, grey as grey);
/// `depthPerSlice` is how many slice-plane pixels one slice spacing is (slice thickness / pixel
/// size; 1 when unknown); `width` scales the front face to at most that many px across. Labels are
/// resampled nearest-neighbour (`nearest`) so no colour between two phases appears.
cv::Mat renderBlock(const cv::Mat& frontBgr, const cv::Mat& topBgr, const cv::Mat& sideBgr, double depthPerSlice,
                    int width, bool nearest);

}  // namespace fibseg::pipeline
