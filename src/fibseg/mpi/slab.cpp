#include "fibseg/mpi/slab.hpp"

#include <string>

#include "fibseg/core/error.hpp"
#include "fibseg/io/tiff.hpp"

namespace fibseg::mpi {

std::array<int, 2> slabRange(int slices, int rank, int ranks) {
  const int base = slices / ranks, extra = slices % ranks;
  const int first = rank * base + std::min(rank, extra);
  return {first, first + base + (rank < extra ? 1 : 0)};
}

Slab readLabelSlab(const std::filesystem::path& path, const std::vector<measure::PhaseValue>& phases,
                   std::optional<std::array<double, 3>> voxelUm, int z0, int nz) {
  const auto info = measure::probeLabelFile(path, voxelUm);
  if (z0 < 0 || nz < 1 || z0 + nz > info.pages)
    throw Error(path.string() + ": slices " + std::to_string(z0) + " .. " + std::to_string(z0 + nz - 1) +
                " asked, the file has " + std::to_string(info.pages) + " pages");
  std::vector<std::string> names;
  std::vector<int> lut(65536, -1);
  for (std::size_t p = 0; p < phases.size(); ++p) names.push_back(phases[p].name), lut[phases[p].value] = int(p);
  Slab slab;
  slab.volume = measure::makeVolume(info.width, info.height, nz, names, info.voxelUm);
  slab.z0 = z0;
  slab.nzTotal = info.pages;
  io::TiffPageReader reader(path);
  for (int z = 0; z < nz; ++z) {
    const cv::Mat page = reader.read(z0 + z);
    const std::string where = path.string() + ": page " + std::to_string(z0 + z);
    if (page.cols != info.width || page.rows != info.height)
      throw Error(where + " is " + std::to_string(page.cols) + "x" + std::to_string(page.rows) + ", page 0 is " +
                  std::to_string(info.width) + "x" + std::to_string(info.height));
    for (int y = 0; y < page.rows; ++y)
      for (int x = 0; x < page.cols; ++x) {
        const int g = page.depth() == CV_8U ? page.at<std::uint8_t>(y, x) : page.at<std::uint16_t>(y, x);
        if (lut[g] < 0)
          throw Error(where + ", pixel (" + std::to_string(x) + ", " + std::to_string(y) + "): grey level " +
                      std::to_string(g) + " has no phase in --phases; give every level a name, e.g. "
                      "--phases pore=0,nmc=85,cbd=170");
        slab.volume.phase[slab.volume.index(x, y, z)] = std::uint8_t(lut[g]);
      }
  }
  return slab;
}

}  // namespace fibseg::mpi
