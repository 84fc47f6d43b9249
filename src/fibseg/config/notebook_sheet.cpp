#include "fibseg/config/notebook_sheet.hpp"

#include <cmath>
#include <map>

#include "fibseg/config/registry.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/core/text.hpp"

namespace fibseg::config {
namespace {

namespace fs = std::filesystem;

/// How a row of the notebook's sheet maps onto fibseg. Keys are the names trimmed (the sheet's
/// "Pores threshold " carries a trailing space; users' copies may not).
enum class Reading { Path, Format, OnUnlessNo, OnlyYes, Number, WholeNumber, Pair, Heading };
struct Row {
  std::string parameter;  // fibseg's parameter ("" for headings)
  Reading reading;
};
const std::map<std::string, Row>& notebookRows() {
  static const std::map<std::string, Row> rows{
      {"File Location", {"", Reading::Heading}},
      {"Phases segmentation", {"", Reading::Heading}},
      {"Interfaces analysis", {"", Reading::Heading}},
      {"Slices path", {"input.path", Reading::Path}},
      {"Data format", {"input.format", Reading::Format}},
      {"Light adjustment", {"segment.notebook_light_adjustment", Reading::OnUnlessNo}},  // also a heading
      {"clip_lim", {"segment.notebook_clip_limit", Reading::Number}},
      {"Grid size", {"segment.notebook_grid_size", Reading::WholeNumber}},
      {"Pores threshold", {"segment.notebook_pore_threshold", Reading::Number}},
      {"Removing vertical lines", {"segment.notebook_remove_vertical_lines", Reading::OnlyYes}},
      {"Horizontal kernel size", {"segment.notebook_horizontal_kernel", Reading::Pair}},
      {"Median smoothing", {"segment.notebook_median_smoothing", Reading::WholeNumber}},
      {"Pixel resolution [nm/pixel]", {"input.pixel_size_nm", Reading::Number}},
      {"Regions", {"measure.slabs", Reading::WholeNumber}},
  };
  return rows;
}

std::string knownNames() {
  std::string names;
  for (const auto& [name, row] : notebookRows())
    if (row.reading != Reading::Heading) names += (names.empty() ? "" : ", ") + ("\"" + name + "\"");
  return names;
}

/// "140", "140.0" -> "140": the notebook reads numbers with int(float(...)) or as written.
std::string wholeNumber(const std::string& text, const std::string& what) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || value != std::floor(value))
    throw Error(what + ": expected a whole number, got '" + text + "'");
  return std::to_string(static_cast<long long>(value));
}

}  // namespace

std::vector<SheetValue> notebookSheetValues(const XlsxSheet& sheet, const std::string& file, const fs::path& folder) {
  const std::string where = file + " " + sheet.name + "!";
  std::map<int, std::map<int, const XlsxCell*>> rows;
  for (const auto& cell : sheet.cells) rows[cell.row][cell.column] = &cell;

  int headerRow = 0, nameColumn = 0, valueColumn = 0;
  for (const auto& [row, cells] : rows) {
    for (const auto& [column, cell] : cells) {
      const std::string t = toLower(trim(cell->text));
      if (t == "parameters' name") nameColumn = column;
      if (t == "parameters' value") valueColumn = column;
    }
    if (nameColumn && valueColumn) {
      headerRow = row;
      break;
    }
    nameColumn = valueColumn = 0;
  }
  if (!headerRow)
    throw Error("sheet " + sheet.name + " of " + file +
                " has no header row with the columns \"Parameters' name\" and \"Parameters' value\" (the "
                "original notebook's layout)");

  const std::string layout = file + " " + sheet.name;
  std::vector<SheetValue> values{{"segment.method", "notebook", layout + " (the notebook's layout: its method)"},
                                 {"input.prefer_names_containing", "BSE",
                                  layout + " (the notebook's layout: it reads a folder's BSE images)"}};
  for (const auto& [row, cells] : rows) {
    if (row <= headerRow) continue;
    const auto n = cells.find(nameColumn);
    const auto v = cells.find(valueColumn);
    if (n == cells.end()) continue;
    const std::string name = trim(n->second->text);
    const std::string value = v == cells.end() ? "" : trim(v->second->text);
    if (name.empty()) continue;
    const auto known = notebookRows().find(name);
    const std::string place = where + columnLetters(valueColumn) + std::to_string(row);
    if (known == notebookRows().end()) {
      if (value.empty()) continue;  // a heading or a note of the user's
      throw Error("unknown row '" + name + "' at " + where + n->second->reference() +
                  " of the notebook's sheet; expected one of: " + knownNames());
    }
    const Row& map = known->second;
    if (map.reading == Reading::Path && value.empty()) {
      // No default: recorded empty, so the missing-value error names this cell.
      values.push_back({map.parameter, "", place});
      values.push_back({"output.folder", "", place + " " + kNotebookResultsOrigin});
      continue;
    }
    if (map.reading == Reading::Heading || value.empty()) continue;  // empty: the notebook's default
    if (v->second->kind == XlsxCell::Kind::Error || v->second->kind == XlsxCell::Kind::FormulaWithoutValue)
      throw Error("'" + name + "' at " + place + ": the cell holds no value the notebook can read (" +
                  v->second->text + ")");
    const std::string what = "'" + name + "' at " + place;
    std::string text = value;
    switch (map.reading) {
      case Reading::Path: {
        fs::path path(value);
        if (path.is_relative()) path = folder / path;
        text = path.lexically_normal().string();
        values.push_back({map.parameter, text, place});
        // The notebook writes its results beside the slices; --set output.folder overrides.
        values.push_back({"output.folder", (path / "Results").lexically_normal().string(),
                          place + " " + kNotebookResultsOrigin});
        continue;
      }
      case Reading::Format: {
        const std::string f = toLower(value);
        if (f != "png" && f != "tif" && f != "tiff")
          throw Error(what + ": expected png or tif, got '" + value + "'");
        text = f == "png" ? "png" : "tif";
        break;
      }
      case Reading::OnUnlessNo: text = toLower(value) == "no" ? "false" : "true"; break;
      case Reading::OnlyYes: text = toLower(value) == "yes" ? "true" : "false"; break;
      case Reading::WholeNumber: text = wholeNumber(value, what); break;
      case Reading::Pair: {
        const auto comma = value.find(',');
        if (comma == std::string::npos)
          throw Error(what + ": expected width and height in pixels, e.g. \"10, 1\", got '" + value + "'");
        text = wholeNumber(trim(value.substr(0, comma)), what) + ", " + wholeNumber(trim(value.substr(comma + 1)), what);
        break;
      }
      case Reading::Number:
      case Reading::Heading: break;
    }
    values.push_back({map.parameter, text, place});
  }
  return values;
}

}  // namespace fibseg::config
