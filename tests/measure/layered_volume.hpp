#pragma once
// A hand-built three-phase volume whose metrics are known by hand, shared by the metrics tests:
// rows 0-9 SE where x < 4 and pore where x >= 4; rows 10-19 CAM; every slice the same.
#include "fibseg/measure/metrics.hpp"

namespace fibseg::measure::test {

inline LabelVolume layered(int nz = 3) {
  auto v = makeVolume(8, 20, nz, {"pore", "se", "cam"}, {0.5, 0.5, 0.5});
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) v.phase[v.index(x, y, z)] = y >= 10 ? 2 : x < 4 ? 1 : 0;
  return v;
}

}  // namespace fibseg::measure::test
