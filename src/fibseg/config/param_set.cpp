#include "fibseg/config/param_set.hpp"

#include "fibseg/core/error.hpp"

namespace fibseg::config {

namespace {
const ParamSpec& specOrThrow(const std::string& name, const std::string& origin) {
  if (const ParamSpec* spec = findParameter(name)) return *spec;
  throw Error("unknown parameter '" + name + "'" + (origin.empty() ? "" : " at " + origin) +
              "; did you mean '" + nearestParameterName(name) + "'?");
}

template <typename T>
const T& as(const ResolvedValue& r, const std::string& name, const char* wanted) {
  if (!r.isSet) throw Error("parameter '" + name + "' is required but was not given");
  if (const T* v = std::get_if<T>(&r.value)) return *v;
  throw Error(std::string("internal: parameter '") + name + "' read as " + wanted);
}
}  // namespace

ParamSet ParamSet::defaults() {
  ParamSet set;
  for (const auto& spec : allParameters()) {
    ResolvedValue r;
    r.origin = "default";
    if (!spec.required) {
      r.value = parseValue(spec, spec.defaultValue, "default");
      r.isSet = true;
    }
    set.values_[spec.name()] = std::move(r);
  }
  return set;
}

void ParamSet::set(const std::string& name, const std::string& text, const std::string& origin) {
  const ParamSpec& spec = specOrThrow(name, origin);
  values_[name] = ResolvedValue{parseValue(spec, text, origin), true, origin};
}

void ParamSet::setValue(const std::string& name, Value value, const std::string& origin) {
  const ParamSpec& spec = specOrThrow(name, origin);
  // Re-parse through text so ranges and choices are checked the same way for every loader.
  values_[name] = ResolvedValue{parseValue(spec, formatValue(value), origin), true, origin};
}

void ParamSet::requireComplete() const {
  std::string missing;
  for (const auto& [name, r] : values_)
    if (!r.isSet) missing += (missing.empty() ? "" : ", ") + name;
  if (!missing.empty()) throw Error("required parameter(s) not given: " + missing);
}

const ResolvedValue& ParamSet::resolved(const std::string& name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) specOrThrow(name, "");  // throws with a suggestion
  return it->second;
}

long long ParamSet::integer(const std::string& name) const {
  return as<long long>(resolved(name), name, "integer");
}
double ParamSet::real(const std::string& name) const {
  const auto& r = resolved(name);
  if (const long long* v = std::get_if<long long>(&r.value); v && r.isSet) return double(*v);
  return as<double>(r, name, "number");
}
bool ParamSet::boolean(const std::string& name) const { return as<bool>(resolved(name), name, "boolean"); }
std::string ParamSet::text(const std::string& name) const {
  return as<std::string>(resolved(name), name, "text");
}
std::vector<double> ParamSet::realList(const std::string& name) const {
  return as<std::vector<double>>(resolved(name), name, "list");
}

}  // namespace fibseg::config
