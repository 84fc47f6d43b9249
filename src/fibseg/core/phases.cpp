#include "fibseg/core/phases.hpp"

#include <algorithm>
#include <cctype>

#include "fibseg/core/error.hpp"

namespace fibseg {

namespace {
std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
}  // namespace

bool samePhaseNames(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string joinPhaseNames(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& n : names) text += (text.empty() ? "" : ", ") + n;
  return text;
}

std::string PhaseSet::namesText() const { return joinPhaseNames(names); }

std::string PhaseSet::key(int phase) const {
  std::string k = lower(names.at(phase));
  std::replace(k.begin(), k.end(), ' ', '_');
  return k;
}

bool PhaseSet::isClassicalThree() const { return samePhaseNames(names, {"pore", "SE", "CAM"}); }

void PhaseSet::check(const std::string& where) const {
  const int n = count();
  if (n < kMinPhases || n > kMaxPhases)
    throw Error(where + ": " + std::to_string(n) + " phases (" + namesText() + "); expected 2 to 8");
  if (values.size() != names.size())
    throw Error(where + ": " + std::to_string(values.size()) + " label values for " + std::to_string(n) +
                " phases (" + namesText() + "); expected one value per phase");
  if (coloursRgb.size() != names.size())
    throw Error(where + ": " + std::to_string(coloursRgb.size()) + " colours for " + std::to_string(n) +
                " phases (" + namesText() + "); expected one colour per phase");
  for (int i = 0; i < n; ++i) {
    if (names[i].empty()) throw Error(where + ": phase " + std::to_string(i + 1) + " has no name");
    for (int j = 0; j < i; ++j) {
      if (lower(names[i]) == lower(names[j]))
        throw Error(where + ": the phase name '" + names[i] + "' appears twice; expected different names");
      if (values[i] == values[j])
        throw Error(where + ": phases " + names[j] + " and " + names[i] + " have the same label value " +
                    std::to_string(values[i]) + "; expected different values");
    }
  }
}

}  // namespace fibseg
