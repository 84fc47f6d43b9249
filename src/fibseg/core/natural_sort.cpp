#include "fibseg/core/natural_sort.hpp"

#include <algorithm>
#include <cctype>

namespace fibseg {

bool naturalLess(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const bool digitA = std::isdigit(static_cast<unsigned char>(a[i]));
    const bool digitB = std::isdigit(static_cast<unsigned char>(b[j]));
    if (digitA && digitB) {
      std::size_t endA = i, endB = j;
      while (endA < a.size() && std::isdigit(static_cast<unsigned char>(a[endA]))) ++endA;
      while (endB < b.size() && std::isdigit(static_cast<unsigned char>(b[endB]))) ++endB;
      // Compare numerically without overflow: strip leading zeros, then length, then digits.
      std::size_t startA = i, startB = j;
      while (startA + 1 < endA && a[startA] == '0') ++startA;
      while (startB + 1 < endB && b[startB] == '0') ++startB;
      const std::size_t lenA = endA - startA, lenB = endB - startB;
      if (lenA != lenB) return lenA < lenB;
      const int cmp = a.compare(startA, lenA, b, startB, lenB);
      if (cmp != 0) return cmp < 0;
      if ((endA - i) != (endB - j)) return (endA - i) < (endB - j);  // "01" after "1"
      i = endA;
      j = endB;
    } else {
      const int ca = std::tolower(static_cast<unsigned char>(a[i]));
      const int cb = std::tolower(static_cast<unsigned char>(b[j]));
      if (ca != cb) return ca < cb;
      ++i;
      ++j;
    }
  }
  if ((a.size() - i) != (b.size() - j)) return (a.size() - i) < (b.size() - j);
  return a < b;  // total order for names equal but for case
}

void naturalSort(std::vector<std::string>& names) {
  std::sort(names.begin(), names.end(), naturalLess);
}

}  // namespace fibseg
