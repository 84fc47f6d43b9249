#pragma once
// An OME-NGFF 0.4 volume (z, y, x) as a Zarr v2 group: arrays "0", "1", "2" (each level half the
// previous one in y and x; z is kept, so the chunks of every level hold the same slices and a
// task owning a block of slices owns its chunks at every level), "multiscales" metadata with
// axes in micrometres and scale = voxel size, and for label volumes the "image-label" metadata
// (each phase's value, name and colour).
//
// Downsampling: grey levels by the mean of 2 x 2 pixels (OpenCV INTER_AREA); labels by nearest
// neighbour (pixel (2i, 2j) of the level above), so every value is a phase value and no phase
// is invented at boundaries (a mode filter would be smoother but not cheaper to explain).
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "fibseg/io/zarr.hpp"

namespace fibseg::io {

struct OmeZarrLabel {
  int value = 0;
  std::string name;
  std::array<std::uint8_t, 3> rgb{0, 0, 0};
};

struct OmeZarrVolume {
  std::filesystem::path folder;      // "labels.zarr"
  int slices = 0, height = 0, width = 0;
  int bitDepth = 8;
  int chunkSlices = 16;              // chunk depth: the task block
  int tile = 512;                    // chunk height and width
  int levels = 3;
  std::array<double, 3> voxelUm{1, 1, 1};  // z, y, x
  bool labels = false;               // nearest-neighbour levels + image-label metadata
  std::vector<OmeZarrLabel> phases;  // with labels

  /// Level `level`'s array info (shape halves in y and x per level, rounded up).
  ZarrArrayInfo levelInfo(int level) const;
};

/// Writes the group, its metadata and every level's .zarray (no chunks).
void createOmeZarr(const OmeZarrVolume& volume);

/// Writes slices [z0, z0 + n) at every level (z0 starts a chunk; they end a chunk or the volume).
void writeOmeZarrSlices(const OmeZarrVolume& volume, int z0, const std::vector<cv::Mat>& slices);

}  // namespace fibseg::io
