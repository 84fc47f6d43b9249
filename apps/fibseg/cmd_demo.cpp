// `fibseg demo [OUT]`: the whole product on a synthetic series with known truth, as a user would
// use it: a phantom, a parameter file, `fibseg run`, then the accuracy against the truth.
#include <filesystem>
#include <iostream>

#include "commands.hpp"
#include "fibseg/config/load.hpp"
#include "fibseg/core/atomic_file.hpp"
#include "fibseg/phantom/write_phantom.hpp"
#include "fibseg/pipeline/progress.hpp"
#include "fibseg/pipeline/run.hpp"

namespace fibseg::cli {
namespace fs = std::filesystem;

void addDemoCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", "Phantom -> fibseg run -> accuracy against the truth, in OUT");
  auto folder = std::make_shared<std::string>("demo-out");
  auto slices = std::make_shared<int>(24);
  cmd->add_option("OUT", *folder, "Output folder")->capture_default_str();
  cmd->add_option("--slices", *slices, "Slices of the phantom")->capture_default_str()->check(CLI::Range(2, 2000));
  cmd->callback([folder, slices] {
    const fs::path out = fs::absolute(*folder);
    ensureWritableFolder(out);
    phantom::PhantomParams params;
    params.slices = *slices;
    params.capRows = 60;
    std::cout << "1. phantom: " << params.slices << " slices of " << params.width << "x" << params.height
              << " with drift, curtaining, shading and brightness changes and a protective cap at the top -> "
              << (out / "phantom").string() << "\n";
    phantom::writePhantom(params, out / "phantom");

    const fs::path config = out / "params.toml";
    writeTextFile(config, "# fibseg demo: every other parameter at its default (`fibseg init` lists them)\n"
                          "[input]\npath = \"phantom/raw\"\n[output]\nfolder = \"run\"\n"
                          "[align]\n"
                          "# The sample starts below the protective cap (rows 0-59 at the first slice).\n"
                          "roi_y = 80\n"
                          "# Drift is measured on the cap, which is the same in every slice: the grains\n"
                          "# change shape through the depth, which would also look like drift.\n"
                          "register_height = 40\n");
    std::cout << "2. fibseg run " << config.string() << "\n";
    pipeline::RunOptions options;
    options.overwrite = true;
    options.terminal = pipeline::stderrIsTerminal();
    pipeline::runPipeline(config::loadParameters(config, {}), options);

    std::cout << "3. fibseg score --run " << (out / "run").string() << " --phantom " << (out / "phantom").string() << "\n";
    scoreRunAgainstPhantom((out / "run").string(), (out / "phantom").string(), (out / "score.json").string());
    std::cout << "open " << (out / "run" / "report.html").string() << " to check every step\n";
  });
}

}  // namespace fibseg::cli
