#include "fibseg/measure/volume.hpp"

namespace fibseg::measure {

LabelVolume makeVolume(int nx, int ny, int nz, std::vector<std::string> phaseNames, std::array<double, 3> voxelUm) {
  LabelVolume v;
  v.nx = nx;
  v.ny = ny;
  v.nz = nz;
  v.voxelUm = voxelUm;
  v.phaseNames = std::move(phaseNames);
  v.phase.assign(v.voxels(), 0);
  return v;
}

}  // namespace fibseg::measure
