// Excel parameter workbooks: the sheet reader and the parameter loader on top of it (every
// sheet layout it accepts).
#include "fibseg/config/load.hpp"
#include "fibseg/config/xlsx_sheet.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fibseg;
  const auto file = fuzz::inputFile(data, size, ".xlsx");
  fuzz::expectingErrors([&] { config::readXlsxSheet(file, "Inputs"); });
  fuzz::expectingErrors([&] { config::loadParameters(file, {}, config::RequiredValues::MayBeMissing); });
  return 0;
}
