// Annotations as users paint them: a label PNG (0 unlabelled, 1 pore, 2 SE, 3 CAM) or strokes in
// the report's colours on black. Painting programs anti-alias brush edges; colours within a small
// distance of a report colour count as it, anything else is refused rather than guessed.
#include <opencv2/imgproc.hpp>

#include <array>
#include <cstdlib>

#include "fibseg/core/error.hpp"
#include "fibseg/learn/learn.hpp"

namespace fibseg::learn {

namespace {

struct PaintColour {
  std::array<int, 3> bgr;
  std::uint8_t code;
  const char* name;
};
// Report colours (RGB): white pore, blue (0,0,255) SE, orange (255,165,0) CAM; black unlabelled.
constexpr PaintColour kColours[] = {{{0, 0, 0}, 0, "black (unlabelled)"},
                                    {{255, 255, 255}, 1, "white (pore)"},
                                    {{255, 0, 0}, 2, "blue (SE)"},
                                    {{0, 165, 255}, 3, "orange (CAM)"}};
constexpr int kColourTolerance = 48;  // per channel, grey levels

}  // namespace

cv::Mat annotationFromImage(const cv::Mat& image, const std::string& where) {
  if (image.empty()) throw Error(where + ": empty annotation image; expected a label or colour PNG");
  if (image.depth() != CV_8U)
    throw Error(where + ": annotation is not 8-bit; expected an 8-bit label PNG (0 unlabelled, 1 pore, 2 SE, "
                        "3 CAM) or an 8-bit colour PNG in the report's colours");
  cv::Mat codes(image.size(), CV_8U);
  if (image.channels() == 1) {
    for (int y = 0; y < image.rows; ++y)
      for (int x = 0; x < image.cols; ++x) {
        const std::uint8_t v = image.at<std::uint8_t>(y, x);
        if (v > 3)
          throw Error(where + ": grey value " + std::to_string(v) + " at (x " + std::to_string(x) + ", y " +
                      std::to_string(y) + "); expected 0 unlabelled, 1 pore, 2 SE or 3 CAM (or a colour PNG "
                      "painted white = pore, blue = SE, orange = CAM)");
        codes.at<std::uint8_t>(y, x) = v;
      }
    return codes;
  }
  if (image.channels() != 3 && image.channels() != 4)
    throw Error(where + ": annotation has " + std::to_string(image.channels()) +
                " channels; expected grey, RGB or RGBA");
  const int channels = image.channels();
  long long refused = 0;
  cv::Point first(-1, -1);
  for (int y = 0; y < image.rows; ++y) {
    const std::uint8_t* p = image.ptr<std::uint8_t>(y);
    for (int x = 0; x < image.cols; ++x, p += channels) {
      if (channels == 4 && p[3] == 0) {  // fully transparent = not painted
        codes.at<std::uint8_t>(y, x) = 0;
        continue;
      }
      int code = -1;
      for (const auto& c : kColours) {
        if (std::abs(p[0] - c.bgr[0]) <= kColourTolerance && std::abs(p[1] - c.bgr[1]) <= kColourTolerance &&
            std::abs(p[2] - c.bgr[2]) <= kColourTolerance) {
          code = c.code;
          break;
        }
      }
      if (code < 0) {
        if (refused++ == 0) first = {x, y};
        continue;
      }
      codes.at<std::uint8_t>(y, x) = static_cast<std::uint8_t>(code);
    }
  }
  if (refused > 0) {
    const cv::Vec<std::uint8_t, 3> bgr(image.ptr<std::uint8_t>(first.y)[first.x * channels],
                                        image.ptr<std::uint8_t>(first.y)[first.x * channels + 1],
                                        image.ptr<std::uint8_t>(first.y)[first.x * channels + 2]);
    throw Error(where + ": " + std::to_string(refused) + " pixels have colours that are not annotation colours, " +
                "first at (x " + std::to_string(first.x) + ", y " + std::to_string(first.y) + "): RGB (" +
                std::to_string(bgr[2]) + "," + std::to_string(bgr[1]) + "," + std::to_string(bgr[0]) +
                "); expected black (unlabelled), white (pore), blue 0,0,255 (SE) or orange 255,165,0 (CAM) — "
                "paint with anti-aliasing off");
  }
  return codes;
}

}  // namespace fibseg::learn
