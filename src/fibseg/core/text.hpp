#pragma once
// Small text helpers shared by the parameter loaders, the metadata parser and the report.
#include <string>
#include <vector>

namespace fibseg {

/// `s` without leading and trailing spaces, tabs and line ends.
std::string trim(const std::string& s);
/// ASCII lower case (parameter names, choices, file extensions).
std::string toLower(std::string s);

/// One CSV record split into fields (trimmed); quotes may enclose commas, and "" inside quotes
/// is one quote.
std::vector<std::string> splitCsvRecord(const std::string& line);
/// `text` as one CSV field: quoted (quotes doubled) if it holds a comma, quote or line break.
std::string csvField(const std::string& text);

}  // namespace fibseg
