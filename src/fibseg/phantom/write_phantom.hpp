#pragma once
// Writes a phantom to a folder: raw slices as the microscope would (raw/slice_NNNN.tif, or one
// multi-page raw.tif), the truth (truth_labels.tif: 0 pore, 1 SE, 2 CAM in slice 0's frame
// without the data bar; truth_shifts.csv) and phantom.json with every parameter used.
#include <filesystem>

#include "fibseg/phantom/phantom.hpp"

namespace fibseg::phantom {

void writePhantom(const PhantomParams& params, const std::filesystem::path& folder, bool multiPage = false);

}  // namespace fibseg::phantom
