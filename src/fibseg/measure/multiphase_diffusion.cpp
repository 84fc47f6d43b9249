#include "fibseg/measure/multiphase_diffusion.hpp"

#include <algorithm>
#include <cmath>

#include "fibseg/core/error.hpp"
#include "fibseg/core/text.hpp"
#include "fibseg/measure/connectivity.hpp"
#include "fibseg/measure/network_solver.hpp"

namespace fibseg::measure {

std::vector<std::pair<std::string, double>> parseDiffusivities(const std::string& text, const std::string& what) {
  std::vector<std::pair<std::string, double>> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string entry = trim(text.substr(start, comma - start));
    start = comma + 1;
    if (entry.empty()) continue;
    const auto eq = entry.find('=');
    const std::string name = eq == std::string::npos ? "" : trim(entry.substr(0, eq));
    double value = 0;
    bool ok = !name.empty();
    if (ok) {
      const std::string number = trim(entry.substr(eq + 1));
      char* end = nullptr;
      value = std::strtod(number.c_str(), &end);
      ok = !number.empty() && end && *end == '\0' && std::isfinite(value) && value >= 0;
    }
    if (!ok)
      throw Error(what + " = '" + text + "': entry '" + entry +
                  "' is not phase=value with a value >= 0 (e.g. \"pore=1, cbd=0.1\")");
    for (const auto& [n, v] : out)
      if (toLower(n) == toLower(name)) throw Error(what + " = '" + text + "': phase '" + name + "' is given twice");
    out.emplace_back(name, value);
  }
  return out;
}

MultiPhaseDiffusion multiPhaseDiffusion(const LabelVolume& v, const std::vector<double>& D, int axis) {
  if (int(D.size()) != v.phases())
    throw Error("multi-phase diffusion: " + std::to_string(D.size()) + " diffusivities for " +
                std::to_string(v.phases()) + " phases");
  for (double d : D)
    if (!(d >= 0) || !std::isfinite(d)) throw Error("multi-phase diffusion: a diffusivity is negative or not finite");
  MultiPhaseDiffusion out;
  const std::size_t n = v.voxels();
  std::vector<long long> count(v.phases(), 0);
  for (auto p : v.phase) ++count[p];
  for (int p = 0; p < v.phases(); ++p) out.meanDiffusivity += D[p] * double(count[p]) / double(std::max<std::size_t>(n, 1));
  // The domain: conducting voxels (of any conducting phase) in clusters touching both faces.
  LabelVolume conducting = v;
  conducting.phaseNames = {"conducting", "other"};
  for (std::size_t i = 0; i < n; ++i) conducting.phase[i] = D[v.phase[i]] > 0 ? 0 : 1;
  const auto domain = percolatingMask(conducting, 0, axis);
  conducting.phase.clear();
  if (std::none_of(domain.begin(), domain.end(), [](std::uint8_t m) { return m != 0; })) {
    out.reason = std::string("no cluster of conducting phases touches both faces normal to ") + axisName(axis);
    return out;
  }
  const auto& s = v.voxelUm;
  double g[3];
  for (int a = 0; a < 3; ++a) g[a] = s[(a + 1) % 3] * s[(a + 2) % 3] / s[a];
  auto net = ConductanceNetwork::zeros(v.nx, v.ny, v.nz);
  const int length = v.size(axis);
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) {
        const std::size_t i = v.index(x, y, z);
        if (!domain[i]) continue;
        const double di = D[v.phase[i]];
        const int c3[3] = {x, y, z};
        for (int a = 0; a < 3; ++a) {
          if (c3[a] + 1 >= v.size(a)) continue;
          const std::size_t j = i + v.stride(a);
          if (!domain[j]) continue;
          const double dj = D[v.phase[j]];
          net.toNext[a][i] = float(g[a] * 2 * di * dj / (di + dj));
        }
        // Half a voxel to the fixed concentrations beyond the two faces.
        if (c3[axis] == 0) net.toOne[i] = float(2 * g[axis] * di);
        if (c3[axis] == length - 1) net.toZero[i] = float(2 * g[axis] * di);
      }
  const auto solution = solveNetwork(net, 1e-9, 2000);
  out.iterations = solution.iterations;
  // Flux through the inlet, every plane between voxel layers, and the outlet.
  std::vector<double> planes(length + 1, 0.0);
  const auto& c = solution.concentration;
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) {
        const std::size_t i = v.index(x, y, z);
        const int k = axis == X ? x : axis == Y ? y : z;
        planes[0] += net.toOne[i] * (1.0 - c[i]);
        planes[length] += net.toZero[i] * c[i];
        if (k + 1 < length) planes[k + 1] += net.toNext[axis][i] * (c[i] - c[i + v.stride(axis)]);
      }
  const auto [lo, hi] = std::minmax_element(planes.begin(), planes.end());
  double mean = 0;
  for (double p : planes) mean += p;
  mean /= double(planes.size());
  out.fluxSpread = mean > 0 ? (*hi - *lo) / mean : 1.0;
  if (!solution.converged || out.fluxSpread > 1e-3) {
    out.reason = "did not converge: relative residual " + std::to_string(solution.relativeResidual) +
                 ", flux through the planes differs by " + std::to_string(out.fluxSpread * 100) + " % after " +
                 std::to_string(solution.iterations) + " iterations";
    return out;
  }
  const int b1 = (axis + 1) % 3, b2 = (axis + 2) % 3;
  const double area = v.size(b1) * s[b1] * v.size(b2) * s[b2];
  out.relativeDiffusivity = mean * length * s[axis] / area;
  out.tau = out.meanDiffusivity / *out.relativeDiffusivity;
  return out;
}

}  // namespace fibseg::measure
