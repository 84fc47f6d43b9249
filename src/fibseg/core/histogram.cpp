#include "fibseg/core/histogram.hpp"

#include <array>

#include "fibseg/core/error.hpp"

namespace fibseg {

void addCounts8u(const cv::Mat& image, std::span<std::uint64_t, 256> counts) {
  if (image.type() != CV_8U) throw Error("grey-level counts: expected an 8-bit single-channel image");
  // Four sub-histograms, one per pixel position mod 4, so consecutive pixels of the same level
  // go to different counters; 32-bit counters, emptied before they could overflow.
  constexpr std::size_t kFlushEvery = std::size_t(1) << 30;
  std::array<std::array<std::uint32_t, 256>, 4> part{};
  std::size_t since = 0;
  const auto flush = [&] {
    for (const auto& p : part)
      for (int v = 0; v < 256; ++v) counts[v] += p[v];
    for (auto& p : part) p.fill(0);
    since = 0;
  };
  for (int y = 0; y < image.rows; ++y) {
    const std::uint8_t* row = image.ptr<std::uint8_t>(y);
    const int n = image.cols;
    int x = 0;
    for (; x + 4 <= n; x += 4) {
      ++part[0][row[x]];
      ++part[1][row[x + 1]];
      ++part[2][row[x + 2]];
      ++part[3][row[x + 3]];
    }
    for (; x < n; ++x) ++part[0][row[x]];
    since += std::size_t(n);
    if (since >= kFlushEvery) flush();
  }
  flush();
}

}  // namespace fibseg
