#pragma once
// Pass 3, segmentation of one corrected slice (classical, notebook or classifier), its phase
// fractions and its pictures (segmented/ PNGs, previews). The reduction merges the fractions
// (phase_fractions.csv) and writes the label previews; the slice PNGs appear at once.
#include <filesystem>
#include <optional>
#include <vector>

#include "fibseg/pipeline/aligned_stack.hpp"
#include "fibseg/pipeline/block_view.hpp"
#include "fibseg/pipeline/plan.hpp"
#include "fibseg/pipeline/previews.hpp"

namespace fibseg::pipeline {

/// What every slice's segmentation shares.
struct SegmentContext {
  int stackThreshold = -1;     // the stack's Otsu threshold (otsu_scope = stack), else -1
  bool probabilities = false;  // the classifier's probability volumes are written
  bool uncertainty = false;    // output.uncertainty_pngs: segmented/uncertainty_NNNN.png and the regions
  std::filesystem::path pngFolder;  // segmented.partial/, renamed to segmented/ at the end
};
SegmentContext segmentContext(const RunPlan& plan, const AlignedStack& stack);

/// Empty per-slice list (classifier), one (stack) or one per slice: what run.json records.
std::vector<int> emptyOtsuThresholds(const RunPlan& plan, const AlignedStack& stack);

struct SegmentedSlice {
  int z = 0;
  cv::Mat labels;      // phase indices
  cv::Mat labelImage;  // the user's grey values (labels.tif)
  std::vector<cv::Mat> probabilities;  // 8-bit, per phase (classifier, when asked)
  segment::PhaseFractions fractions;
  int otsuThreshold = -1;  // this slice's own threshold (otsu_scope = slice, notebook), else -1
  // output.uncertainty_pngs, on the slices the report shows (uncertaintyReportSlices): the least
  // certain windows and the slice's mean uncertainty (-1 elsewhere).
  std::vector<learn::UncertainRegion> leastCertain;
  double meanUncertainty = -1;
};

/// The slices whose least certain regions the report shows: the first, middle and last.
bool isUncertaintyReportSlice(const RunPlan& plan, int z);
/// uncertainty_regions.csv: slice, rank, x, y, width, height (px), mean_uncertainty (0..1) of each
/// window, and the slice's mean, from the slices that have them.
void writeUncertaintyRegions(const RunPlan& plan, const std::vector<SegmentedSlice>& slices);

/// Segments slice z (`slice`: corrected; `prediction`: made in slice order by a classifier with z
/// context, else none) and writes its PNGs.
SegmentedSlice segmentSlice(const RunPlan& plan, const SegmentContext& context, int z, const cv::Mat& slice,
                            std::optional<learn::Prediction> prediction = std::nullopt);

/// What the classifier sees of a corrected slice (denoised when it was trained so).
cv::Mat asTrained(const RunPlan& plan, const cv::Mat& slice);

/// The reduction: view3d_labels.png, the ortho label previews, segmented.partial -> segmented.
void finishSegmentation(const RunPlan& plan, const SegmentContext& context, const OrthoSlices& ortho,
                        const BlockFaces& faces);

/// phase_fractions.csv: one column per phase, headed by its key, then a total row.
void writeFractions(const RunPlan& plan, const std::vector<segment::PhaseFractions>& fractions);

}  // namespace fibseg::pipeline
