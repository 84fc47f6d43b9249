// `fibseg corrected OUTDIR [--out FILE]`: writes the aligned, corrected stack of a run (what its
// segmentation saw) as a TIFF stack, for `fibseg train --stack` and `fibseg predict`. A run keeps
// one greyscale stack (aligned.tif) and the brightness reference, not the corrected pixels
// (issue 27); this makes them again (pipeline/corrected_slices.hpp).
#include <iostream>

#include "commands.hpp"
#include "fibseg/pipeline/corrected_slices.hpp"

namespace fibseg::cli {

void addCorrectedCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "corrected", "Write a run's aligned, corrected slices (what segmentation saw) as a TIFF stack, for train/predict");
  struct Options {
    std::string folder, out;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("OUTDIR", o->folder, "Output folder of `fibseg run`")->required();
  cmd->add_option("--out", o->out, "The TIFF stack to write (default OUTDIR/cache/corrected.tif)");
  cmd->callback([o] {
    const std::filesystem::path out =
        o->out.empty() ? std::filesystem::path(o->folder) / "cache" / "corrected.tif" : std::filesystem::path(o->out);
    const int slices = pipeline::writeCorrectedStack(o->folder, out);
    std::cout << "corrected: " << slices << " slices -> " << out.string() << "\n";
  });
}

}  // namespace fibseg::cli
