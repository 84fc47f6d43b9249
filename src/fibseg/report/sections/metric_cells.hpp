#pragma once
// What the 3D (measure.cpp) and single-slice (measure_2d.cpp) metrics sections share: a number
// cell, the line under a figure saying how it was computed, and a phase's plot colour.
#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

#include "fibseg/core/text.hpp"
#include "fibseg/report/html.hpp"

namespace fibseg::report::detail {

/// A table cell of `v` to `decimals` decimals; a dash for anything not a number (not computed).
inline std::string cellOf(const nlohmann::ordered_json& v, int decimals = 3) {
  return v.is_number() ? "<td class=\"num\">" + formatNumber(v.get<double>(), decimals) + "</td>" : "<td>–</td>";
}
inline std::string how(const std::string& text) {
  return "<p class=\"how\"><i>How:</i> " + escapeHtml(text) + "</p>";
}
/// The colour given for `key` (any case) in `colours`, else the i-th of a fixed cycle of six.
inline std::string colourOf(const std::vector<std::pair<std::string, std::string>>& colours, const std::string& key,
                            int i) {
  for (const auto& [k, c] : colours)
    if (toLower(k) == toLower(key)) return c;
  static const char* const kFallback[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"};
  return kFallback[i % 6];
}

}  // namespace fibseg::report::detail
