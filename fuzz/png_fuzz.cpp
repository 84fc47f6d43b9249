// PNG slices and annotations (painted by users: grey codes or the report's colours).
#include "fibseg/io/png.hpp"
#include "fibseg/learn/learn.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fibseg;
  const auto file = fuzz::inputFile(data, size, ".png");
  fuzz::expectingErrors([&] { io::probePng(file); });
  fuzz::expectingErrors([&] { io::readPngGrey(file); });
  fuzz::expectingErrors([&] { learn::annotationFromImage(io::readPngAsStored(file), "annotation"); });
  return 0;
}
