#include "fibseg/report/csv_table.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include "fibseg/core/error.hpp"
#include "fibseg/core/text.hpp"

namespace fibseg::report {

namespace {


}  // namespace

CsvTable CsvTable::read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open (missing or unreadable)");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse(buffer.str(), path.string());
}

CsvTable CsvTable::parse(const std::string& text, const std::string& where) {
  CsvTable table;
  table.where_ = where;
  std::istringstream in(text);
  std::string line;
  int lineNumber = 0;
  while (std::getline(in, line)) {
    ++lineNumber;
    if (trim(line).empty()) continue;
    auto fields = splitCsvRecord(line);
    if (table.header_.empty()) {
      for (auto& f : fields) f = toLower(f);
      table.header_ = std::move(fields);
      continue;
    }
    if (fields.size() != table.header_.size())
      throw Error(where + ":" + std::to_string(lineNumber) + ": " + std::to_string(fields.size()) +
                  " fields; expected " + std::to_string(table.header_.size()) + " like the header");
    table.rows_.push_back(std::move(fields));
    table.lineOfRow_.push_back(lineNumber);
  }
  if (table.header_.empty()) throw Error(where + ": empty; expected a header row and one row per slice");
  return table;
}

std::optional<std::size_t> CsvTable::columnIndex(const std::string& name) const {
  const auto it = std::find(header_.begin(), header_.end(), toLower(name));
  if (it == header_.end()) return std::nullopt;
  return static_cast<std::size_t>(it - header_.begin());
}

void CsvTable::requireColumns(const std::vector<std::string>& names) const {
  std::string missing;
  for (const auto& name : names)
    if (!hasColumn(name)) missing += (missing.empty() ? "" : ", ") + name;
  if (!missing.empty()) throw Error(where_ + ": missing column(s) " + missing);
}

const std::string& CsvTable::text(std::size_t row, const std::string& column) const {
  const auto index = columnIndex(column);
  if (!index) throw Error(where_ + ": no column '" + column + "'");
  return rows_.at(row)[*index];
}

double CsvTable::number(std::size_t row, const std::string& column) const {
  const std::string& cell = text(row, column);
  double v = 0;
  const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
  if (ec != std::errc() || end != cell.data() + cell.size()) {
    // NaN is how a stage says "not measured" (e.g. a flagged registration); keep it.
    if (toLower(cell) == "nan") return std::nan("");
    throw Error(where_ + ":" + std::to_string(lineOfRow_[row]) + ": column '" + column + "' is '" + cell +
                "'; expected a number");
  }
  return v;
}

bool CsvTable::flag(std::size_t row, const std::string& column) const {
  const std::string v = toLower(text(row, column));
  if (v == "1" || v == "true" || v == "yes") return true;
  if (v == "0" || v == "false" || v == "no" || v.empty()) return false;
  throw Error(where_ + ":" + std::to_string(lineOfRow_[row]) + ": column '" + column + "' is '" + v +
              "'; expected 0/1 or true/false");
}

}  // namespace fibseg::report
