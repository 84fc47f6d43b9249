// fibseg command line: one subcommand per user task. Errors end here: message, exit code 1.
#include <CLI/CLI.hpp>

#include <iostream>

#include "commands.hpp"
#include "fibseg/core/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"fibseg: FIB-SEM slice series -> aligned, brightness-corrected, segmented 3D volume"};
  app.require_subcommand(1);
  fibseg::cli::addCommands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const fibseg::Error& e) {
    std::cerr << "fibseg: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "fibseg: internal error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
