#include "fibseg/pipeline/previews.hpp"

#include <opencv2/imgproc.hpp>

#include "fibseg/core/area_resize.hpp"

namespace fibseg::pipeline {

cv::Mat previewImage(const cv::Mat& slice, int width, bool nearest) {
  cv::Mat small;
  if (slice.cols > width) {
    const int height = std::max(1, int(std::lround(double(slice.rows) * width / slice.cols)));
    if (nearest) cv::resize(slice, small, cv::Size(width, height), 0, 0, cv::INTER_NEAREST);
    else small = resizeArea(slice, cv::Size(width, height));  // INTER_AREA's pixels, faster on 8-bit
  } else {
    small = slice;
  }
  if (small.depth() == CV_8U) return small.clone();
  cv::Mat eight;
  small.convertTo(eight, CV_8U, 1.0 / 257.0);
  return eight;
}

OrthoSlices::OrthoSlices(int slices, cv::Size size, int type)
    : xz_(slices, size.width, type, cv::Scalar(0)), yz_(slices, size.height, type, cv::Scalar(0)) {}

void OrthoSlices::place(int z0, const cv::Mat& xzRows, const cv::Mat& yzRows) {
  xzRows.copyTo(xz_.rowRange(z0, z0 + xzRows.rows));
  yzRows.copyTo(yz_.rowRange(z0, z0 + yzRows.rows));
}

void OrthoSlices::add(int z, const cv::Mat& slice) {
  if (xz_.empty() || z < 0 || z >= xz_.rows) return;
  slice.row(slice.rows / 2).copyTo(xz_.row(z));
  cv::Mat column = slice.col(slice.cols / 2).t();
  column.copyTo(yz_.row(z));
}

}  // namespace fibseg::pipeline
