// The 3D view: each outer face of the block lands where the oblique projection puts it.
#include "fibseg/pipeline/block_view.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace fibseg::pipeline {
namespace {

TEST(BlockView, FacesCollectedFromSlicesAreTheOuterFaces) {
  // slice z holds value 10 z + (x == last column ? 1 : 0) + (y == 0 ? 2 : 0)
  const int slices = 5;
  BlockFaces faces(slices, cv::Size(8, 6), CV_8U);
  for (int z = 0; z < slices; ++z) {
    cv::Mat slice(6, 8, CV_8U, cv::Scalar(10 * z));
    slice.col(7) += 1;
    slice.row(0) += 2;
    faces.add(z, slice);
  }
  EXPECT_EQ(faces.front().at<uchar>(3, 3), 0);
  EXPECT_EQ(faces.top().size(), cv::Size(8, slices));
  EXPECT_EQ(faces.top().at<uchar>(4, 3), 42);   // row 0 of slice 4
  EXPECT_EQ(faces.side().size(), cv::Size(6, slices));
  EXPECT_EQ(faces.side().at<uchar>(2, 5), 21);  // last column of slice 2, row 5
}

TEST(BlockView, EachFaceIsDrawnWhereTheProjectionPutsIt) {
  const cv::Mat front(60, 80, CV_8UC3, cv::Scalar(0, 0, 255));  // red (BGR)
  const cv::Mat top(20, 80, CV_8UC3, cv::Scalar(0, 255, 0));    // green: 20 slices
  const cv::Mat side(20, 60, CV_8UC3, cv::Scalar(255, 0, 0));   // blue
  const cv::Mat view = renderBlock(front, top, side, 2.0, 400, true);
  // Depth 20 slices x 2 px = 40 px, receding at 30 degrees: 34.6 px right, 20 px up.
  const double dx = 40 * std::cos(M_PI / 6), dy = 40 * std::sin(M_PI / 6);
  EXPECT_NEAR(view.cols, 80 + dx + 4, 1.5);
  EXPECT_NEAR(view.rows, 60 + dy + 4, 1.5);
  const int left = 2, topEdge = 2 + int(std::round(dy));
  EXPECT_EQ(view.at<cv::Vec3b>(topEdge + 30, left + 40), cv::Vec3b(0, 0, 255));            // front
  EXPECT_EQ(view.at<cv::Vec3b>(topEdge - 10, left + 40 + 17), cv::Vec3b(0, 255, 0));       // top
  EXPECT_EQ(view.at<cv::Vec3b>(topEdge + 30, left + 80 + 17), cv::Vec3b(255, 0, 0));       // side
  EXPECT_EQ(view.at<cv::Vec3b>(2, 2), cv::Vec3b(255, 255, 255));                           // background
}

}  // namespace
}  // namespace fibseg::pipeline
