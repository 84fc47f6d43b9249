// PNG slices and annotations (painted by users: grey codes or the report's colours).
#include "fibseg/io/png.hpp"
#include "fibseg/config/param_set.hpp"
#include "fibseg/core/phases.hpp"
#include "fibseg/learn/learn.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fibseg;
  // Annotations are read against the run's phases: the registry's default three, and four.
  static const PhaseSet three = config::phasesFrom(config::ParamSet::defaults());
  static const PhaseSet four{{"pore", "SE", "carbon", "CAM"}, {0, 1, 2, 3},
                             {{{247, 247, 247}}, {{239, 138, 98}}, {{60, 60, 60}}, {{98, 138, 239}}}};
  const auto file = fuzz::inputFile(data, size, ".png");
  fuzz::expectingErrors([&] { io::probePng(file); });
  fuzz::expectingErrors([&] { io::readPngGrey(file); });
  for (const PhaseSet* phases : {&three, &four})
    fuzz::expectingErrors([&] { learn::annotationFromImage(io::readPngAsStored(file), "annotation", *phases); });
  return 0;
}
