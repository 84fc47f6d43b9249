// Data bar detection and the crop rectangle, on hand-made slices and on the phantom.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "fibseg/align/align.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/phantom/phantom.hpp"

namespace fibseg::align {
namespace {

// A noisy "image" of w x h with a bar of `barRows` dark rows carrying white text at the bottom.
cv::Mat sliceWithBar(int w, int h, int barRows, int depth = CV_8U) {
  cv::Mat image(h, w, CV_32F);
  cv::RNG rng(7);
  rng.fill(image, cv::RNG::NORMAL, 110, 20);
  cv::GaussianBlur(image, image, cv::Size(0, 0), 1.0);
  if (barRows > 0) {
    cv::Mat bar = image.rowRange(h - barRows, h);
    bar.setTo(12);
    cv::putText(bar, "WD 4.1 mm 2 kV", cv::Point(3, barRows - 3), cv::FONT_HERSHEY_SIMPLEX, 0.35,
                cv::Scalar(240), 1, cv::LINE_AA);
  }
  cv::Mat out;
  image.convertTo(out, depth, depth == CV_16U ? 257.0 : 1.0);
  return out;
}

TEST(DataBar, FoundExactlyOnThePhantom) {
  for (int bits : {8, 16}) {
    phantom::PhantomParams p;
    p.width = 256;
    p.height = 200;
    p.slices = 2;
    p.bitDepth = bits;
    const phantom::Phantom ph(p);
    ASSERT_GT(ph.dataBarRows(), 0);
    EXPECT_EQ(detectDataBarRows(ph.rawSlice(0)), ph.dataBarRows()) << bits << "-bit";
  }
}

TEST(DataBar, FoundOnHandMadeSlices) {
  EXPECT_EQ(detectDataBarRows(sliceWithBar(96, 64, 11)), 11);
  EXPECT_EQ(detectDataBarRows(sliceWithBar(96, 64, 11, CV_16U)), 11);
  EXPECT_EQ(detectDataBarRows(sliceWithBar(96, 64, 0)), 0);  // image down to the last row
}

TEST(DataBar, FrameLineAboveTheBarIsCutWithIt) {
  cv::Mat slice = sliceWithBar(96, 64, 10);
  slice.row(64 - 11).setTo(200);  // a bright separator line on top of the bar
  EXPECT_EQ(detectDataBarRows(slice), 11);
}

// A Zeiss bar: white with black text and a logo, a one-row black line on top, and under it a black
// line and one row of noise (as in real/zeiss-sem): all of it is cut.
TEST(DataBar, WhiteBarWithDarkTextAndLinesIsCut) {
  cv::Mat slice = sliceWithBar(120, 96, 0);
  const int barTop = 96 - 20;
  slice.rowRange(barTop, 96).setTo(255);
  slice.row(barTop).setTo(0);  // separator line
  cv::putText(slice.rowRange(barTop + 1, 94), "EHT = 5.00 kV", cv::Point(2, 12), cv::FONT_HERSHEY_SIMPLEX, 0.35,
              cv::Scalar(0), 1, cv::LINE_AA);
  cv::rectangle(slice, cv::Rect(95, barTop + 3, 20, 12), cv::Scalar(0), cv::FILLED);  // logo
  slice.row(94).setTo(0);
  cv::RNG rng(3);
  rng.fill(slice.row(95), cv::RNG::UNIFORM, 100, 200);  // the junk last row
  EXPECT_EQ(detectDataBarRows(slice), 20);
}

TEST(DataBar, FlatBottomThirdIsAnError) {
  cv::Mat slice = sliceWithBar(96, 64, 0);
  slice.rowRange(30, 64).setTo(0);
  EXPECT_THROW(detectDataBarRows(slice), Error);
}

TEST(DataBar, ModesFromParameters) {
  const cv::Mat slice = sliceWithBar(96, 64, 9);
  AlignParams p{};
  p.dataBarMode = DataBarMode::Auto;
  EXPECT_EQ(dataBarRows(slice, p), 9);
  p.dataBarMode = DataBarMode::None;
  EXPECT_EQ(dataBarRows(slice, p), 0);
  p.dataBarMode = DataBarMode::Rows;
  p.dataBarRows = 20;
  EXPECT_EQ(dataBarRows(slice, p), 20);
  p.dataBarRows = 64;
  EXPECT_THROW(dataBarRows(slice, p), Error);
}

// The metadata's figure (FEI DatabarHeight) wins over detection in auto mode, 0 included.
TEST(DataBar, MetadataHeightUsedInAutoMode) {
  const cv::Mat slice = sliceWithBar(96, 64, 9);
  AlignParams p{};
  p.dataBarMode = DataBarMode::Auto;
  EXPECT_EQ(dataBarRows(slice, p, 0), 0);
  EXPECT_EQ(dataBarRows(slice, p, 12), 12);
  EXPECT_EQ(dataBarRows(slice, p, std::nullopt), 9);
  EXPECT_THROW(dataBarRows(slice, p, 64), Error);
  p.dataBarMode = DataBarMode::None;
  EXPECT_EQ(dataBarRows(slice, p, 12), 0);
}

TEST(CropRect, FullFrameAboveTheBar) {
  EXPECT_EQ(cropRect({100, 80}, 10, {0, 0, 0, 0}), cv::Rect(0, 0, 100, 70));
  EXPECT_EQ(cropRect({100, 80}, 0, {0, 0, 0, 0}), cv::Rect(0, 0, 100, 80));
  // Width/height 0 run to the right edge / the bar.
  EXPECT_EQ(cropRect({100, 80}, 10, {20, 5, 0, 0}), cv::Rect(20, 5, 80, 65));
  EXPECT_EQ(cropRect({100, 80}, 10, {20, 5, 30, 40}), cv::Rect(20, 5, 30, 40));
}

TEST(CropRect, RoiOutsideTheImageIsAnError) {
  EXPECT_THROW(cropRect({100, 80}, 10, {90, 0, 20, 10}), Error);   // past the right edge
  EXPECT_THROW(cropRect({100, 80}, 10, {0, 60, 10, 15}), Error);   // into the data bar
  EXPECT_THROW(cropRect({100, 80}, 10, {120, 0, 0, 0}), Error);    // starts outside
  EXPECT_THROW(cropRect({100, 80}, 10, {-1, 0, 10, 10}), Error);
  EXPECT_THROW(cropRect({100, 80}, 80, {0, 0, 0, 0}), Error);      // bar leaves no image
  try {
    cropRect({100, 80}, 10, {90, 0, 20, 10});
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("align.roi"), std::string::npos) << what;
    EXPECT_NE(what.find("100 x 80"), std::string::npos) << what;
  }
}

TEST(RegistrationRect, DefaultsToTheRoiAndMayLieOutsideIt) {
  const cv::Rect roi = cropRect({100, 80}, 10, {0, 30, 0, 0});
  EXPECT_EQ(registrationRect({100, 80}, 10, roi, {}), roi);
  EXPECT_EQ(registrationRect({100, 80}, 10, roi, {0, 0, 0, 20}), cv::Rect(0, 0, 100, 20));  // above the ROI
  try {
    registrationRect({100, 80}, 10, roi, {0, 60, 0, 20});  // into the data bar
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("align.register_"), std::string::npos) << e.what();
  }
}

TEST(CropRect, SliceSmallerThanTheRoiIsAnError) {
  const cv::Rect rect = cropRect({100, 80}, 10, {10, 10, 60, 50});
  const cv::Mat small(50, 100, CV_8U, cv::Scalar(1));
  try {
    cropSlice(small, rect, "slice_0007.tif");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("slice_0007.tif"), std::string::npos) << e.what();
  }
  const cv::Mat big(80, 100, CV_8U, cv::Scalar(1));
  EXPECT_EQ(cropSlice(big, rect, "x").size(), cv::Size(60, 50));
}

}  // namespace
}  // namespace fibseg::align
