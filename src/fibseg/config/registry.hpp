#pragma once
// THE parameter registry: every parameter fibseg knows, with its stage (section), type, default,
// unit, allowed range or choices and a description for materials scientists. Defaults and
// descriptions live only here (in the params_*.cpp file of each stage); loaders (TOML, xlsx,
// command line) fill a ParamSet from it, and each stage's parameter struct is made from a ParamSet.
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace fibseg::config {

enum class ParamType { Integer, Real, Boolean, Text, Choice, Path, RealList };
const char* typeName(ParamType type);

struct ParamSpec {
  std::string section;       // the stage it belongs to: "input", "align", "segment", ...
  std::string key;           // name within the section: "max_shift"
  ParamType type = ParamType::Real;
  std::string defaultValue;  // as a user would type it; empty with required = no default
  std::string unit;          // "px", "nm", "" for none
  std::optional<double> min; // inclusive bounds for numbers (and each element of a list)
  std::optional<double> max;
  std::vector<std::string> choices;  // for ParamType::Choice
  std::string description;
  bool required = false;     // the user must give a value (no sensible default exists)

  std::string name() const { return section + "." + key; }
  /// "an integer from 1 to 500", "one of: otsu, classifier", ... for error messages and templates.
  std::string expectation() const;
};

using Value = std::variant<long long, double, bool, std::string, std::vector<double>>;

/// Every parameter, in template order (grouped by stage). Names are unique.
const std::vector<ParamSpec>& allParameters();
/// The spec named "section.key", or nullptr.
const ParamSpec* findParameter(const std::string& name);
const ParamSpec* findParameter(const std::vector<ParamSpec>& specs, const std::string& name);
/// The known name closest to `name` (edit distance), for "did you mean" messages.
std::string nearestParameterName(const std::string& name);
std::string nearestParameterName(const std::vector<ParamSpec>& specs, const std::string& name);
/// For "unknown parameter" messages: "; did you mean 'align.max_shift'?" when a known name is
/// close, else where to find the list of parameters.
std::string unknownParameterHint(const std::vector<ParamSpec>& specs, const std::string& name);

/// Throws fibseg::Error on a registry mistake (duplicate name, a default that does not parse,
/// a choice list that is empty, min > max). Run on allParameters() at first use.
void validateRegistry(const std::vector<ParamSpec>& specs);

/// Parses `text` as a value of `spec`, checking type, range and choices. `where` names the place
/// (file:line, Inputs!B12, command line) for the error message.
Value parseValue(const ParamSpec& spec, const std::string& text, const std::string& where);
/// The value as a user would type it (inverse of parseValue; numbers in shortest exact form).
std::string formatValue(const Value& value);
/// A number in its shortest form that reads back exactly ("0.1", "40", "1e-05").
std::string formatNumber(double value);

}  // namespace fibseg::config
