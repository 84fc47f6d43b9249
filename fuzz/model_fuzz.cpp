// Classifier model files (JSON: feature specification + XGBoost model).
#include "fibseg/learn/learn.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fibseg;
  const std::string text(reinterpret_cast<const char*>(data), size);
  fuzz::expectingErrors([&] { learn::featureSpecFromJson(text, "model"); });
  const auto file = fuzz::inputFile(data, size, ".json");
  fuzz::expectingErrors([&] { learn::Classifier::load(file); });
  return 0;
}
