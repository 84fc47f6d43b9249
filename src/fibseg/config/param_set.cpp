#include "fibseg/config/param_set.hpp"

#include "fibseg/core/error.hpp"

namespace fibseg::config {

namespace {
const ParamSpec& specOrThrow(const std::vector<ParamSpec>& specs, const std::string& name,
                             const std::string& origin) {
  if (const ParamSpec* spec = findParameter(specs, name)) return *spec;
  throw Error("unknown parameter '" + name + "'" + (origin.empty() ? "" : " at " + origin) +
              unknownParameterHint(specs, name));
}

std::string missingText(const ParamSpec& spec) {
  std::string text = "'";  // appended piece by piece: GCC 12 warns falsely on "..." + string
  text += spec.name();
  text += "' (" + spec.expectation() + (spec.unit.empty() ? "" : ", " + spec.unit) + ": " + spec.description + ")";
  return text;
}
}  // namespace

ParamSet ParamSet::defaults() {
  const auto& specs = allParameters();  // validated once, when first collected
  return fromDefaults(specs);
}

ParamSet ParamSet::defaults(const std::vector<ParamSpec>& specs) {
  validateRegistry(specs);
  return fromDefaults(specs);
}

ParamSet ParamSet::fromDefaults(const std::vector<ParamSpec>& specs) {
  ParamSet set;
  set.specs_ = &specs;
  for (const auto& spec : specs) {
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

const std::vector<ParamSpec>& ParamSet::specs() const { return specs_ ? *specs_ : allParameters(); }

const ParamSpec& ParamSet::spec(const std::string& name) const { return specOrThrow(specs(), name, ""); }

void ParamSet::set(const std::string& name, const std::string& text, const std::string& origin) {
  const ParamSpec& spec = specOrThrow(specs(), name, origin);
  values_[name] = ResolvedValue{parseValue(spec, text, origin), true, origin};
}

void ParamSet::setValue(const std::string& name, Value value, const std::string& origin) {
  const ParamSpec& spec = specOrThrow(specs(), name, origin);
  // Re-parse through text so ranges and choices are checked the same way for every loader
  // (formatValue writes numbers exactly, so nothing is rounded on the way).
  values_[name] = ResolvedValue{parseValue(spec, formatValue(value), origin), true, origin};
}

void ParamSet::requireComplete() const {
  std::string missing;
  int count = 0;
  for (const auto& spec : specs()) {
    const auto it = values_.find(spec.name());
    if (it == values_.end() || !it->second.isSet) {
      missing += (missing.empty() ? "" : "; ") + missingText(spec);
      ++count;
    }
  }
  if (count)
    throw Error(std::string(count == 1 ? "required parameter not given: " : "required parameters not given: ") +
                missing);
}

const ResolvedValue& ParamSet::resolved(const std::string& name) const {
  specOrThrow(specs(), name, "");  // unknown names get a suggestion
  const auto it = values_.find(name);
  if (it == values_.end())
    throw Error("internal: parameter '" + name + "' read from a set not made by ParamSet::defaults()");
  return it->second;
}

namespace {
template <typename T>
const T& as(const ParamSet& set, const ResolvedValue& r, const std::string& name, const char* wanted) {
  if (!r.isSet) throw Error("required parameter not given: " + missingText(set.spec(name)));
  if (const T* v = std::get_if<T>(&r.value)) return *v;
  throw Error(std::string("internal: parameter '") + name + "' read as " + wanted);
}
}  // namespace

long long ParamSet::integer(const std::string& name) const {
  return as<long long>(*this, resolved(name), name, "integer");
}
double ParamSet::real(const std::string& name) const {
  const auto& r = resolved(name);
  if (const long long* v = std::get_if<long long>(&r.value); v && r.isSet) return double(*v);
  return as<double>(*this, r, name, "number");
}
bool ParamSet::boolean(const std::string& name) const { return as<bool>(*this, resolved(name), name, "boolean"); }
std::string ParamSet::text(const std::string& name) const {
  return as<std::string>(*this, resolved(name), name, "text");
}
std::vector<double> ParamSet::realList(const std::string& name) const {
  return as<std::vector<double>>(*this, resolved(name), name, "list");
}

}  // namespace fibseg::config
