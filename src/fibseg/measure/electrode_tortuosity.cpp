#include "fibseg/measure/electrode_tortuosity.hpp"

#include <tbb/parallel_for.h>

#include <cmath>
#include <complex>
#include <numeric>

#include "fibseg/core/error.hpp"
#include "fibseg/measure/network_solver.hpp"

namespace fibseg::measure {
namespace {

// Electrolyte voxels connected (6-neighbours) to the face at coordinate 0 along `axis`.
std::vector<std::uint8_t> connectedToInlet(const LabelVolume& v, int phase, int axis) {
  std::vector<std::uint8_t> mask(v.voxels(), 0);
  std::vector<std::size_t> stack;
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) {
        const int c3[3] = {x, y, z};
        const std::size_t i = v.index(x, y, z);
        if (c3[axis] == 0 && v.phase[i] == phase) mask[i] = 1, stack.push_back(i);
      }
  while (!stack.empty()) {
    const std::size_t i = stack.back();
    stack.pop_back();
    const int c3[3] = {int(i % v.nx), int(i / v.nx % v.ny), int(i / (std::size_t(v.nx) * v.ny))};
    for (int a = 0; a < 3; ++a)
      for (int s : {-1, 1}) {
        const int c = c3[a] + s;
        if (c < 0 || c >= v.size(a)) continue;
        const std::size_t j = s > 0 ? i + v.stride(a) : i - v.stride(a);
        if (!mask[j] && v.phase[j] == phase) mask[j] = 1, stack.push_back(j);
      }
  }
  return mask;
}

// Input impedance of a ladder: resistance R[k] into node k, capacitance C[k] from node k to
// ground, the last node open (TauFactor's compute_impedance).
std::complex<double> ladderImpedance(const std::vector<double>& R, const std::vector<double>& C, double frequency) {
  std::complex<double> z = 1e50;
  for (std::size_t k = R.size(); k-- > 0;) z = R[k] + 1.0 / (std::complex<double>(0, frequency * C[k]) + 1.0 / z);
  return z;
}

}  // namespace

ElectrodeTortuosity electrodeTortuosity(const LabelVolume& v, int electrolyte, int active, int axis, double tolerance) {
  if (electrolyte == active || electrolyte < 0 || active < 0 || electrolyte >= v.phases() || active >= v.phases())
    throw Error("electrode tortuosity: the electrolyte and the active material must be two phases of the volume");
  ElectrodeTortuosity out;
  const int N = v.size(axis), b1 = (axis + 1) % 3, b2 = (axis + 2) % 3;
  const double sliceVoxels = double(v.size(b1)) * v.size(b2);
  // Units of the solve: the conductance of a face normal to the axis is 1 (TauFactor's), the
  // others g_a / g_axis; a reacting face's sink is k0 times its area relative to that face's.
  const auto& s = v.voxelUm;
  double g[3], area[3];
  for (int a = 0; a < 3; ++a) area[a] = s[(a + 1) % 3] * s[(a + 2) % 3], g[a] = area[a] / s[a];
  for (int a = 2; a >= 0; --a) g[a] /= g[axis], area[a] /= area[axis];

  const auto domain = connectedToInlet(v, electrolyte, axis);
  std::vector<double> volX(N, 0.0), reactX(N, 0.0);
  std::vector<float> reactive(v.voxels(), 0.0f);  // reacting area of each domain voxel (relative)
  long long inPhase = 0, connected = 0;
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) {
        const int c3[3] = {x, y, z};
        const int k = c3[axis];
        const std::size_t i = v.index(x, y, z);
        if (v.phase[i] != electrolyte) continue;
        ++inPhase, volX[k] += 1;
        if (!domain[i]) continue;
        ++connected;
        double r = 0;
        for (int a = 0; a < 3; ++a) {
          if (c3[a] > 0 && v.phase[i - v.stride(a)] == active) r += area[a];
          if (c3[a] + 1 < v.size(a) && v.phase[i + v.stride(a)] == active) r += area[a];
        }
        reactive[i] = float(r);
        reactX[k] += r;
      }
  for (int k = 0; k < N; ++k) volX[k] /= sliceVoxels, reactX[k] /= sliceVoxels;
  out.volumeFraction = double(inPhase) / double(v.voxels());
  out.connectedFraction = double(connected) / double(v.voxels());
  const double meanReact = std::accumulate(reactX.begin(), reactX.end(), 0.0) / N;  // C: area per slice area
  out.reactiveAreaPerVolumeUm = meanReact / s[axis];
  if (connected == 0) {
    out.reason = std::string("no electrolyte touches the separator face (") + axisName(axis) + " = 0)";
    return out;
  }
  if (meanReact <= 0) {
    out.reason = "the connected electrolyte touches no active material";
    return out;
  }
  // The transmission line at frequency omega = f0 / 4, f0 = eps / (a L^2) (in voxel units; TauFactor's
  // ImpedanceSolver mode tau_e): each reacting face a capacitance to the solid at potential 0.
  const double meanEps = std::accumulate(volX.begin(), volX.end(), 0.0) / N;
  const double omega = meanEps / meanReact / (double(N) * N) / 4.0;
  auto net = ConductanceNetwork::zeros(v.nx, v.ny, v.nz);
  tbb::parallel_for(0, v.nz, [&](int z) {
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) {
        const int c3[3] = {x, y, z};
        const std::size_t i = v.index(x, y, z);
        if (!domain[i]) continue;
        for (int a = 0; a < 3; ++a)
          if (c3[a] + 1 < v.size(a) && domain[i + v.stride(a)]) net.toNext[a][i] = float(g[a]);
        if (c3[axis] == 0) net.toOne[i] = 2.0f;  // half a voxel to the separator's potential 1
      }
  });
  const auto solution = solveNetworkAtFrequency(net, reactive, omega, tolerance, 3000);
  out.iterations = solution.iterations;
  out.relativeResidual = solution.relativeResidual;
  out.converged = solution.converged;
  if (!solution.converged) {
    out.reason = "did not converge: relative residual " + std::to_string(solution.relativeResidual) + " after " +
                 std::to_string(solution.iterations) + " iterations";
    return out;
  }
  // Input impedance per unit area of the separator face: potential 1 over the mean current in.
  std::complex<double> current = 0;
  for (std::size_t i = 0; i < v.voxels(); ++i)
    if (net.toOne[i] > 0) current += double(net.toOne[i]) * (1.0 - solution.potential[i]);
  current /= sliceVoxels;
  const std::complex<double> zSim = 1.0 / current;
  // The homogeneous line: N slices of resistance 1 / eps and capacitance a (the means).
  const auto zMean = ladderImpedance(std::vector<double>(N, 1.0 / meanEps), std::vector<double>(N, meanReact), omega);
  out.tauE = zSim.real() / zMean.real();
  return out;
}

}  // namespace fibseg::measure
