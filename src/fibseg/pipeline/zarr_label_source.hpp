#pragma once
// An OME-Zarr label volume (level 0 of a store fibseg wrote: labels.zarr) read a block of slices
// at a time, its grey values mapped to phases as the label TIFF reader maps them, so the measure
// stage streams it as it streams labels.tif.
#include <array>
#include <filesystem>
#include <optional>
#include <vector>

#include "fibseg/measure/label_source.hpp"

namespace fibseg::pipeline {

class ZarrLabelSource : public measure::LabelSource {
 public:
  /// `store` is the .zarr folder (its level "0" is read). The voxel size is `voxelUm` when given,
  /// else the NGFF scale of level 0 (z, y, x in µm) from the store's .zattrs.
  ZarrLabelSource(std::filesystem::path store, const std::vector<measure::PhaseValue>& phases,
                  std::optional<std::array<double, 3>> voxelUm);
  const measure::LabelVolume& shape() const override { return shape_; }
  measure::LabelVolume readSlices(int z0, int z1) const override;
  const std::string& voxelSource() const { return voxelSource_; }

 private:
  std::filesystem::path level0_;
  measure::LabelVolume shape_;
  std::array<int, 256> phaseOf_;
  std::string voxelSource_;
};

/// True for a folder that holds a Zarr array at "0" (an OME-Zarr store fibseg wrote).
bool isZarrStore(const std::filesystem::path& path);

}  // namespace fibseg::pipeline
