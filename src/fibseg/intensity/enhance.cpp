// Light enhancement: contrast-limited adaptive histogram equalisation (CLAHE) spreads the grey
// levels of each tile (clip limit caps how much noise it may amplify), then a gamma curve lifts
// (gamma < 1) or presses down (gamma > 1) the dark phases. Both are monotone per tile / globally,
// so they help the eye and thresholds without swapping the order of phases locally.
#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <string>

#include "fibseg/core/error.hpp"
#include "fibseg/core/image.hpp"
#include "fibseg/intensity/intensity.hpp"

namespace fibseg::intensity {

cv::Mat enhanceContrast(const cv::Mat& slice, const EnhanceParams& params) {
  const int depth = bitDepthOf(slice, "light enhancement");
  cv::Mat out = slice.clone();
  if (params.clahe) {
    if (!(params.claheClipLimit > 0))
      throw Error("light enhancement: CLAHE clip limit " + std::to_string(params.claheClipLimit) + " (expected > 0)");
    if (params.claheTileSize < 8)
      throw Error("light enhancement: CLAHE tile size " + std::to_string(params.claheTileSize) + " (expected >= 8 px)");
    const cv::Size tiles(std::max(1, int(std::lround(double(slice.cols) / params.claheTileSize))),
                         std::max(1, int(std::lround(double(slice.rows) / params.claheTileSize))));
    cv::createCLAHE(params.claheClipLimit, tiles)->apply(slice, out);
  }
  if (params.gamma != 1.0) {
    if (!(params.gamma > 0)) throw Error("light enhancement: gamma " + std::to_string(params.gamma) + " (expected > 0)");
    const int levels = depth == 8 ? 256 : 65536;
    const double maxGrey = levels - 1;
    if (depth == 8) {
      cv::Mat lut(1, 256, CV_8U);
      for (int g = 0; g < 256; ++g) lut.at<uchar>(g) = cv::saturate_cast<uchar>(maxGrey * std::pow(g / maxGrey, params.gamma));
      cv::LUT(out, lut, out);
    } else {
      std::vector<ushort> lut(levels);
      for (int g = 0; g < levels; ++g) lut[g] = cv::saturate_cast<ushort>(maxGrey * std::pow(g / maxGrey, params.gamma));
      for (int y = 0; y < out.rows; ++y) {
        ushort* row = out.ptr<ushort>(y);
        for (int x = 0; x < out.cols; ++x) row[x] = lut[row[x]];
      }
    }
  }
  return out;
}

}  // namespace fibseg::intensity
