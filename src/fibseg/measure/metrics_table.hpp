#pragma once
// What metrics.cpp (3D) and metrics_2d.cpp (2D) share when they find a phase by name and write
// their JSON numbers into CSV cells.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>

#include "fibseg/core/text.hpp"
#include "fibseg/measure/volume.hpp"

namespace fibseg::measure::detail {

/// Index of the phase called `name` (any case) in `v`, -1 when it has none.
inline int phaseIndex(const LabelVolume& v, const std::string& name) {
  for (int p = 0; p < v.phases(); ++p)
    if (toLower(v.phaseNames[p]) == toLower(name)) return p;
  return -1;
}

/// A CSV cell: six significant digits, as the metrics tables print them.
inline std::string csvNumber(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", v);
  return text;
}
/// A JSON value as a CSV cell: a number printed by csvNumber, empty for anything else (null).
inline std::string csvCell(const nlohmann::ordered_json& v) { return v.is_number() ? csvNumber(v.get<double>()) : ""; }

}  // namespace fibseg::measure::detail
