#pragma once
// Each subcommand lives in its own cmd_<name>.cpp and registers itself here.
#include <CLI/CLI.hpp>

namespace fibseg::cli {

void addRunCommand(CLI::App& app);
void addInitCommand(CLI::App& app);
void addPhantomCommand(CLI::App& app);
void addScoreCommand(CLI::App& app);
void addDemoCommand(CLI::App& app);
/// Prints (and writes to `json`, if not empty) the scores of a run against a phantom's truth.
void scoreRunAgainstPhantom(const std::string& runFolder, const std::string& phantomFolder, const std::string& json);
void addTuneCommand(CLI::App& app);
void addReportCommand(CLI::App& app);
void addTrainCommand(CLI::App& app);
void addMeasureCommand(CLI::App& app);
void addPredictCommand(CLI::App& app);
void addStudioCommand(CLI::App& app);
void addCorrectedCommand(CLI::App& app);

inline void addCommands(CLI::App& app) {
  addInitCommand(app);
  addRunCommand(app);
  addPhantomCommand(app);
  addScoreCommand(app);
  addTuneCommand(app);
  addReportCommand(app);
  addTrainCommand(app);
  addMeasureCommand(app);
  addPredictCommand(app);
  addDemoCommand(app);
  addStudioCommand(app);
  addCorrectedCommand(app);
}

}  // namespace fibseg::cli
