#pragma once
// Where a volume of the run goes: a TIFF stack (labels.tif, aligned.tif) or an OME-Zarr group
// (labels.zarr, aligned.zarr), per output.format. The local executor appends slices in order
// (a Zarr volume holds one block of slices until its chunks are whole); a task writes its block
// at once (Zarr: its own chunks; TIFF: a block file the finish step joins in order).
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "fibseg/io/ome_zarr.hpp"
#include "fibseg/io/tiff.hpp"
#include "fibseg/pipeline/output_folder.hpp"
#include "fibseg/pipeline/plan.hpp"

namespace fibseg::pipeline {

/// One volume of the run: its name ("labels", "aligned"), size and how it is stored.
struct VolumeSpec {
  std::string name;
  int width = 0, height = 0, bitDepth = 8;
  bool labels = false;  // label values: deflate TIFF, nearest-neighbour levels, image-label metadata
  std::filesystem::path tiff;  // set: always this TIFF stack, whatever output.format (the run's grey stack in cache/)
};

class StackOutput {
 public:
  virtual ~StackOutput() = default;
  virtual void append(const cv::Mat& slice) = 0;
  virtual void finish() = 0;
};

/// `plan.output`/NAME.tif or NAME.zarr (created; a Zarr group with its metadata).
std::unique_ptr<StackOutput> openStackOutput(const RunPlan& plan, const VolumeSpec& volume);

/// Creates the Zarr group of `volume` (ome-zarr runs; before any task writes to it).
void createVolume(const RunPlan& plan, const VolumeSpec& volume);

/// A task's block of slices: chunks of NAME.zarr, or (TIFF) `.blocks/NAME_BBBBB.tif` in plan.output,
/// a stack of the block's slices as NAME.tif stores them (labels deflated by the task).
void writeVolumeBlock(const RunPlan& plan, const VolumeSpec& volume, const Block& block,
                      const std::vector<cv::Mat>& slices);

/// TIFF runs: NAME.tif from the block files, in order (then removed).
void joinVolumeBlocks(const RunPlan& plan, const VolumeSpec& volume);

/// joinVolumeBlocks a block at a time, as the tasks finish: the client appends what is ready while
/// the remaining tasks run, instead of joining everything after the last one. It copies the
/// blocks' stored strips (no decoding, no compression on the client). Nothing for Zarr.
class VolumeJoin {
 public:
  VolumeJoin(const RunPlan& plan, VolumeSpec volume);
  ~VolumeJoin();
  /// Appends the blocks from the next one on, in order, while `finished(block)` says its file is whole.
  void appendFinished(const std::function<bool(int)>& finished);
  /// Appends the rest, closes NAME.tif and removes the block files. Returns NAME.tif's SHA-256
  /// (hashed as it grew, and flushed: OutputFolder::addHashed), or "" when it wrote nothing.
  std::string finish();
  /// NAME.tif.
  std::filesystem::path tiff() const;

 private:
  const RunPlan& plan_;
  VolumeSpec volume_;
  std::unique_ptr<io::TiffStackWriter> writer_;  // none: Zarr, or joined by an interrupted run
  GrowingFileSha256 sha256_;
  int next_ = 0;
};

/// A block file's slices (`.blocks/NAME_BBBBB.raw`: the corrected grey the segmentation tasks read).
std::vector<cv::Mat> readBlockFile(const RunPlan& plan, const VolumeSpec& volume, const Block& block);
void writeBlockFile(const RunPlan& plan, const VolumeSpec& volume, const Block& block, const std::vector<cv::Mat>& slices);

/// `plan.output`/.blocks: the tasks' block files and records.
std::filesystem::path blocksFolder(const RunPlan& plan);

}  // namespace fibseg::pipeline
