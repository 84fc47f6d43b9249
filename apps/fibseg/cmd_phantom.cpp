// `fibseg phantom OUT`: a synthetic slice series with ground truth (see phantom/phantom.hpp).
#include "commands.hpp"

namespace fibseg::cli {
void addPhantomCommand(CLI::App& app) { (void)app; }
}
