// The modellers' blocks of metrics.json (issue 28) through measureMetrics: keys, units in
// metrics.csv, and values on hand-built volumes whose answers are known.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "measure/layered_volume.hpp"

#include "fibseg/core/error.hpp"
#include "fibseg/measure/metrics.hpp"

namespace fibseg::measure {
namespace {
using json = nlohmann::ordered_json;
using testing::HasSubstr;

using test::layered;

MetricsOptions quick() {
  MetricsOptions o;
  o.tortuosity = false;
  o.sizes = false;
  o.slabs = 2;
  return o;
}

TEST(ModellerMetrics, TriplePhaseBoundaryInJsonAndCsv) {
  const auto m = measureMetrics(layered(), quick());
  // The three phases meet on one line along z (x = 4, y = 10): 3 voxels of 0.5 µm in 60 µm^3.
  const json& t = m.at("triple_phase_boundaries").at("pore|se|cam");
  EXPECT_DOUBLE_EQ(t["length_per_volume_per_um2"].get<double>(), 1.5 / 60.0);
  // SE and pore stop at row 9: neither percolates along y (the slab axis), so no line is active.
  EXPECT_DOUBLE_EQ(t["active_length_per_volume_per_um2"].get<double>(), 0.0);
  EXPECT_THAT(m["method"]["triple_phase_boundaries"].get<std::string>(), HasSubstr("percolating along y"));
  EXPECT_THAT(metricsCsv(m), HasSubstr("pore|se|cam,length_per_volume_per_um2,,0.025,1/um^2"));
  auto o = quick();
  o.triplePhaseBoundaries = false;
  EXPECT_FALSE(measureMetrics(layered(), o).contains("triple_phase_boundaries"));
}

}  // namespace
}  // namespace fibseg::measure

namespace fibseg::measure {
namespace {

TEST(ModellerMetrics, MultiPhaseDiffusionInJsonAndCsv) {
  // SE (x < 4, D = 1) and pore (x >= 4, D = 0.1) over rows 0-9, CAM (D = 0) in rows 10-19:
  // along y nothing crosses the CAM.
  auto o = quick();
  o.tortuosity = true;
  o.diffusivities = {{"se", 1.0}, {"PORE", 0.1}};
  const auto m = measureMetrics(layered(), o);
  const json& d = m.at("multiphase_diffusion");
  EXPECT_DOUBLE_EQ(d["diffusivities"]["cam"].get<double>(), 0.0);
  EXPECT_NEAR(d["mean_diffusivity"].get<double>(), 0.25 * 1.0 + 0.25 * 0.1, 1e-12);
  EXPECT_TRUE(d["tortuosity_factor"]["y"].is_null());
  EXPECT_THAT(d["null_reason"]["y"].get<std::string>(), HasSubstr("both faces"));
  // Along z: straight columns of SE and pore, parallel: D_eff = 0.275, tau = 1.
  EXPECT_NEAR(d["effective_diffusivity"]["z"].get<double>(), 0.275, 1e-6);
  EXPECT_NEAR(d["tortuosity_factor"]["z"].get<double>(), 1.0, 1e-5);
  // Along x, each row is 4 voxels of SE then 4 of pore in series: D = 2 / (1 + 10) over half the rows.
  EXPECT_NEAR(d["effective_diffusivity"]["x"].get<double>(), 0.5 * 2.0 / 11.0, 1e-6);
  EXPECT_THAT(metricsCsv(m), HasSubstr("multiphase,tortuosity_factor,z,1,"));
  o.diffusivities = {{"carbon", 1.0}};
  EXPECT_THROW(measureMetrics(layered(), o), Error);
}

}  // namespace
}  // namespace fibseg::measure

