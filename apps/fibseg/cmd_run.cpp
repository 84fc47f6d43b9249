// `fibseg run CONFIG`: every stage on a slice series, parameters from an .xlsx or .toml file.
#include <iostream>

#include "commands.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/config/load.hpp"
#include "fibseg/pipeline/progress.hpp"
#include "fibseg/pipeline/run.hpp"

namespace fibseg::cli {

namespace {
struct RunCommandOptions {
  std::string config;
  std::vector<std::string> overrides;
  pipeline::RunOptions run;
  bool strict = false;  // a failed measure stage fails the command
};
}  // namespace

void addRunCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Align, correct and segment a slice series (parameters: .xlsx or .toml)");
  auto o = std::make_shared<RunCommandOptions>();
  cmd->add_option("CONFIG", o->config, "Parameter file from `fibseg init` (.xlsx or .toml)")->required();
  cmd->add_option("--set", o->overrides, "Override one parameter: section.key=value (repeatable)");
  cmd->add_option("--from", o->run.from, "Start at this stage, reusing earlier outputs: segment")
      ->check(CLI::IsMember({"segment"}));
  cmd->add_flag("--overwrite", o->run.overwrite, "Replace the outputs of an earlier run in the output folder");
  cmd->add_flag("--strict", o->strict,
                "Exit non-zero when the measure stage fails (its failure otherwise keeps every other output and "
                "exits 0)");
  cmd->callback([o] {
    o->run.terminal = pipeline::stderrIsTerminal();
    const auto summary = pipeline::runPipeline(config::loadParameters(o->config, o->overrides), o->run);
    if (!summary.measureError.empty()) {
      if (o->strict)
        throw Error("--strict: the measure stage failed (" + summary.measureError + "); every other output is in " +
                    summary.outputFolder.string());
      std::cerr << "warning: the measure stage failed (see above); every other output is in "
                << summary.outputFolder.string() << " (exit code 0; --strict makes it 1)\n";
    }
  });
}

}  // namespace fibseg::cli
