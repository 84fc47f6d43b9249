#pragma once
// The run's graph as tasks for another executor (fibseg.distributed, on dask workers): each task
// is a C++ function of the plan (JSON text) and a block number, runs on the worker's threads,
// writes its own outputs into the run's staging folder (shared by every machine) and ends by
// writing its record (.blocks/<stage>_NNNNN.cbor: the small results the reductions need), so a
// finished block is known from its record alone: a rerun does only the blocks without one.
//
// The client holds a DistributedRun: the output folder (lock, staging, resume), the plan, and
// the reductions between the passes, which read the records.
#include <cstddef>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "fibseg/config/param_set.hpp"
#include "fibseg/pipeline/run.hpp"

namespace fibseg::pipeline {

/// The task that corrects and segments a block in one step (segmentNeedsWholeStack false).
inline const std::string kCorrectAndSegment = "correct_segment";

/// One task of `stage` on `threads` threads (0 = all cores): "register" (a registration chain,
/// plan.hpp registrationChainsOf), or a block of "correct", "segment" or kCorrectAndSegment.
/// Returns its seconds.
double runBlockTask(const std::string& planJson, const std::string& stage, int index, int threads = 0);

/// The fibseg version the tasks were built from (client and workers must agree).
std::string taskVersion();

class DistributedRun {
 public:
  /// Plans the run, takes the output folder (as `fibseg run` does) and, when `resume` and the
  /// staging folder holds an interrupted run of the same input and parameters, keeps its
  /// finished blocks. Throws fibseg::Error for what this executor cannot run.
  DistributedRun(const config::ParamSet& params, const RunOptions& options, bool resume);
  ~DistributedRun();

  std::string planJson() const;
  int blocks() const;
  int slices() const;
  std::vector<int> blockSizes() const;
  /// The stages with tasks, in order: register, then correct and segment, or kCorrectAndSegment.
  std::vector<std::string> stages() const;
  /// Slices each task of `stage` decides (chains for register, else blocks).
  std::vector<int> taskSizes(const std::string& stage) const;
  /// Bytes one block task needs at most (the worker's memory limit must allow it).
  std::size_t blockMemoryBytes() const;
  std::string blockMemoryText() const;  // how it is made up, for the error message
  bool registered() const;              // .blocks/register.json exists (the chains solved)
  /// Tasks of `stage` without a record.
  std::vector<int> missingBlocks(const std::string& stage) const;

  /// Reductions, in order: after the registration chains (the solve, transforms.csv, warnings),
  /// after every correct block (histogram, Otsu, brightness.csv, aligned volume), and the end
  /// (fractions, labels volume, cache/corrected.json, measure, run.json, switch-in).
  void afterRegistration();
  void afterCorrection();
  RunSummary finish();
  /// TIFF output, the client's joins while the segment tasks run (finish() does what is left):
  /// aligned.tif from the correct blocks (after afterCorrection).
  void joinAligned();
  /// After each segment (or kCorrectAndSegment) block, while the other tasks run: with TIFF output
  /// labels.tif (and with kCorrectAndSegment aligned.tif) joined from the blocks finished so far,
  /// in order; and every output staged so far hashed and flushed for run.json
  /// (OutputFolder::hashStagedOutputs), so the end reads back only what came after.
  void afterBlock();

  /// The run's progress lines, as `fibseg run` prints them.
  void startProgress(const std::string& stage, int total);
  void advanceProgress(int steps = 1);
  double finishProgress();
  std::ostream& log();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace fibseg::pipeline
