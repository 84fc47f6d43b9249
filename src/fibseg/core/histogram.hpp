#pragma once
// Counting grey levels of 8-bit images fast: the plain `++counts[pixel]` loop waits on its own
// previous increment whenever neighbouring pixels share a level (labels, flat regions), so it
// runs at the store-to-load latency, one pixel every few cycles. Implemented in histogram.cpp.
#include <opencv2/core.hpp>

#include <cstdint>
#include <span>

namespace fibseg {

/// counts[v] += number of pixels of value v, for a CV_8U image (any size, continuous or not).
/// Exact: the same counts as the plain loop.
void addCounts8u(const cv::Mat& image, std::span<std::uint64_t, 256> counts);

}  // namespace fibseg
