#pragma once
// `fibseg run`: the stages composed into one streaming run over a slice series.
//   pass 1  read -> crop -> register (consecutive pairs, in order) [+ brightness statistics]
//   pass 2  read -> crop -> shift -> intensity corrections -> cache/corrected.tif [+ aligned.tif]
//   pass 3  corrected slice -> segment (classical or classifier) -> PNGs, labels.tif, fractions
// Every pass streams slices through a bounded TBB pipeline (memory does not grow with the
// number of slices) with all cores busy; files are written in slice order by one stage.
// `from = "segment"` starts at pass 3 from the cache when it was made with the same input and
// parameters of every earlier stage; otherwise the earlier passes run again.
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "fibseg/config/param_set.hpp"

namespace fibseg::pipeline {

struct RunOptions {
  std::string from;        // "" = from the start; "segment" = reuse the aligned, corrected stack
  bool overwrite = false;  // replace the outputs of an earlier run in the same folder
  std::ostream* log = nullptr;  // progress and summary (default: std::cerr)
  bool terminal = false;        // progress bars (else plain lines)
};

struct RunSummary {
  int slices = 0;
  double seconds = 0;
  std::vector<std::string> phases;   // phases.names
  std::vector<double> fractions;     // of the whole volume, per phase
  std::filesystem::path outputFolder;
  bool reusedCache = false;
  std::string measureError;  // why the measure stage failed (every other output kept); empty if it did not
};

/// Runs every stage on `params` (resolved, complete). Throws fibseg::Error for bad input or
/// parameters, before any output is written when it can be known then.
RunSummary runPipeline(const config::ParamSet& params, const RunOptions& options);

}  // namespace fibseg::pipeline
