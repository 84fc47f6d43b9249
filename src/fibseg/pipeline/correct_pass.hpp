#pragma once
// Pass 2, alignment and correction of one slice: read, crop, move by minus its shift into the
// output area, correct the intensity (brightness matched to the reference, shading, curtaining),
// and count the grey levels Otsu will see. The reduction merges the counts into the stack's
// histogram (and its Otsu threshold) and writes brightness.csv and the aligned previews.
#include <vector>

#include "fibseg/pipeline/aligned_stack.hpp"
#include "fibseg/pipeline/block_view.hpp"
#include "fibseg/pipeline/plan.hpp"
#include "fibseg/pipeline/previews.hpp"
#include "fibseg/pipeline/register_pass.hpp"
#include "fibseg/segment/segment.hpp"

namespace fibseg::pipeline {

/// The registration's results as the correction tasks need them (outputRect: the shifts' common
/// or padded area, a global reduction over every shift).
AlignedStack startAlignedStack(const RunPlan& plan, const RegisterResult& registered);

struct CorrectedSlice {
  int z = 0;
  cv::Mat aligned, corrected;
  intensity::SliceBrightness brightness{};
  segment::GreyHistogram histogram{8};  // of what segmentation thresholds (denoised with otsu_scope = stack)
};

/// Slice z aligned and corrected; writes preview/grey_z.png on the preview step.
CorrectedSlice correctSlice(const RunPlan& plan, const AlignedStack& stack, const intensity::BrightnessStats& reference,
                            int z);

/// The reduction: histogram and its Otsu threshold into `stack`, brightness.csv,
/// preview/histogram.csv, view3d_grey.png and the aligned ortho previews.
void finishCorrection(const RunPlan& plan, AlignedStack& stack, const segment::GreyHistogram& histogram,
                      const OrthoSlices& ortho, const BlockFaces& faces);

}  // namespace fibseg::pipeline
