#pragma once
// Small text helpers shared by the parameter loaders, the metadata parser and the report.
#include <string>

namespace fibseg {

/// `s` without leading and trailing spaces, tabs and line ends.
std::string trim(const std::string& s);
/// ASCII lower case (parameter names, choices, file extensions).
std::string toLower(std::string s);

}  // namespace fibseg
