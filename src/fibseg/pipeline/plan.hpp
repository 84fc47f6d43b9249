#pragma once
// The plan of a run: everything the passes need, derived once from the parameters and the first
// slice, and the run cut into blocks of consecutive slices (the unit of work of a task, and of a
// Zarr chunk along z). The graph of a run (run_graph.hpp) is built from it.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "fibseg/align/align.hpp"
#include "fibseg/config/param_set.hpp"
#include "fibseg/core/phases.hpp"
#include "fibseg/intensity/denoise.hpp"
#include "fibseg/intensity/intensity.hpp"
#include "fibseg/io/slice_series.hpp"
#include "fibseg/learn/learn.hpp"
#include "fibseg/measure/label_file.hpp"
#include "fibseg/measure/metrics.hpp"
#include "fibseg/segment/notebook.hpp"
#include "fibseg/segment/segment.hpp"

namespace fibseg::pipeline {

/// The concrete things every pass needs, derived once from the parameters and the first slice.
struct RunPlan {
  std::filesystem::path input, output, cacheFolder;
  io::SliceSeries series;
  int slices = 0;
  double pixelSizeNm = 0, sliceThicknessNm = 0;
  align::AlignParams align;
  intensity::IntensityParams intensity;
  intensity::DenoiseParams denoise;  // what segmentation sees (not aligned.tif nor the cache)
  segment::SegmentParams segment;
  PhaseSet phases;
  bool classifier = false;
  bool notebook = false;  // segment.method = notebook: the original notebook's method
  segment::NotebookParams notebookParams;
  learn::LearnParams learn;
  std::optional<learn::Classifier> model;  // loaded up front: a wrong model fails before any work
  bool slicePngs = true, report = true;
  bool uncertaintyPngs = false;  // output.uncertainty_pngs (classifier only)
  bool omeZarr = false;    // output.format = ome-zarr: labels.zarr (+ aligned.zarr), else TIFF stacks
  int blockSlices = 16;   // slices per task block and per Zarr chunk along z: at most output.block_slices, even
  bool measure = true;  // measure.enabled: the metrics stage at the end
  measure::MetricsOptions metrics;
  int previewWidth = 512, previewStep = 1, previewSlice = 0;
  int dataBarRows = 0;
  cv::Rect cropRect;      // in raw slice pixels
  cv::Rect registerRect;  // in raw slice pixels: what registration compares
};

/// Slices [first, end) of one task.
struct Block {
  int index = 0, first = 0, end = 0;
  int size() const { return end - first; }
};

/// Reads slice 0 and the model (if any); throws fibseg::Error for bad input or parameters before
/// any output is written. `plan.output` is output.folder (the executor points it at the staging folder).
RunPlan makePlan(const config::ParamSet& params);

/// The run's slices cut into blocks of plan.blockSlices (the last one shorter).
std::vector<Block> blocksOf(const RunPlan& plan);

/// The run's registration chains: fixed by the stack and the parameters alone, so the local and
/// the distributed run (and any number of threads or workers) give the same shifts.
std::vector<align::Chain> registrationChainsOf(const RunPlan& plan);

/// Slice spacing in slice-plane pixels, for the 3D views: 1 when the sizes are unknown.
double depthPerSlice(const RunPlan& plan);

/// "labels_0007.png".
std::string numbered(const std::string& stem, int z);

/// The preview pictures the report shows at most (its slider).
constexpr int kMaxPreviewSlices = 100;

}  // namespace fibseg::pipeline
