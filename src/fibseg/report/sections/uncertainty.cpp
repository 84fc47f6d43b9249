// Section "Where the classifier is least sure" (output.uncertainty_pngs): for the first, middle and
// last slice, the uncertainty map with its least certain windows outlined, and those windows.
// Absent from runs that did not ask for it.
#include <map>

#include "fibseg/report/csv_table.hpp"
#include "fibseg/report/sections/sections.hpp"

namespace fibseg::report::detail {

void addUncertaintySection(Page& page) {
  const fs::path csv = page.folder() / "uncertainty_regions.csv";
  if (!fs::exists(csv)) return;
  const std::string title = "Where the classifier is least sure";
  std::map<long long, std::vector<std::size_t>> rowsOfSlice;
  std::optional<CsvTable> table;
  try {
    table = CsvTable::read(csv);
    table->requireColumns({"slice", "rank", "x", "y", "width", "height", "mean_uncertainty", "slice_mean_uncertainty"});
    for (std::size_t r = 0; r < table->rows(); ++r) rowsOfSlice[static_cast<long long>(table->number(r, "slice"))].push_back(r);
  } catch (const std::exception& e) {
    page.add({"uncertainty", title, page.note("uncertainty_regions.csv could not be read (" + std::string(e.what()) +
                                              "): the least certain regions are not shown.")});
    return;
  }
  std::string body =
      "<p class=\"summary\" id=\"uncertainty-summary\">How unsure the classifier is of each pixel: the entropy of "
      "its phase probabilities over log(phases), black = sure, white = every phase equally likely "
      "(segmented/uncertainty_NNNN.png for every slice). Outlined: the " +
      std::string("least certain windows of ") + std::to_string(rowsOfSlice.size()) +
      " slice(s), least certain in red, then orange, yellow. Strokes painted there teach the model most.</p>";
  if (rowsOfSlice.empty()) body += page.note("uncertainty_regions.csv lists no region.");
  body += "<div class=\"figures\">";
  for (const auto& [slice, rows] : rowsOfSlice) {
    char digits[16];
    std::snprintf(digits, sizeof digits, "%04lld", slice);
    const std::string caption = "Slice " + std::to_string(slice) + ", mean uncertainty " +
                                formatNumber(table->number(rows.front(), "slice_mean_uncertainty"), 3);
    body += figure(page, std::string("preview/uncertainty_") + digits + ".png", caption,
                   "uncertainty-" + std::to_string(slice), "the uncertainty map of slice " + std::to_string(slice) +
                   " is not shown");
  }
  body += "</div><table id=\"uncertainty-regions\"><tr><th>slice</th><th>rank</th><th>x (px)</th><th>y (px)</th>"
          "<th>width (px)</th><th>height (px)</th><th>mean uncertainty</th></tr>";
  for (const auto& [slice, rows] : rowsOfSlice)
    for (std::size_t r : rows) {
      body += "<tr><td>" + std::to_string(slice) + "</td>";
      for (const char* c : {"rank", "x", "y", "width", "height"}) body += "<td>" + formatNumber(table->number(r, c), 0) + "</td>";
      body += "<td>" + formatNumber(table->number(r, "mean_uncertainty"), 3) + "</td></tr>";
    }
  body += "</table>";
  page.add({"uncertainty", title, body});
}

}  // namespace fibseg::report::detail
