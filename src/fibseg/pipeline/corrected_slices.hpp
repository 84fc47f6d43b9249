#pragma once
// The aligned, corrected slices of a run, made again from the one greyscale stack it keeps
// (issue 27): aligned.tif (or cache/aligned.tif when aligned.tif is not an output) corrected with
// the brightness reference kept in cache/corrected.json. Correcting costs milliseconds a slice;
// a second stack of corrected pixels cost a write and a read of every slice and its disk space.
#include <filesystem>

#include <opencv2/core.hpp>

#include "fibseg/intensity/intensity.hpp"
#include "fibseg/pipeline/plan.hpp"

namespace fibseg::pipeline {

/// Where a run keeps its greyscale stack: plan.output/aligned.tif when that is an output
/// (align.write_aligned_stack, TIFF format), else plan.cacheFolder/aligned.tif.
std::filesystem::path greyStackPath(const RunPlan& plan);

/// What segmentation sees of an aligned slice: the run's intensity correction of it.
cv::Mat correctAligned(const cv::Mat& aligned, const intensity::BrightnessStats& reference,
                       const intensity::IntensityParams& params);

/// The corrected slices of a finished run folder, read from its grey stack, its
/// parameters_used.toml and cache/corrected.json. read() may be called from several threads.
class RunCorrectedSlices {
 public:
  /// Throws fibseg::Error naming what the folder lacks.
  explicit RunCorrectedSlices(const std::filesystem::path& runFolder);
  int pages() const { return pages_; }
  cv::Size size() const { return size_; }
  int bitDepth() const { return bitDepth_; }
  cv::Mat read(int z) const;

 private:
  std::filesystem::path greyStack_;
  intensity::BrightnessStats reference_;
  intensity::IntensityParams params_{};
  int pages_ = 0, bitDepth_ = 8;
  cv::Size size_;
};

/// Writes every corrected slice of `runFolder` to `path` (an ImageJ TIFF stack, uncompressed):
/// what `fibseg train --stack` and `fibseg predict` take. Returns the number of slices.
int writeCorrectedStack(const std::filesystem::path& runFolder, const std::filesystem::path& path);

}  // namespace fibseg::pipeline
