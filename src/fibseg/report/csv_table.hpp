#pragma once
// The CSV files of an output folder (transforms.csv, brightness.csv, phase_fractions.csv,
// preview/histogram.csv): a header row naming the columns, then one row per slice. Columns are
// found by name, so their order may change without breaking the report.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace fibseg::report {

class CsvTable {
 public:
  /// Reads `path`; quoted fields ("a,b") are allowed. Throws fibseg::Error naming the file and
  /// line if a row's field count differs from the header's.
  static CsvTable read(const std::filesystem::path& path);
  static CsvTable parse(const std::string& text, const std::string& where);

  const std::vector<std::string>& header() const { return header_; }
  std::size_t rows() const { return rows_.size(); }
  bool hasColumn(const std::string& name) const { return columnIndex(name).has_value(); }
  const std::string& text(std::size_t row, const std::string& column) const;
  /// The cell as a number; throws naming file, line and column if it is not one.
  double number(std::size_t row, const std::string& column) const;
  /// "1", "true", "yes" -> true; "0", "false", "no", "" -> false; anything else throws.
  bool flag(std::size_t row, const std::string& column) const;
  /// Throws naming the file and every missing column, so a section can say what it lacked.
  void requireColumns(const std::vector<std::string>& names) const;

 private:
  std::optional<std::size_t> columnIndex(const std::string& name) const;
  std::string where_;
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<int> lineOfRow_;
};

}  // namespace fibseg::report
