// The microscope's data bar and the crop rectangle.
//
// A data bar (FEI/Thermo, Zeiss, Tescan) is an overlay drawn by the acquisition software: a band
// of rows at one flat grey level carrying text, a scale bar and logos: dark with light text
// (FEI/Thermo, Tescan) or white with black text (Zeiss), often with a one-row line on top.
// Image rows never sit at one grey level: detector noise alone spreads them over several levels.
// So a row belongs to the bar when a large part of it lies within a few grey levels of the bar's
// background, which is read from the bottom row; text and scale bar cover the rest.
#include <algorithm>
#include <cmath>
#include <string>

#include "fibseg/align/align.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/core/image.hpp"

namespace fibseg::align {

namespace {

constexpr double kBackgroundTolerance = 3;  // grey levels, 8-bit scale: an overlay is flat
constexpr double kBarRowFraction = 0.3;     // a bar row is at least this much background
constexpr double kLineRowFraction = 0.9;    // a separator line: a row this flat at its own level
constexpr int kMaxGapRows = 3;              // rows of dense text allowed inside the bar
constexpr int kMaxLineRows = 3;             // a frame line above the bar, cut with it

std::string rectText(const cv::Rect& r) {
  return "(x " + std::to_string(r.x) + ", y " + std::to_string(r.y) + ", width " + std::to_string(r.width) +
         ", height " + std::to_string(r.height) + ")";
}

std::string sizeText(cv::Size s) { return std::to_string(s.width) + " x " + std::to_string(s.height); }

// Fraction of the row's pixels within the tolerance of `level` (8-bit scale).
double fractionNear(const cv::Mat& row8, double level) {
  int near = 0;
  const float* p = row8.ptr<float>();
  for (int x = 0; x < row8.cols; ++x) near += std::fabs(p[x] - level) <= kBackgroundTolerance;
  return double(near) / row8.cols;
}

double rowMedian(const cv::Mat& row8) {
  std::vector<float> v(row8.begin<float>(), row8.end<float>());
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

// A drawn line: a row almost all at one grey level (image rows never are).
bool isLine(const cv::Mat& row8) { return fractionNear(row8, rowMedian(row8)) >= kLineRowFraction; }

}  // namespace

int detectDataBarRows(const cv::Mat& slice) {
  bitDepthOf(slice, "the first slice (data bar detection)");
  cv::Mat image;
  slice.convertTo(image, CV_32F, 255.0 / maxGreyOf(slice));
  const int h = image.rows;

  // The bar's background: the level of the bottom row, or of one of the few above it when the
  // bottom rows are a line or junk (a Zeiss TIFF ends with a black line and one row of noise under
  // its white bar). Each candidate level is tried; the tallest bar wins.
  int top = h;  // first row of the bar
  for (int start = h - 1; start >= std::max(0, h - 1 - kMaxGapRows); --start) {
    const cv::Mat startRow = image.row(start);
    const double background = rowMedian(startRow);
    // The bottom row as before (half of it background); a row above junk must be drawn (flat).
    if (fractionNear(startRow, background) < (start == h - 1 ? 0.5 : kLineRowFraction)) continue;
    // A bar row: mostly background (text and logos cover the rest), or a flat line of its own
    // level (a frame or separator line, black on a white bar, white on a black one).
    auto isBarRow = [&](int y) {
      const cv::Mat row = image.row(y);
      return fractionNear(row, background) >= kBarRowFraction || isLine(row);
    };
    int first = start;
    for (int y = start - 1; y >= 0; --y) {
      if (isBarRow(y)) {
        first = y;
        continue;
      }
      if (first - y > kMaxGapRows) break;  // too many non-bar rows: the image starts below y's gap
    }
    top = std::min(top, first);
  }
  if (top == h) return 0;
  // A flat frame line often separates bar and image; it carries no image either.
  for (int i = 0; i < kMaxLineRows && top > 0; ++i) {
    if (!isLine(image.row(top - 1))) break;
    --top;
  }
  const int rows = h - top;
  if (rows > h / 3)
    throw Error("data bar detection: the bottom " + std::to_string(rows) + " of " + std::to_string(h) +
                " rows of the first slice look like a data bar (flat grey level); expected a bar of at "
                "most a third of the height. Set align.data_bar = rows and align.data_bar_rows, or "
                "align.data_bar = none.");
  return rows;
}

int dataBarRows(const cv::Mat& firstSlice, const AlignParams& params, std::optional<int> fromMetadata) {
  switch (params.dataBarMode) {
    case DataBarMode::None: return 0;
    case DataBarMode::Auto:
      if (fromMetadata) {
        if (*fromMetadata < 0 || *fromMetadata >= firstSlice.rows)
          throw Error("the first slice's metadata gives a data bar of " + std::to_string(*fromMetadata) +
                      " rows (DatabarHeight) in an image of " + std::to_string(firstSlice.rows) +
                      " rows; expected fewer. Set align.data_bar = rows or none.");
        return *fromMetadata;
      }
      return detectDataBarRows(firstSlice);
    case DataBarMode::Rows:
      if (params.dataBarRows < 0 || params.dataBarRows >= firstSlice.rows)
        throw Error("parameter align.data_bar_rows = " + std::to_string(params.dataBarRows) +
                    ": the first slice has " + std::to_string(firstSlice.rows) +
                    " rows; expected from 0 to " + std::to_string(firstSlice.rows - 1));
      return params.dataBarRows;
  }
  throw Error("align: unknown data bar mode");
}

cv::Rect cropRect(cv::Size sliceSize, int dataBarRows, const cv::Rect& roi, const std::string& parameter) {
  const cv::Rect image(0, 0, sliceSize.width, sliceSize.height - dataBarRows);
  if (dataBarRows < 0 || image.height <= 0)
    throw Error("align: data bar of " + std::to_string(dataBarRows) + " rows leaves no image in a slice of " +
                sizeText(sliceSize));
  if (roi.x < 0 || roi.y < 0 || roi.width < 0 || roi.height < 0)
    throw Error("parameter " + parameter + " " + rectText(roi) + ": expected x, y, width and height >= 0");
  cv::Rect rect = roi;
  if (rect.width == 0) rect.width = image.width - rect.x;
  if (rect.height == 0) rect.height = image.height - rect.y;
  if (rect.width <= 0 || rect.height <= 0 || (rect & image) != rect)
    throw Error("parameter " + parameter + " " + rectText(roi) + " lies outside the image: slices are " +
                sizeText(sliceSize) + (dataBarRows > 0 ? " with a data bar of " + std::to_string(dataBarRows) +
                                                             " rows, leaving " + sizeText(image.size())
                                                       : std::string()) +
                "; expected a rectangle inside " + rectText(image) + " (width/height 0 = to the edge)");
  return rect;
}

cv::Mat cropSlice(const cv::Mat& slice, const cv::Rect& rect, const std::string& sliceName) {
  if ((rect & cv::Rect(0, 0, slice.cols, slice.rows)) != rect)
    throw Error("slice " + sliceName + " is " + sizeText(slice.size()) + ", too small for the crop rectangle " +
                rectText(rect) + " (data bar and ROI from the first slice); expected every slice to be at least " +
                std::to_string(rect.x + rect.width) + " x " + std::to_string(rect.y + rect.height));
  return slice(rect);
}

cv::Rect registrationRect(cv::Size sliceSize, int dataBarRows, const cv::Rect& cropRect_, const cv::Rect& region) {
  if (region == cv::Rect()) return cropRect_;
  return cropRect(sliceSize, dataBarRows, region, "align.register_x/_y/_width/_height");
}

}  // namespace fibseg::align
