#pragma once
// Parameter file templates for `fibseg init`: every parameter with its default, unit, allowed
// values and description, grouped by stage, ready to be filled in and passed to `fibseg run`.
#include <filesystem>
#include <string>
#include <vector>

#include "fibseg/config/registry.hpp"

namespace fibseg::config {

/// Writes a template chosen by the extension of `file` (.xlsx or .toml). Refuses to replace an
/// existing file unless `overwrite`. Throws fibseg::Error on an unknown extension or I/O failure.
void writeParameterTemplate(const std::filesystem::path& file, bool overwrite,
                            const std::vector<ParamSpec>& specs = allParameters());

/// The TOML template: one [section] table per stage; comments carry descriptions, units and
/// allowed values; required parameters are left empty.
std::string tomlTemplate(const std::vector<ParamSpec>& specs = allParameters());

/// The Excel template: sheet "Inputs", columns Parameter | Value | Default | Unit | Description,
/// a heading row per stage. Writes `file` directly (no overwrite check).
void writeXlsxTemplate(const std::filesystem::path& file,
                       const std::vector<ParamSpec>& specs = allParameters());

}  // namespace fibseg::config
