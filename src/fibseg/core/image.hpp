#pragma once
// Slices are single-channel cv::Mat, 8-bit (CV_8U) or 16-bit (CV_16U) as read; labels are CV_8U
// (0 pore, 1 SE, 2 CAM). These helpers state and check those conventions in one place.
#include <opencv2/core.hpp>
#include <cstdint>
#include <string>

namespace fibseg {

enum Phase : std::uint8_t { Pore = 0, SolidElectrolyte = 1, ActiveMaterial = 2 };
inline constexpr int kPhaseCount = 3;
const char* phaseName(int phase);

/// 8 or 16; throws for any other depth or channel count, naming `what` (a file or slice).
int bitDepthOf(const cv::Mat& image, const std::string& what);

/// Largest grey value of a slice's type: 255 or 65535.
double maxGreyOf(const cv::Mat& image);

}  // namespace fibseg
