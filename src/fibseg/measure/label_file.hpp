#pragma once
// Reading a label TIFF (any producer: fibseg, TauFactor's 0/85/170, 0/255 two-phase) into a
// LabelVolume: each grey level is mapped to a named phase; the voxel size comes from the caller,
// else the ImageJ metadata, else 1 µm.
#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "fibseg/measure/volume.hpp"

namespace fibseg::measure {

struct PhaseValue {
  std::string name;
  int value = 0;  // grey level in the file
};

/// "pore=0,se=1,cam=2" -> phases; throws naming the text on a malformed or repeated entry.
std::vector<PhaseValue> parsePhaseValues(const std::string& text);

struct LabelFileInfo {
  int width = 0, height = 0, pages = 0;
  std::array<double, 3> voxelUm{1, 1, 1};
  std::string voxelSource;  // "command line", "ImageJ metadata", "none (1 µm)"
};

LabelFileInfo probeLabelFile(const std::filesystem::path& path, std::optional<std::array<double, 3>> voxelUm);

/// Reads every page; throws listing the grey levels found when one has no phase.
LabelVolume readLabelVolume(const std::filesystem::path& path, const std::vector<PhaseValue>& phases,
                            std::optional<std::array<double, 3>> voxelUm);

/// Pages [z0, z1) only (a block of slices of the streamed metrics); same checks and errors.
LabelVolume readLabelSlices(const std::filesystem::path& path, const std::vector<PhaseValue>& phases,
                            const LabelFileInfo& info, int z0, int z1);

/// Memory the machine has available now (MemAvailable), bytes; 0 when unknown.
std::size_t availableMemoryBytes();

}  // namespace fibseg::measure
