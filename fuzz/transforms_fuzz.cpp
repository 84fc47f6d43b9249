// Shift tables (transforms.csv, truth_shifts.csv) as `fibseg score` reads them.
#include "fibseg/io/shift_table.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fibseg;
  const auto file = fuzz::inputFile(data, size, ".csv");
  fuzz::expectingErrors([&] { io::readShiftTable(file); });
  return 0;
}
