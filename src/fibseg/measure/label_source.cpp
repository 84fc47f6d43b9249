#include "fibseg/measure/label_source.hpp"

#include <algorithm>

#include "fibseg/core/error.hpp"

namespace fibseg::measure {

TiffLabelSource::TiffLabelSource(std::filesystem::path path, std::vector<PhaseValue> phases,
                                 std::optional<std::array<double, 3>> voxelUm)
    : path_(std::move(path)), phases_(std::move(phases)), info_(probeLabelFile(path_, voxelUm)) {
  shape_.nx = info_.width, shape_.ny = info_.height, shape_.nz = info_.pages;
  shape_.voxelUm = info_.voxelUm;
  for (const auto& p : phases_) shape_.phaseNames.push_back(p.name);
}

LabelVolume TiffLabelSource::readSlices(int z0, int z1) const { return readLabelSlices(path_, phases_, info_, z0, z1); }

VolumeLabelSource::VolumeLabelSource(const LabelVolume& volume) : volume_(volume) {
  shape_.nx = volume.nx, shape_.ny = volume.ny, shape_.nz = volume.nz;
  shape_.voxelUm = volume.voxelUm;
  shape_.phaseNames = volume.phaseNames;
}

LabelVolume VolumeLabelSource::readSlices(int z0, int z1) const {
  if (z0 < 0 || z1 > volume_.nz || z0 >= z1) throw Error("slices " + std::to_string(z0) + " to " + std::to_string(z1) + " of a volume of " + std::to_string(volume_.nz));
  LabelVolume v = shape_;
  v.nz = z1 - z0;
  v.phase.assign(volume_.phase.begin() + volume_.index(0, 0, z0), volume_.phase.begin() + volume_.index(0, 0, z1 - 1) + volume_.stride(Z));
  return v;
}

}  // namespace fibseg::measure
