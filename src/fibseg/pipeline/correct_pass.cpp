#include "fibseg/pipeline/correct_pass.hpp"

#include <opencv2/imgproc.hpp>

#include <cstdio>

#include "fibseg/core/atomic_file.hpp"
#include "fibseg/io/png.hpp"

namespace fibseg::pipeline {

AlignedStack startAlignedStack(const RunPlan& plan, const RegisterResult& registered) {
  AlignedStack stack;
  stack.transforms = registered.transforms;
  stack.comparisonOffset = registered.comparisonOffset;
  stack.outputRect = align::outputRect(align::shiftsOf(registered.transforms), plan.cropRect.size(), plan.align.crop);
  stack.bitDepth = plan.series.bitDepth();
  stack.brightness.resize(plan.slices);
  stack.reference = registered.reference;
  stack.hasReference = true;
  return stack;
}

CorrectedSlice correctSlice(const RunPlan& plan, const AlignedStack& stack, const intensity::BrightnessStats& reference,
                            int z) {
  const cv::Mat raw = plan.series.read(z);
  const cv::Mat cropped = align::cropSlice(raw, plan.cropRect, plan.series.sliceName(z));
  CorrectedSlice item;
  item.z = z;
  item.aligned = align::applyShift(cropped, stack.transforms[z].shift, stack.outputRect);
  item.histogram = segment::GreyHistogram(stack.bitDepth);
  auto result = intensity::correctIntensity(item.aligned, reference, plan.intensity);
  item.corrected = std::move(result.image);
  item.brightness = result.brightness;
  // Stack-wide Otsu thresholds what segmentation sees: the denoised slices.
  item.histogram.add(plan.segment.otsuScope == segment::OtsuScope::Stack ? intensity::denoise(item.corrected, plan.denoise)
                                                                         : item.corrected);
  if (z % plan.previewStep == 0)
    io::writePng(plan.output / "preview" / numbered("grey", z), previewImage(item.corrected, plan.previewWidth));
  return item;
}

namespace {

/// view3d_grey.png: the aligned, corrected stack as a block (8-bit grey shown as grey).
void writeGreyBlock(const RunPlan& plan, const BlockFaces& faces) {
  const auto bgr = [](const cv::Mat& face) {
    cv::Mat eight, out;
    if (face.depth() == CV_16U) face.convertTo(eight, CV_8U, 1.0 / 257);
    else eight = face;
    cv::cvtColor(eight, out, cv::COLOR_GRAY2BGR);
    return out;
  };
  io::writePng(plan.output / "view3d_grey.png", renderBlock(bgr(faces.front()), bgr(faces.top()), bgr(faces.side()),
                                                            depthPerSlice(plan), plan.previewWidth, false));
}

void writeBrightnessAndHistogram(const RunPlan& plan, const AlignedStack& stack) {
  std::string csv = "slice,median_before,p05_before,p95_before,median_after,p05_after,p95_after\n";
  char row[256];
  for (int z = 0; z < plan.slices; ++z) {
    const auto& b = stack.brightness.at(z);
    std::snprintf(row, sizeof row, "%d,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f\n", z, b.medianBefore, b.p05Before,
                  b.p95Before, b.medianAfter, b.p05After, b.p95After);
    csv += row;
  }
  writeTextFile(plan.output / "brightness.csv", csv);

  std::string histogram = "grey,count\n";
  for (std::size_t g = 0; g < stack.histogram.size(); ++g)
    if (stack.histogram[g]) histogram += std::to_string(g) + "," + std::to_string(stack.histogram[g]) + "\n";
  writeTextFile(plan.output / "preview" / "histogram.csv", histogram);
}

}  // namespace

void finishCorrection(const RunPlan& plan, AlignedStack& stack, const segment::GreyHistogram& histogram,
                      const OrthoSlices& ortho, const BlockFaces& faces) {
  stack.histogram = histogram.counts();
  stack.stackOtsuThreshold = segment::otsuThreshold(histogram);
  writeGreyBlock(plan, faces);
  io::writePng(plan.output / "preview" / "ortho_xz_aligned.png", previewImage(ortho.xz(), plan.previewWidth));
  io::writePng(plan.output / "preview" / "ortho_yz_aligned.png", previewImage(ortho.yz(), plan.previewWidth));
  writeBrightnessAndHistogram(plan, stack);
}

}  // namespace fibseg::pipeline