namespace fibseg::measure {
namespace {

TEST(ModellerMetrics, ParticlesGiveTheTableTheCsvAndThePybammRadius) {
  // Twelve CAM spheres of radius 4 voxels (0.5 µm: 2 µm) in SE on a 4 x 3 grid, a thirteenth cut by
  // the volume's face at x = 63.
  auto v = makeVolume(64, 40, 24, {"pore", "se", "cam"}, {0.5, 0.5, 0.5});
  for (auto& p : v.phase) p = 1;
  const auto sphere = [&](int cx, int cy) {
    for (int z = 0; z < v.nz; ++z)
      for (int y = 0; y < v.ny; ++y)
        for (int x = 0; x < v.nx; ++x)
          if ((x - cx) * (x - cx) + (y - cy) * (y - cy) + (z - 12) * (z - 12) <= 16) v.phase[v.index(x, y, z)] = 2;
  };
  for (int cx : {8, 20, 32, 44})
    for (int cy : {8, 20, 32}) sphere(cx, cy);
  sphere(63, 20);
  auto o = quick();
  const auto m = measureMetrics(v, o);
  const json& p = m.at("phases").at("cam").at("particles");
  EXPECT_EQ(p["count_initial"], 13);
  EXPECT_EQ(p["count_kept"], 12);
  EXPECT_DOUBLE_EQ(p["removed_count_fraction"].get<double>(), 1.0 / 13.0);
  EXPECT_TRUE(p["warning"].is_null());
  EXPECT_NEAR(p["equivalent_diameter_d50_um"].get<double>(), 4.0, 0.5);
  const std::string csv = particlesCsv(m, "cam");
  EXPECT_THAT(csv, HasSubstr("label,volume_um3,equivalent_diameter_um"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 13);  // header + 12 particles
  EXPECT_THAT(metricsCsv(m), HasSubstr("cam,count_kept,,12,"));
  const auto pybamm = pybammParameters(m);
  EXPECT_NEAR(pybamm["Positive particle radius [m]"].get<double>(), 2.0e-6, 0.25e-6);
  EXPECT_THAT(pybamm["fibseg"]["sources"]["Positive particle radius [m]"].get<std::string>(), HasSubstr("Sauter"));
  o.particlesRemoveBoundary = false;
  EXPECT_EQ(measureMetrics(v, o)["phases"]["cam"]["particles"]["count_kept"], 13);
}

TEST(ModellerMetrics, FewWholeParticlesLeaveThePybammRadiusToTheLocalThickness) {
  // One CAM sphere inside, two cut by the faces: one whole particle is no distribution.
  auto v = makeVolume(40, 24, 24, {"pore", "se", "cam"}, {0.5, 0.5, 0.5});
  for (auto& p : v.phase) p = 1;
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) {
        const auto in = [&](double cx, double cy) {
          return (x - cx) * (x - cx) + (y - cy) * (y - cy) + (z - 12) * (z - 12) <= 25;
        };
        if (in(12, 12) || in(38, 12) || in(26, 22)) v.phase[v.index(x, y, z)] = 2;
      }
  auto o = quick();
  o.sizes = true;
  const auto m = measureMetrics(v, o);
  EXPECT_EQ(m["phases"]["cam"]["particles"]["count_kept"], 1);
  EXPECT_THAT(m["phases"]["cam"]["particles"]["warning"].get<std::string>(), HasSubstr("more than half"));
  const auto pybamm = pybammParameters(m);
  EXPECT_THAT(pybamm["fibseg"]["sources"]["Positive particle radius [m]"].get<std::string>(), HasSubstr("local thickness"));
}

}  // namespace
}  // namespace fibseg::measure

#include "fibseg/measure/electrode_tortuosity.hpp"

namespace fibseg::measure {
namespace {

TEST(ModellerMetrics, ElectrodeTortuosityOfTheElectrolyteInJsonCsvAndPybamm) {
  auto o = quick();
  o.tortuosity = true;
  o.tortuosityMinChords = 0;  // a volume a few features thin: solve all the same (tau_e follows the plan)
  const auto v = layered();
  const auto m = measureMetrics(v, o);
  const json& se = m.at("phases").at("se");
  for (int a = 0; a < 3; ++a) {
    const auto direct = electrodeTortuosity(v, 1, 2, a);
    ASSERT_TRUE(direct.tauE) << direct.reason;
    // Equal to the solve's tolerance (parallel sums are not summed in the same order every run).
    EXPECT_NEAR(se["electrode_tortuosity_factor"][axisName(a)].get<double>(), *direct.tauE, 1e-5 * *direct.tauE);
    EXPECT_NEAR(se["electrode_macmullin_number"][axisName(a)].get<double>(), *direct.tauE / 0.25, 1e-5 * *direct.tauE / 0.25);
  }
  EXPECT_FALSE(m["phases"]["pore"].contains("electrode_tortuosity_factor"));
  EXPECT_THAT(metricsCsv(m), HasSubstr("se,electrode_tortuosity_factor,y,"));
  const auto pybamm = pybammParameters(m);
  EXPECT_DOUBLE_EQ(pybamm["fibseg"]["electrode_tortuosity_factor"].get<double>(),
                   se["electrode_tortuosity_factor"]["y"].get<double>());
  EXPECT_THAT(m["method"]["electrode_tortuosity"].get<std::string>(), HasSubstr("Re Z / Re Z_line"));
  o.electrodeTortuosity = false;
  EXPECT_FALSE(measureMetrics(v, o)["phases"]["se"].contains("electrode_tortuosity_factor"));
}

}  // namespace
}  // namespace fibseg::measure
