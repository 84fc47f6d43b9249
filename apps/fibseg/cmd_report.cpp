// `fibseg report OUTDIR`: rebuilds OUTDIR/report.html from what `fibseg run` left there
// (src/fibseg/report). Pieces that are missing are noted in the page, not errors.
#include <iostream>

#include "commands.hpp"
#include "fibseg/report/report.hpp"

namespace fibseg::cli {

void addReportCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("report", "Rebuild report.html (the visual check of every step) in an output folder");
  auto folder = std::make_shared<std::string>();
  cmd->add_option("OUTDIR", *folder, "Output folder of `fibseg run`")->required();
  cmd->callback([folder] {
    report::writeReport(*folder);
    std::cout << "report: " << (std::filesystem::path(*folder) / "report.html").string() << "\n";
  });
}

}  // namespace fibseg::cli
