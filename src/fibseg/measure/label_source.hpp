#pragma once
// Where the streamed metrics read their labels: a range of slices (z) at a time, so a volume
// larger than memory is measured block by block. A TIFF (one page per slice) and a LabelVolume
// in memory implement it; an OME-Zarr store plugs in the same way (the distributed run's tasks).
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "fibseg/measure/label_file.hpp"
#include "fibseg/measure/volume.hpp"

namespace fibseg::measure {

class LabelSource {
 public:
  virtual ~LabelSource() = default;
  /// The whole volume's shape, voxel size and phase names (`phase` left empty).
  virtual const LabelVolume& shape() const = 0;
  /// Slices [z0, z1) as a volume of z1 - z0 slices (same nx, ny, voxel size and phase names).
  virtual LabelVolume readSlices(int z0, int z1) const = 0;
};

/// A label TIFF read page by page; grey levels mapped to phases as readLabelVolume does.
class TiffLabelSource : public LabelSource {
 public:
  TiffLabelSource(std::filesystem::path path, std::vector<PhaseValue> phases, std::optional<std::array<double, 3>> voxelUm);
  const LabelVolume& shape() const override { return shape_; }
  LabelVolume readSlices(int z0, int z1) const override;
  const LabelFileInfo& info() const { return info_; }

 private:
  std::filesystem::path path_;
  std::vector<PhaseValue> phases_;
  LabelFileInfo info_;
  LabelVolume shape_;
};

/// A volume already in memory (tests, the Python binding).
class VolumeLabelSource : public LabelSource {
 public:
  explicit VolumeLabelSource(const LabelVolume& volume);
  const LabelVolume& shape() const override { return shape_; }
  LabelVolume readSlices(int z0, int z1) const override;

 private:
  const LabelVolume& volume_;
  LabelVolume shape_;
};

}  // namespace fibseg::measure
