#include "fibseg/pipeline/block_view.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "fibseg/core/error.hpp"

namespace fibseg::pipeline {

BlockFaces::BlockFaces(int slices, cv::Size size, int type)
    : front_(size, type, cv::Scalar(0)), top_(slices, size.width, type, cv::Scalar(0)),
      side_(slices, size.height, type, cv::Scalar(0)) {}

void BlockFaces::add(int z, const cv::Mat& slice) {
  if (top_.empty() || z < 0 || z >= top_.rows) return;
  if (z == 0) slice.copyTo(front_);
  slice.row(0).copyTo(top_.row(z));
  cv::Mat column = slice.col(slice.cols - 1).t();
  column.copyTo(side_.row(z));
}

void BlockFaces::place(int z0, const BlockFaces& block) {
  if (z0 == 0) block.front_.copyTo(front_);
  block.top_.copyTo(top_.rowRange(z0, z0 + block.top_.rows));
  block.side_.copyTo(side_.rowRange(z0, z0 + block.side_.rows));
}

namespace {

/// Draws `face` (rows x cols) into `canvas` so that its corners (0,0), (cols,0), (0,rows) land on
/// `origin`, `origin + alongCols`, `origin + alongRows`.
void drawFace(cv::Mat& canvas, const cv::Mat& face, cv::Point2f origin, cv::Point2f alongCols, cv::Point2f alongRows,
              bool nearest) {
  const cv::Point2f from[3] = {{0, 0}, {float(face.cols), 0}, {0, float(face.rows)}};
  const cv::Point2f to[3] = {origin, origin + alongCols, origin + alongRows};
  const cv::Mat warp = cv::getAffineTransform(from, to);
  cv::Mat warped, mask;
  const int interpolation = nearest ? cv::INTER_NEAREST : cv::INTER_LINEAR;
  cv::warpAffine(face, warped, warp, canvas.size(), interpolation, cv::BORDER_CONSTANT);
  cv::warpAffine(cv::Mat(face.size(), CV_8U, cv::Scalar(255)), mask, warp, canvas.size(), cv::INTER_NEAREST,
                 cv::BORDER_CONSTANT);
  warped.copyTo(canvas, mask);
  const cv::Point corners[4] = {to[0], to[1], to[1] + (to[2] - to[0]), to[2]};
  cv::polylines(canvas, std::vector<cv::Point>(corners, corners + 4), true, cv::Scalar(40, 40, 40), 1, cv::LINE_AA);
}

}  // namespace

cv::Mat renderBlock(const cv::Mat& front, const cv::Mat& top, const cv::Mat& side, double depthPerSlice, int width,
                    bool nearest) {
  if (front.empty() || top.rows != side.rows || top.cols != front.cols || side.cols != front.rows)
    throw Error("3D view: the block's faces do not fit together (front " + std::to_string(front.cols) + " x " +
                std::to_string(front.rows) + ", top " + std::to_string(top.cols) + " x " + std::to_string(top.rows) +
                ", side " + std::to_string(side.cols) + " x " + std::to_string(side.rows) + ")");
  const double scale = std::min(1.0, double(width) / front.cols);
  const float w = float(front.cols * scale), h = float(front.rows * scale);
  const float depth = float(top.rows * std::max(depthPerSlice, 1e-3) * scale);
  const float angle = float(std::numbers::pi / 6);
  const cv::Point2f recede(depth * std::cos(angle), -depth * std::sin(angle));
  const int margin = 2;
  cv::Mat canvas(int(std::ceil(h - recede.y)) + 2 * margin, int(std::ceil(w + recede.x)) + 2 * margin, CV_8UC3,
                 cv::Scalar(255, 255, 255));
  const cv::Point2f frontTopLeft(margin, margin - recede.y);
  // The side (x = last column): its rows run into the depth, its columns down the image rows.
  drawFace(canvas, side, frontTopLeft + cv::Point2f(w, 0), cv::Point2f(0, h), recede, nearest);
  // The top (y = 0): its columns run along x, its rows into the depth.
  drawFace(canvas, top, frontTopLeft, cv::Point2f(w, 0), recede, nearest);
  drawFace(canvas, front, frontTopLeft, cv::Point2f(w, 0), cv::Point2f(0, h), nearest);
  return canvas;
}

}  // namespace fibseg::pipeline
