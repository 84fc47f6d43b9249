#pragma once
// TauFactor's segmented electrode (256^3, pore / NMC / CBD as grey 0 / 85 / 170), read once per
// benchmark process from ../shared/data/real/taufactor-electrode ($FIBSEG_REAL_DATA overrides the
// folder). Null when the file is absent: the benchmarks that need it skip with a message.
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "fibseg/measure/label_file.hpp"

namespace fibseg::bench {

inline const measure::LabelVolume* electrode() {
  static const auto volume = []() -> std::optional<measure::LabelVolume> {
    const char* env = std::getenv("FIBSEG_REAL_DATA");
    const std::filesystem::path root = env && *env ? env : FIBSEG_REAL_DATA_ROOT;
    const auto file = root / "taufactor-electrode" / "electrode.tiff";
    if (!std::filesystem::exists(file)) return std::nullopt;
    return measure::readLabelVolume(file, measure::parsePhaseValues("pore=0,nmc=85,cbd=170"), std::nullopt);
  }();
  return volume ? &*volume : nullptr;
}

}  // namespace fibseg::bench
