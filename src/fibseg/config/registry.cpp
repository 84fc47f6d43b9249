#include "fibseg/config/registry.hpp"

#include <algorithm>
#include <cmath>
#include <charconv>
#include <map>
#include <sstream>

#include "fibseg/config/stage_params.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/core/text.hpp"

namespace fibseg::config {

const char* typeName(ParamType type) {
  switch (type) {
    case ParamType::Integer: return "integer";
    case ParamType::Real: return "number";
    case ParamType::Boolean: return "true/false";
    case ParamType::Text: return "text";
    case ParamType::Choice: return "choice";
    case ParamType::Path: return "path";
    case ParamType::RealList: return "list of numbers";
  }
  return "?";
}

namespace {

std::string rangeText(const ParamSpec& spec) {
  if (spec.min && spec.max) return " from " + formatNumber(*spec.min) + " to " + formatNumber(*spec.max);
  if (spec.min) return " of at least " + formatNumber(*spec.min);
  if (spec.max) return " of at most " + formatNumber(*spec.max);
  return "";
}


std::optional<double> parseReal(const std::string& text) {
  std::string t = trim(text);
  if (!t.empty() && t[0] == '+') t.erase(0, 1);  // from_chars rejects a leading '+'
  if (t.empty() || t[0] == '+') return std::nullopt;
  double v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || end != t.data() + t.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::vector<ParamSpec> collectAll() {
  std::vector<ParamSpec> all;
  for (auto specs : {inputParameterSpecs, outputParameterSpecs, alignParameterSpecs, intensityParameterSpecs, segmentParameterSpecs,
                     learnParameterSpecs, phasesParameterSpecs, measureParameterSpecs}) {
    for (auto& spec : specs()) all.push_back(std::move(spec));
  }
  // A registry mistake is a programming error; fail loudly at first use.
  validateRegistry(all);
  return all;
}

std::size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string formatNumber(double v) {
  // Shortest text that reads back to the same double: 0.1 stays "0.1", not "0.10000000000000001"
  // nor (as with ostream's default 6 digits) a rounded value that changes the parameter.
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
  return ec == std::errc() ? std::string(buffer, end) : std::to_string(v);
}

void validateRegistry(const std::vector<ParamSpec>& specs) {
  std::map<std::string, int> seen;
  for (const auto& spec : specs) {
    const std::string name = spec.name();
    if (spec.section.empty() || spec.key.empty() || spec.key.find('.') != std::string::npos ||
        spec.section.find('.') != std::string::npos)
      throw Error("parameter registry: '" + name + "' must be section.key with one dot");
    if (seen[name]++) throw Error("parameter registry: duplicate name " + name);
    if (spec.min && spec.max && *spec.min > *spec.max)
      throw Error("parameter registry: " + name + " has min > max");
    if (spec.type == ParamType::Choice && spec.choices.empty())
      throw Error("parameter registry: choice parameter " + name + " lists no choices");
    if (spec.description.empty()) throw Error("parameter registry: " + name + " has no description");
    if (!spec.required) parseValue(spec, spec.defaultValue, "registry default of " + name);
  }
}

std::string ParamSpec::expectation() const {
  switch (type) {
    case ParamType::Integer: return "an integer" + rangeText(*this);
    case ParamType::Real: return "a number" + rangeText(*this);
    case ParamType::Boolean: return "true or false";
    case ParamType::Text: return "text";
    case ParamType::Path: return "a file or folder path";
    case ParamType::RealList: return "a comma-separated list of numbers" + rangeText(*this);
    case ParamType::Choice: {
      std::string s = "one of: ";
      for (std::size_t i = 0; i < choices.size(); ++i) s += (i ? ", " : "") + choices[i];
      return s;
    }
  }
  return "";
}

const std::vector<ParamSpec>& allParameters() {
  static const std::vector<ParamSpec> all = collectAll();
  return all;
}

const ParamSpec* findParameter(const std::string& name) {
  return findParameter(allParameters(), name);
}

const ParamSpec* findParameter(const std::vector<ParamSpec>& specs, const std::string& name) {
  for (const auto& spec : specs)
    if (spec.name() == name) return &spec;
  return nullptr;
}

std::string nearestParameterName(const std::string& name) {
  return nearestParameterName(allParameters(), name);
}

std::string nearestParameterName(const std::vector<ParamSpec>& specs, const std::string& name) {
  std::string best;
  std::size_t bestDistance = SIZE_MAX;
  for (const auto& spec : specs) {
    // Compare with the full name and with the key alone (users often forget the section).
    const std::size_t d = std::min(editDistance(name, spec.name()), editDistance(name, spec.key));
    if (d < bestDistance) bestDistance = d, best = spec.name();
  }
  return best;
}

std::string unknownParameterHint(const std::vector<ParamSpec>& specs, const std::string& name) {
  const std::string nearest = nearestParameterName(specs, name);
  if (nearest.empty()) return "";
  const ParamSpec* spec = findParameter(specs, nearest);
  const std::size_t distance = std::min(editDistance(name, nearest), editDistance(name, spec->key));
  // A far-off "nearest" name only misleads: beyond a third of the name, point to the full list.
  if (distance <= std::max<std::size_t>(2, name.size() / 3)) return "; did you mean '" + nearest + "'?";
  return "; `fibseg init FILE.toml` writes every known parameter with its description";
}

Value parseValue(const ParamSpec& spec, const std::string& rawText, const std::string& where) {
  const std::string text = trim(rawText);
  auto fail = [&](const std::string& why = "") -> Error {
    return Error("parameter '" + spec.name() + "' at " + where + ": expected " + spec.expectation() +
                 (spec.unit.empty() ? "" : " (" + spec.unit + ")") + ", got '" + rawText + "'" +
                 (why.empty() ? "" : " (" + why + ")"));
  };
  auto checkRange = [&](double v) {
    if ((spec.min && v < *spec.min) || (spec.max && v > *spec.max)) throw fail("out of range");
  };
  switch (spec.type) {
    case ParamType::Integer: {
      const auto v = parseReal(text);
      if (!v || *v != std::floor(*v) || std::fabs(*v) > 9e15) throw fail();
      checkRange(*v);
      return static_cast<long long>(*v);
    }
    case ParamType::Real: {
      const auto v = parseReal(text);
      if (!v) {
        std::string dotted = text;  // "2,5" typed in a text cell of a spreadsheet set to a German locale
        std::replace(dotted.begin(), dotted.end(), ',', '.');
        throw fail(dotted != text && parseReal(dotted) ? "write the decimal point as '.', not ','" : "");
      }
      checkRange(*v);
      return *v;
    }
    case ParamType::Boolean: {
      const std::string t = toLower(text);
      if (t == "true" || t == "yes" || t == "1" || t == "on") return true;
      if (t == "false" || t == "no" || t == "0" || t == "off") return false;
      throw fail();
    }
    case ParamType::Choice: {
      for (const auto& choice : spec.choices)
        if (toLower(text) == toLower(choice)) return choice;
      throw fail();
    }
    case ParamType::Text:
    case ParamType::Path:
      return text;
    case ParamType::RealList: {
      std::vector<double> list;
      std::string items = text;  // "[0, 128, 255]" as copied from a TOML file is accepted too
      if (items.size() >= 2 && items.front() == '[' && items.back() == ']') items = trim(items.substr(1, items.size() - 2));
      if (items.empty()) return list;
      std::stringstream in(items);
      std::string item;
      while (std::getline(in, item, ',')) {
        const auto v = parseReal(item);
        if (!v) throw fail("'" + trim(item) + "' is not a number");
        checkRange(*v);
        list.push_back(*v);
      }
      return list;
    }
  }
  throw fail();
}

std::string formatValue(const Value& value) {
  struct Visitor {
    std::string operator()(long long v) const { return std::to_string(v); }
    std::string operator()(double v) const { return formatNumber(v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const std::string& v) const { return v; }
    std::string operator()(const std::vector<double>& v) const {
      std::string s;
      for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + formatNumber(v[i]);
      return s;
    }
  };
  return std::visit(Visitor{}, value);
}

}  // namespace fibseg::config
