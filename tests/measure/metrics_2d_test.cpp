// 2D metrics against geometry: digitised discs (perimeter 2 pi r), straight lines at several
// angles crossing an image (length H / cos t; the image's edges are not boundaries), interfaces
// between three phases, slabs that add up, anisotropic pixels, and the line over-read itself.
#include "fibseg/measure/metrics_2d.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "fibseg/core/error.hpp"

namespace fibseg::measure {
namespace {

// Phase 1 inside a disc of radius r (µm) centred at (cx, cy) µm, on pixels of dx by dy µm.
LabelVolume disc(double r, double dx = 1, double dy = 1, double offsetX = 0, double offsetY = 0) {
  const int nx = int(std::ceil((2 * r + 12) / dx)), ny = int(std::ceil((2 * r + 12) / dy));
  auto v = makeVolume(nx, ny, 1, {"pore", "cam"}, {dx, dy, 1});
  const double cx = nx * dx / 2 + offsetX, cy = ny * dy / 2 + offsetY;
  for (int y = 0; y < ny; ++y)
    for (int x = 0; x < nx; ++x) {
      const double px = (x + 0.5) * dx - cx, py = (y + 0.5) * dy - cy;
      v.phase[v.index(x, y, 0)] = px * px + py * py <= r * r ? 1 : 0;
    }
  return v;
}

TEST(Metrics2d, LineOverReadOfMarchingSquares) {
  EXPECT_NEAR(marchingSquaresLineOverRead(1, 0, 1, 1), 1.0, 1e-12);  // axis line: exact
  EXPECT_NEAR(marchingSquaresLineOverRead(0, 1, 1, 1), 1.0, 1e-12);
  EXPECT_NEAR(marchingSquaresLineOverRead(1, 1, 1, 1), 1.0, 1e-12);  // diagonal: midpoints on the line
  // Normal at atan(1/2): the staircase's mean length per unit line is cos t + (sqrt 2 - 1) sin t.
  const double t = std::atan(0.5);
  EXPECT_NEAR(marchingSquaresLineOverRead(std::cos(t), std::sin(t), 1, 1), std::cos(t) + (std::sqrt(2.0) - 1) * std::sin(t),
              1e-12);
  // A property of the line, not of the sign of its normal.
  EXPECT_NEAR(marchingSquaresLineOverRead(-std::cos(t), std::sin(t), 1, 1),
              marchingSquaresLineOverRead(std::cos(t), -std::sin(t), 1, 1), 1e-12);
  // Anisotropic cells: the cell diagonal is read exactly.
  EXPECT_NEAR(marchingSquaresLineOverRead(1 / 0.5, 1 / 2.0, 0.5, 2), 1.0, 1e-12);
}

TEST(Metrics2d, DigitisedDiscsWithinOnePercent) {
  for (double r : {6.0, 8.0, 15.0, 40.0})
    for (auto [ox, oy] : {std::pair{0.0, 0.0}, std::pair{0.37, 0.21}}) {
      const auto s = boundaryLengths(disc(r, 1, 1, ox, oy), 2.0, Y, 1);
      const double truth = 2 * M_PI * r;
      EXPECT_NEAR(s.phaseTotalUm[1], truth, 0.01 * truth) << "r = " << r;
      EXPECT_NEAR(s.phaseTotalUm[0], truth, 0.01 * truth) << "r = " << r;
      EXPECT_NEAR(s.interfaceTotalUm[0], truth, 0.01 * truth) << "r = " << r;
    }
}

TEST(Metrics2d, UncorrectedMarchingSquaresWouldReadDiscsHigh) {
  // What the correction is for: the plain marching-squares polygon of the same disc (its pattern
  // lengths summed, no correction) reads several percent high.
  const auto v = disc(30);
  const auto corrected = boundaryLengths(v, 2.0, Y, 1).phaseTotalUm[1];
  double raw = 0;  // marching squares without correction: sum of the pattern lengths
  for (int y = 0; y + 1 < v.ny; ++y)
    for (int x = 0; x + 1 < v.nx; ++x) {
      const int p = v.phase[v.index(x, y, 0)] | v.phase[v.index(x + 1, y, 0)] << 1 | v.phase[v.index(x, y + 1, 0)] << 2 |
                    v.phase[v.index(x + 1, y + 1, 0)] << 3;
      const int n = __builtin_popcount(p);
      if (n == 1 || n == 3) raw += std::sqrt(0.5);
      else if (n == 2) raw += (p == 0b0110 || p == 0b1001) ? 2 * std::sqrt(0.5) : 1.0;
    }
  const double truth = 2 * M_PI * 30;
  EXPECT_GT(raw, 1.03 * truth);  // the staircase reads several percent high
  EXPECT_NEAR(corrected, truth, 0.01 * truth);
}

// A line with normal (cos t, sin t) through the centre of an image twice as wide as high crosses
// the top and bottom edges: its length inside is H / cos t. Every 2.5 degrees from 0 to 45 reads
// within 0.5 % with the two-pixel smoothing (one pixel left +1.1 % at 7.5-10 degrees).
TEST(Metrics2d, StraightLinesAcrossTheImageWithinHalfAPercent) {
  for (double deg = 0; deg <= 45; deg += 2.5) {
    const int H = 120, W = 2 * H;
    auto v = makeVolume(W, H, 1, {"pore", "se"});
    const double t = deg * M_PI / 180;
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x)
        v.phase[v.index(x, y, 0)] = (x + 0.5 - W / 2.0) * std::cos(t) + (y + 0.5 - H / 2.0) * std::sin(t) < 0.137;
    const auto s = boundaryLengths(v, 2.0, Y, 4);
    const double truth = H / std::cos(t);
    EXPECT_NEAR(s.phaseTotalUm[1], truth, 0.005 * truth) << deg << " degrees";
    EXPECT_NEAR(s.interfaceTotalUm[0], truth, 0.005 * truth) << deg << " degrees";
    double slabSum = 0;
    for (const auto& slab : s.interfacePerSlab) {
      EXPECT_NEAR(slab[0], truth / 4, 0.02 * truth / 4) << deg << " degrees: each band of rows holds a quarter";
      slabSum += slab[0];
    }
    EXPECT_NEAR(slabSum, s.interfaceTotalUm[0], 1e-9);
  }
}

TEST(Metrics2d, AnisotropicPixelsMeasureInMicrometres) {
  const double r = 20;
  const auto s = boundaryLengths(disc(r, 0.5, 1.25), 1.0, Y, 1);  // 2 px of 0.5 µm
  EXPECT_NEAR(s.phaseTotalUm[1], 2 * M_PI * r, 0.015 * 2 * M_PI * r);
}

TEST(Metrics2d, ThreePhaseInterfacesAddUp) {
  // A CAM disc of radius 20 inside an SE square inside pore: CAM|SE = 2 pi r, SE|pore = the
  // square's perimeter, CAM|pore = 0.
  const int n = 100;
  auto v = makeVolume(n, n, 1, {"pore", "se", "cam"});
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) {
      const double px = x + 0.5 - 50, py = y + 0.5 - 50;
      v.phase[v.index(x, y, 0)] = px * px + py * py <= 400 ? 2 : (x >= 20 && x < 80 && y >= 20 && y < 80) ? 1 : 0;
    }
  const auto s = boundaryLengths(v, 2.0, Y, 1);
  ASSERT_EQ(s.pairs.size(), 3u);  // pore|se, pore|cam, se|cam
  // A square's sharp corners are cut by marching squares and turn the smoothed normal diagonal
  // near them: each costs under 1 px (measured 0.75), whatever the square's size.
  EXPECT_NEAR(s.interfaceTotalUm[0], 4 * 60, 4 * 1.0);
  EXPECT_NEAR(s.interfaceTotalUm[1], 0, 1e-9);
  EXPECT_NEAR(s.interfaceTotalUm[2], 2 * M_PI * 20, 0.01 * 2 * M_PI * 20);
  EXPECT_NEAR(s.phaseTotalUm[1], 240 + 2 * M_PI * 20, 4 * 1.0 + 0.01 * 2 * M_PI * 20);
}

