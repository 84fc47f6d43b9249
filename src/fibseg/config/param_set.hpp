#pragma once
// A resolved set of parameter values: one per registry entry, each with where it came from
// (default, a file and place, the command line), so `fibseg run` can record what it used.
#include <map>
#include <string>

#include "fibseg/config/registry.hpp"

namespace fibseg::config {

struct ResolvedValue {
  Value value;
  bool isSet = false;    // false only for a required parameter nobody gave
  std::string origin;    // "default", "params.toml:12", "params.xlsx Inputs!B7", "command line"
};

class ParamSet {
 public:
  /// Every parameter at its registry default.
  static ParamSet defaults();
  /// Every parameter of `specs` at its default (tests, tools with their own list). `specs` must
  /// outlive the set.
  static ParamSet defaults(const std::vector<ParamSpec>& specs);

  /// Parses and sets a value; throws fibseg::Error naming the parameter, `origin` and what is
  /// expected (unknown names get the nearest known name suggested).
  void set(const std::string& name, const std::string& text, const std::string& origin);
  void setValue(const std::string& name, Value value, const std::string& origin);

  /// Throws naming every required parameter that has no value.
  void requireComplete() const;

  /// The registry this set was made from, and one spec of it (throws on an unknown name).
  const std::vector<ParamSpec>& specs() const;
  const ParamSpec& spec(const std::string& name) const;

  long long integer(const std::string& name) const;
  double real(const std::string& name) const;  // accepts integer parameters too
  bool boolean(const std::string& name) const;
  std::string text(const std::string& name) const;  // Text, Choice and Path
  std::vector<double> realList(const std::string& name) const;
  const ResolvedValue& resolved(const std::string& name) const;

  const std::map<std::string, ResolvedValue>& values() const { return values_; }

 private:
  static ParamSet fromDefaults(const std::vector<ParamSpec>& specs);

  const std::vector<ParamSpec>* specs_ = nullptr;
  std::map<std::string, ResolvedValue> values_;
};

}  // namespace fibseg::config
