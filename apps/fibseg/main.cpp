// fibseg command line: one subcommand per user task. Errors end here: message, exit code 1.
#include <CLI/CLI.hpp>
#include <malloc.h>

#include <iostream>

#include "commands.hpp"
#include "fibseg/core/error.hpp"

int main(int argc, char** argv) {
  // libsuperlu_dist (loaded with hypre, for `measure --mpi`) turns off glibc's mmap of large
  // blocks and its heap trimming in a constructor (mallopt M_MMAP_MAX 0, M_TRIM_THRESHOLD -1):
  // freed memory would never go back to the system, and a streamed measure's resident memory would
  // ratchet up past its --memory-limit block after block. Back to glibc's usual steady state.
  mallopt(M_MMAP_MAX, 65536);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
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