TEST(Metrics2d, TheMetricsObjectOfASlice) {
  auto v = disc(20, 0.1, 0.1);  // r = 20 µm on 0.1 µm pixels
  v.phaseNames = {"se", "cam"};
  MetricsOptions o;
  o.slabs = 5;
  const auto m = measureMetrics2d(v, o);
  EXPECT_TRUE(isMetrics2d(m));
  const double area = double(v.nx) * v.ny * 0.01;
  const double camFraction = m["phases"]["cam"]["area_fraction"].get<double>();
  EXPECT_NEAR(camFraction, M_PI * 400 / area, 0.002);
  const double perArea = m["interfaces"]["se|cam"]["length_per_area_per_um"].get<double>();
  EXPECT_NEAR(perArea, 2 * M_PI * 20 / area, 0.01 * 2 * M_PI * 20 / area);
  // Specific perimeter of the disc: 2 pi r / (pi r^2) = 2 / r.
  EXPECT_NEAR(m["phases"]["cam"]["specific_perimeter_per_um"].get<double>(), 2.0 / 20, 0.01 * 0.1);
  EXPECT_EQ(m["slabs"]["rows"].size(), 5u);
  for (const char* k : {"tortuosity_factor", "connectivity", "local_thickness"})
    EXPECT_NE(m["not_computed"][k].get<std::string>().find("single slice"), std::string::npos) << k;
  const auto pybamm = pybammParameters2d(m);
  EXPECT_NEAR(pybamm["Positive electrode porosity"].get<double>(), 1 - camFraction, 1e-12);
  EXPECT_TRUE(pybamm["fibseg"]["not_available"].contains("Positive particle radius [m]"));
  const std::string csv = slabInterfacesCsv2d(m);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "slab,from_um,to_um,se-cam_per_um,cam_boundary_share_se");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 6);
  o.slabAxis = Z;
  EXPECT_THROW(measureMetrics2d(v, o), Error);  // 5 slabs along a single slice's depth
  auto twoSlices = makeVolume(8, 8, 2, {"se", "cam"});
  EXPECT_THROW(measureMetrics2d(twoSlices, MetricsOptions{}), Error);
}

}  // namespace
}  // namespace fibseg::measure
