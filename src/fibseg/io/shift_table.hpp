#pragma once
// Per-slice shift tables as CSV: the pipeline's transforms.csv (slice,name,dx,dy,peak,flagged)
// and the phantom's truth_shifts.csv (slice,dx,dy). Shift = content displacement relative to
// slice 0, px.
#include <opencv2/core.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace fibseg::io {

/// Reads columns "dx" and "dy" (found by header name) of a shift table, one row per slice in
/// order of the "slice" column, which must run 0, 1, 2, ...
std::vector<cv::Point2d> readShiftTable(const std::filesystem::path& path);

/// Writes slice,dx,dy rows (atomically).
void writeShiftTable(const std::filesystem::path& path, const std::vector<cv::Point2d>& shifts);

}  // namespace fibseg::io
