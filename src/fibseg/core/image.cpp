#include "fibseg/core/image.hpp"

#include "fibseg/core/error.hpp"

namespace fibseg {

const char* phaseName(int phase) {
  switch (phase) {
    case Pore: return "pore";
    case SolidElectrolyte: return "SE";
    case ActiveMaterial: return "CAM";
    default: return "unknown";
  }
}

int bitDepthOf(const cv::Mat& image, const std::string& what) {
  if (image.empty()) throw Error(what + ": image is empty");
  if (image.channels() != 1)
    throw Error(what + ": expected a single-channel (greyscale) image, found " +
                std::to_string(image.channels()) + " channels");
  if (image.depth() == CV_8U) return 8;
  if (image.depth() == CV_16U) return 16;
  throw Error(what + ": expected 8- or 16-bit unsigned pixels");
}

double maxGreyOf(const cv::Mat& image) { return image.depth() == CV_16U ? 65535.0 : 255.0; }

}  // namespace fibseg
