// Annotations as users paint them: a grey PNG (0 unpainted, phase index + 1) or strokes in the
// phases' colours on black. Painting programs anti-alias brush edges; colours within a small
// distance of a phase colour count as it, anything else is refused rather than guessed.
#include <opencv2/imgproc.hpp>

#include <array>
#include <cstdlib>

#include "fibseg/core/error.hpp"
#include "fibseg/learn/learn.hpp"

namespace fibseg::learn {

namespace {

constexpr int kColourTolerance = 48;  // per channel, grey levels

std::string rgbText(const std::array<std::uint8_t, 3>& rgb) {
  return std::to_string(rgb[0]) + "," + std::to_string(rgb[1]) + "," + std::to_string(rgb[2]);
}

std::string greyCodes(const PhaseSet& phases) {
  std::string text = "0 unpainted";
  for (int p = 0; p < phases.count(); ++p) text += ", " + std::to_string(p + 1) + " " + phases.names[p];
  return text;
}

std::string colourCodes(const PhaseSet& phases) {
  std::string text = "black (unpainted)";
  for (int p = 0; p < phases.count(); ++p) text += ", " + rgbText(phases.coloursRgb[p]) + " (" + phases.names[p] + ")";
  return text;
}

bool near(const std::uint8_t* bgr, const std::array<std::uint8_t, 3>& rgb) {
  return std::abs(bgr[0] - rgb[2]) <= kColourTolerance && std::abs(bgr[1] - rgb[1]) <= kColourTolerance &&
         std::abs(bgr[2] - rgb[0]) <= kColourTolerance;
}

}  // namespace

cv::Mat annotationFromImage(const cv::Mat& image, const std::string& where, const PhaseSet& phases) {
  const int n = phases.count();
  if (image.empty()) throw Error(where + ": empty annotation image; expected a grey or colour PNG");
  if (image.depth() != CV_8U)
    throw Error(where + ": annotation is not 8-bit; expected an 8-bit grey PNG (" + greyCodes(phases) +
                ") or an 8-bit colour PNG in the phase colours");
  cv::Mat codes(image.size(), CV_8U);
  if (image.channels() == 1) {
    for (int y = 0; y < image.rows; ++y)
      for (int x = 0; x < image.cols; ++x) {
        const std::uint8_t v = image.at<std::uint8_t>(y, x);
        if (v > n)
          throw Error(where + ": grey value " + std::to_string(v) + " at (x " + std::to_string(x) + ", y " +
                      std::to_string(y) + "); expected " + greyCodes(phases) +
                      " (or a colour PNG painted in phases.colours)");
        codes.at<std::uint8_t>(y, x) = v;
      }
    return codes;
  }
  if (image.channels() != 3 && image.channels() != 4)
    throw Error(where + ": annotation has " + std::to_string(image.channels()) +
                " channels; expected grey, RGB or RGBA");
  // Black means unpainted, so a phase colour near black could not be told from it.
  for (int p = 0; p < n; ++p)
    if (near(std::array<std::uint8_t, 3>{0, 0, 0}.data(), phases.coloursRgb[p]))
      throw Error(where + ": phase " + phases.names[p] + " has colour " + rgbText(phases.coloursRgb[p]) +
                  ", too close to black (unpainted) to paint with; use a grey annotation (" + greyCodes(phases) +
                  ") or another colour in phases.colours");
  const int channels = image.channels();
  long long refused = 0;
  cv::Point first(-1, -1);
  for (int y = 0; y < image.rows; ++y) {
    const std::uint8_t* px = image.ptr<std::uint8_t>(y);
    for (int x = 0; x < image.cols; ++x, px += channels) {
      codes.at<std::uint8_t>(y, x) = 0;
      if (channels == 4 && px[3] == 0) continue;  // fully transparent = not painted
      if (near(px, {0, 0, 0})) continue;
      int code = -1, best = 1 << 30;
      for (int p = 0; p < n; ++p) {  // the nearest phase colour within the tolerance
        const auto& c = phases.coloursRgb[p];
        if (!near(px, c)) continue;
        const int d = std::abs(px[0] - c[2]) + std::abs(px[1] - c[1]) + std::abs(px[2] - c[0]);
        if (d < best) best = d, code = p + 1;
      }
      if (code < 0) {
        if (refused++ == 0) first = {x, y};
        continue;
      }
      codes.at<std::uint8_t>(y, x) = static_cast<std::uint8_t>(code);
    }
  }
  if (refused > 0) {
    const std::uint8_t* px = image.ptr<std::uint8_t>(first.y) + first.x * channels;
    throw Error(where + ": " + std::to_string(refused) + " pixels have colours that are not phase colours, " +
                "first at (x " + std::to_string(first.x) + ", y " + std::to_string(first.y) + "): RGB (" +
                std::to_string(px[2]) + "," + std::to_string(px[1]) + "," + std::to_string(px[0]) + "); expected " +
                colourCodes(phases) + " (phases.colours) - paint with anti-aliasing off");
  }
  return codes;
}

}  // namespace fibseg::learn
