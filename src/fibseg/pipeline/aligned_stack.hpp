#pragma once
// What the registration and correction passes produce and segmentation needs: the global
// reductions' results (shifts, brightness reference, output area, grey histogram and its Otsu
// threshold). Saved beside the cache (--from segment) and handed to every segmentation task.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fibseg/align/align.hpp"
#include "fibseg/intensity/intensity.hpp"

namespace fibseg::pipeline {

/// What passes 1-2 produce and pass 3 (or a later `--from segment`) needs; saved as the cache.
struct AlignedStack {
  std::vector<align::SliceTransform> transforms;
  cv::Point2d comparisonOffset;  // removed from every comparison by the registration (px)
  cv::Rect outputRect;  // in the cropped slice 0's frame
  std::vector<intensity::SliceBrightness> brightness;
  std::vector<std::uint64_t> histogram;  // grey levels of the corrected slices
  int stackOtsuThreshold = 0;            // Otsu of that histogram (segment.otsu_scope = stack)
  int bitDepth = 8;
  // The brightness reference every slice was matched to: with it the corrected slices are made
  // again from the aligned ones (corrected_slices.hpp), so the cache keeps no corrected pixels.
  intensity::BrightnessStats reference;
  bool hasReference = false;  // false in a cache of an earlier version (which kept corrected.tif)
};

nlohmann::json toJson(const AlignedStack& stack, const std::string& fingerprint, const std::string& parameters);
AlignedStack alignedStackFromJson(const nlohmann::json& j);

}  // namespace fibseg::pipeline
