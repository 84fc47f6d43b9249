#pragma once
// Slice files are numbered by people and microscopes without zero padding: slice_2 must come
// before slice_10. Natural order compares digit runs as numbers and the rest case-insensitively.
#include <string>
#include <vector>

namespace fibseg {

bool naturalLess(const std::string& a, const std::string& b);
void naturalSort(std::vector<std::string>& names);

}  // namespace fibseg
