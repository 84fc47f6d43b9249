#pragma once
// The phases a run distinguishes, as the user names them (parameters phases.names, .values,
// .colours): 2 to 8 of them. Inside fibseg a pixel's label is its phase's index in that list
// (0, 1, ...); only the files written show the user's grey values and colours. The classical
// path knows three phases only (Phase in image.hpp: pore, SE, CAM, in that order).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace fibseg {

inline constexpr int kMinPhases = 2;
inline constexpr int kMaxPhases = 8;

struct PhaseSet {
  std::vector<std::string> names;                        // as the user wrote them
  std::vector<std::uint8_t> values;                      // grey value written for each phase
  std::vector<std::array<std::uint8_t, 3>> coloursRgb;  // colour PNGs and the report

  int count() const { return static_cast<int>(names.size()); }
  /// Throws naming `where` unless 2..8 phases, unique non-empty names (compared ignoring case),
  /// unique values, and as many values and colours as names.
  void check(const std::string& where) const;
  /// True for exactly pore, SE, CAM in that order (ignoring case): what the classical path makes.
  bool isClassicalThree() const;
  /// "pore, SE, CAM".
  std::string namesText() const;
  /// Column name of a phase in CSV files and run.json: lower case, spaces as '_' ("se", "cam").
  std::string key(int phase) const;
};

/// Phase names equal ignoring case.
bool samePhaseNames(const std::vector<std::string>& a, const std::vector<std::string>& b);
std::string joinPhaseNames(const std::vector<std::string>& names);

}  // namespace fibseg

namespace fibseg::config {
class ParamSet;
/// Defined in config/params_phases.cpp (the registry holds the defaults and descriptions);
/// checked (PhaseSet::check), errors name the parameters and where their values came from.
PhaseSet phasesFrom(const ParamSet& params);
}  // namespace fibseg::config
