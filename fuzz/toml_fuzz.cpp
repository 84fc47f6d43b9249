// TOML parameter files.
#include "fibseg/config/load.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fibseg;
  const auto file = fuzz::inputFile(data, size, ".toml");
  fuzz::expectingErrors([&] { config::loadParameters(file, {}, config::RequiredValues::MayBeMissing); });
  return 0;
}
