// `fibseg init FILE.xlsx|FILE.toml`: a parameter file to fill in, listing every parameter with its
// default, unit, allowed values and description (see config/template.hpp).
#include <iostream>

#include "commands.hpp"
#include "fibseg/config/template.hpp"

namespace fibseg::cli {

namespace {
struct InitOptions {
  std::string file;
  bool force = false;
};
}  // namespace

void addInitCommand(CLI::App& app) {
  auto o = std::make_shared<InitOptions>();
  auto* cmd = app.add_subcommand("init", "Write a parameter file to fill in: Excel (.xlsx) or text (.toml)");
  cmd->add_option("FILE", o->file, "The file to write; its extension chooses the format (.xlsx or .toml)")
      ->required();
  cmd->add_flag("--force", o->force, "Replace FILE if it exists");
  cmd->callback([o] {
    config::writeParameterTemplate(o->file, o->force);
    std::cout << "wrote " << o->file << " with " << config::allParameters().size()
              << " parameters at their defaults; fill in the required ones, then run: fibseg run " << o->file
              << "\n";
  });
}

}  // namespace fibseg::cli
