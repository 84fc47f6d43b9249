#pragma once
// Reading one worksheet of an .xlsx workbook (Office Open XML: a zip of XML parts) into cells,
// whatever program wrote it: shared strings (with rich-text runs), inline strings, numbers,
// booleans, error values and formulas' cached results.
#include <filesystem>
#include <string>
#include <vector>

namespace fibseg::config {

struct XlsxCell {
  enum class Kind { Number, Text, Boolean, Error, FormulaWithoutValue };
  int row = 0;            // 1-based, as Excel shows it
  int column = 0;         // 1-based: A = 1
  Kind kind = Kind::Text;
  std::string text;       // the number as stored ("0.1"), the string, "true"/"false", "#DIV/0!"
  std::string reference() const;  // "B12"
};

struct XlsxSheet {
  std::string name;
  std::vector<XlsxCell> cells;  // non-empty cells, in row then column order
};

/// The sheet called `sheetName` (compared ignoring case). Throws fibseg::Error naming the file
/// and what is wrong: not a zip, not a workbook, no such sheet (listing the sheets there are).
XlsxSheet readXlsxSheet(const std::filesystem::path& file, const std::string& sheetName);
/// The first of `sheetNames` the workbook has (in that order of preference); without any, the
/// error lists them, the sheets there are and `expectedLayouts` (what each sheet should hold).
XlsxSheet readXlsxSheet(const std::filesystem::path& file, const std::vector<std::string>& sheetNames,
                        const std::string& expectedLayouts);

/// "A" for 1, "AB" for 28.
std::string columnLetters(int column);

}  // namespace fibseg::config
