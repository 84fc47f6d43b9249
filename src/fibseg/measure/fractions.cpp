#include "fibseg/measure/fractions.hpp"

#include "fibseg/core/error.hpp"

namespace fibseg::measure {

PhaseCounts countPhases(const LabelVolume& v, int slabAxis, int slabs) {
  const int phases = v.phases();
  const int n = v.size(slabAxis);
  if (slabs < 1 || slabs > n)
    throw Error("measure.slabs = " + std::to_string(slabs) + ": expected 1 to " + std::to_string(n) +
                " (the volume's size along " + axisName(slabAxis) + ")");
  PhaseCounts c;
  c.total.assign(phases, 0);
  c.perSlice.assign(v.nz, std::vector<long long>(phases, 0));
  c.perSlabSlice.assign(slabs, std::vector<std::vector<long long>>(v.nz, std::vector<long long>(phases, 0)));
  std::vector<int> slabOfCoord(n);
  for (int i = 0; i < n; ++i) slabOfCoord[i] = slabOf(i, n, slabs);
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y) {
      const std::uint8_t* row = &v.phase[v.index(0, y, z)];
      for (int x = 0; x < v.nx; ++x) {
        const int p = row[x];
        const int coord = slabAxis == X ? x : slabAxis == Y ? y : z;
        ++c.perSlice[z][p];
        ++c.perSlabSlice[slabOfCoord[coord]][z][p];
      }
    }
  for (int z = 0; z < v.nz; ++z)
    for (int p = 0; p < phases; ++p) c.total[p] += c.perSlice[z][p];
  return c;
}

std::vector<double> volumeFractions(const PhaseCounts& counts, std::size_t voxels) {
  std::vector<double> f;
  for (long long n : counts.total) f.push_back(voxels ? double(n) / double(voxels) : 0.0);
  return f;
}

}  // namespace fibseg::measure
