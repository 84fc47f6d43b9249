// Parameters of reading the slice series and of where outputs go.
#include "fibseg/config/stage_params.hpp"

namespace fibseg::config {

std::vector<ParamSpec> inputParameterSpecs() {
  std::vector<ParamSpec> specs;
  specs.push_back({.section = "input", .key = "path", .type = ParamType::Path, .defaultValue = "",
                   .description = "Folder of slice images (TIFF or PNG, 8- or 16-bit, sorted naturally: "
                                  "slice_2 before slice_10) or one multi-page TIFF. Relative paths are "
                                  "taken from the parameter file's folder.",
                   .required = true});
  specs.push_back({.section = "input", .key = "pixel_size_nm", .type = ParamType::Real, .defaultValue = "0",
                   .unit = "nm", .min = 0.0,
                   .description = "Size of one pixel in the slice plane. 0 = read it from the TIFF "
                                  "metadata (FEI/Thermo, Zeiss or resolution tags)."});
  specs.push_back({.section = "input", .key = "slice_thickness_nm", .type = ParamType::Real,
                   .defaultValue = "0", .unit = "nm", .min = 0.0,
                   .description = "Distance between consecutive slices (FIB milling step). 0 = same as "
                                  "the pixel size."});
  return specs;
}

std::vector<ParamSpec> outputParameterSpecs() {
  std::vector<ParamSpec> specs;
  specs.push_back({.section = "output", .key = "folder", .type = ParamType::Path, .defaultValue = "",
                   .description = "Folder for all results (created if missing). Relative paths are "
                                  "taken from the parameter file's folder.",
                   .required = true});
  return specs;
}

}  // namespace fibseg::config
