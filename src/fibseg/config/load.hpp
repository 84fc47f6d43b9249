#pragma once
// Parameter files in, resolved parameters out. A run's parameters come from the registry
// defaults, then one file (an Excel workbook with a sheet "Inputs", or TOML), then `--set
// name=value` options; every value remembers where it came from, and parameters_used.toml
// records them all.
#include <filesystem>
#include <string>
#include <vector>

#include "fibseg/config/param_set.hpp"

namespace fibseg::config {

/// Whether a required parameter without a value is an error (`fibseg run`) or is left unset for
/// commands that do not use it (`fibseg train` needs no input/output folders); reading an unset
/// parameter throws naming it.
enum class RequiredValues { MustBeGiven, MayBeMissing };

/// Defaults, then `file` (.xlsx or .toml; an empty path means no file), then `overrides`
/// ("section.key=value", from `--set`), in that order. Relative Path values from the file are
/// resolved against the file's folder, those from the command line against the current folder;
/// both become absolute. Throws fibseg::Error naming the parameter, its place (file:line,
/// "file Inputs!B12", command line) and what was expected for: an unknown name (nearest known
/// name suggested), a wrong type, a value out of range, a parameter given twice in the file,
/// and a required parameter with no value.
ParamSet loadParameters(const std::filesystem::path& file, const std::vector<std::string>& overrides,
                        RequiredValues required = RequiredValues::MustBeGiven);
/// The same against a given registry (tests; `specs` must outlive the returned set).
ParamSet loadParameters(const std::filesystem::path& file, const std::vector<std::string>& overrides,
                        const std::vector<ParamSpec>& specs,
                        RequiredValues required = RequiredValues::MustBeGiven);

/// TOML text with every parameter's value and, as a comment, where it came from; loadable again
/// as a parameter file. The pipeline writes it as parameters_used.toml.
std::string formatResolvedParameters(const ParamSet& parameters);

}  // namespace fibseg::config
