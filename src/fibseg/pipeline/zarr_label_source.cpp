#include "fibseg/pipeline/zarr_label_source.hpp"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fibseg/core/error.hpp"
#include "fibseg/io/zarr.hpp"

namespace fibseg::pipeline {
namespace fs = std::filesystem;

namespace {
// Level 0's scale from the NGFF multiscales metadata (axes z, y, x), as x, y, z.
std::array<double, 3> ngffScale(const fs::path& store) {
  std::ifstream in(store / ".zattrs");
  if (!in) throw Error(store.string() + ": no .zattrs; give the voxel size (--voxel-size)");
  try {
    const auto attrs = nlohmann::json::parse(in);
    const auto& scale = attrs.at("multiscales").at(0).at("datasets").at(0).at("coordinateTransformations").at(0).at("scale");
    const std::array<double, 3> xyz{scale.at(2).get<double>(), scale.at(1).get<double>(), scale.at(0).get<double>()};
    for (const double size : xyz)
      if (!(size > 0) || !std::isfinite(size))
        throw Error(store.string() + "/.zattrs: level 0's scale " + scale.dump() +
                    " is not three positive voxel sizes (z, y, x in µm); give the voxel size (--voxel-size)");
    return xyz;
  } catch (const nlohmann::json::exception& e) {
    throw Error(store.string() + "/.zattrs: expected NGFF 0.4 multiscales with a scale for level 0 (" + e.what() +
                "); give the voxel size (--voxel-size)");
  }
}
}  // namespace

bool isZarrStore(const fs::path& path) { return fs::is_directory(path) && fs::exists(path / "0" / ".zarray"); }

ZarrLabelSource::ZarrLabelSource(fs::path store, const std::vector<measure::PhaseValue>& phases,
                                 std::optional<std::array<double, 3>> voxelUm)
    : level0_(store / "0") {
  const auto info = io::readZarrArrayInfo(level0_);
  if (info.bitDepth != 8) throw Error(level0_.string() + ": a label volume is 8-bit; this array is " +
                                      std::to_string(info.bitDepth) + "-bit");
  shape_.nx = info.shape[2], shape_.ny = info.shape[1], shape_.nz = info.shape[0];
  shape_.voxelUm = voxelUm ? *voxelUm : ngffScale(store);
  voxelSource_ = voxelUm ? "given" : "OME-Zarr metadata";
  phaseOf_.fill(-1);
  for (std::size_t p = 0; p < phases.size(); ++p) {
    shape_.phaseNames.push_back(phases[p].name);
    phaseOf_[phases[p].value & 255] = int(p);
  }
}

measure::LabelVolume ZarrLabelSource::readSlices(int z0, int z1) const {
  measure::LabelVolume v = shape_;
  v.nz = z1 - z0;
  v.phase.resize(v.voxels());
  const auto slices = io::readZarrSlices(level0_, z0, z1);
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y) {
      const std::uint8_t* row = slices[z].ptr<std::uint8_t>(y);
      for (int x = 0; x < v.nx; ++x) {
        const int p = phaseOf_[row[x]];
        if (p < 0)
          throw Error(level0_.string() + ": value " + std::to_string(row[x]) + " at (" + std::to_string(x) + ", " +
                      std::to_string(y) + ", " + std::to_string(z0 + z) + ") is no phase's value (expected one of "
                      "the phases' values given)");
        v.phase[v.index(x, y, z)] = std::uint8_t(p);
      }
    }
  return v;
}

}  // namespace fibseg::pipeline
