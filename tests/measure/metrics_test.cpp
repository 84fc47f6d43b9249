// The metrics object against hand-built volumes: slab profiles that are disjoint bands (not the
// notebook's cumulative ones), interface areas per slab from the area estimate's per-cell sums,
// the active material's surface shares, absent phases, and the PyBaMM parameters.
#include "fibseg/measure/metrics.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "measure/layered_volume.hpp"

namespace fibseg::measure {
namespace {
using json = nlohmann::ordered_json;
using testing::HasSubstr;

using test::layered;

MetricsOptions quick(int slabs) {
  MetricsOptions o;
  o.tortuosity = false;
  o.sizes = false;
  o.slabs = slabs;
  return o;
}

TEST(Metrics, SlabFractionsAreDisjointBandsNotCumulative) {
  const auto m = measureMetrics(layered(), quick(4));
  const auto& rows = m["slabs"]["rows"];
  ASSERT_EQ(rows.size(), 4u);
  // Slabs of 5 rows each: 0-4 and 5-9 are half SE, half pore; 10-14 and 15-19 all CAM. A
  // cumulative slab 3 (rows 0-19) would hold 50 % CAM.
  for (int s = 0; s < 4; ++s) {
    EXPECT_EQ(rows[s]["from_voxel"], 5 * s);
    EXPECT_EQ(rows[s]["to_voxel"], 5 * s + 5);
    EXPECT_DOUBLE_EQ(rows[s]["from_um"].get<double>(), 2.5 * s);
    const double cam = s >= 2 ? 1.0 : 0.0;
    EXPECT_DOUBLE_EQ(rows[s]["volume_fraction"]["cam"]["mean"].get<double>(), cam) << "slab " << s;
    EXPECT_DOUBLE_EQ(rows[s]["volume_fraction"]["se"]["mean"].get<double>(), (1 - cam) / 2) << "slab " << s;
    EXPECT_DOUBLE_EQ(rows[s]["volume_fraction"]["pore"]["std"].get<double>(), 0.0);  // identical slices
  }
  EXPECT_DOUBLE_EQ(m["phases"]["cam"]["volume_fraction"].get<double>(), 0.5);
  EXPECT_EQ(m["phases"]["cam"]["volume_fraction_per_slice"].size(), 3u);
}

TEST(Metrics, InterfaceAreasPerSlabComeFromTheAreaEstimateAndAddUpToTheTotal) {
  const auto v = layered();
  const auto m = measureMetrics(v, quick(4));
  const auto& rows = m["slabs"]["rows"];
  // The CAM plane at y = 10 has area 8 x 3 voxels = 24 voxel faces = 6 µm^2 in a volume of
  // 8 x 20 x 3 x 0.125 µm^3 = 60 µm^3; half of it touches SE, half pore.
  const double total = m["interfaces"]["se|cam"]["area_per_volume_per_um"].get<double>() +
                       m["interfaces"]["pore|cam"]["area_per_volume_per_um"].get<double>();
  EXPECT_NEAR(total, 6.0 / 60.0, 0.02 * 0.1);
  // Slab volumes are equal: the mean of the per-slab areas per volume is the whole one, and the
  // plane lies in slabs 1 and 2 only (the smoothing reaches 3 voxels, a slab is 5).
  double sum = 0;
  for (int s = 0; s < 4; ++s) sum += rows[s]["interface_area_per_volume_per_um"]["se|cam"]["mean"].get<double>();
  EXPECT_NEAR(sum / 4, m["interfaces"]["se|cam"]["area_per_volume_per_um"].get<double>(), 1e-9);
  EXPECT_NEAR(rows[0]["interface_area_per_volume_per_um"]["se|cam"]["mean"].get<double>(), 0.0, 1e-6);
  EXPECT_NEAR(rows[3]["interface_area_per_volume_per_um"]["pore|cam"]["mean"].get<double>(), 0.0, 1e-6);
  // The CAM surface touches SE and pore in equal parts: CAM-SE / (CAM-SE + CAM-pore) = 0.5.
  for (int s : {1, 2})
    EXPECT_NEAR(rows[s]["active_material_surface_share"]["se"]["mean"].get<double>(), 0.5, 0.02) << "slab " << s;
  // Without CAM surface in a slab the share is undefined: null, not 0 or NaN.
  EXPECT_TRUE(rows[0]["active_material_surface_share"]["se"]["mean"].is_null());
  EXPECT_THAT(m["method"]["areas"].get<std::string>(), HasSubstr("not a count of voxel faces"));

  const std::string csv = slabInterfacesCsv(m);
  EXPECT_THAT(csv, HasSubstr("slab,from_um,to_um,pore-se_per_um_mean,pore-se_per_um_std,pore-cam_per_um_mean"));
  EXPECT_THAT(csv, HasSubstr("cam_surface_share_se_mean"));
  EXPECT_THAT(slabFractionsCsv(m), HasSubstr("\n3,7.5,10,0,0,0,0,1,0\n"));
}

TEST(Metrics, SlabsMustFitTheThicknessAxis) {
  try {
    measureMetrics(layered(), quick(21));
    FAIL() << "21 slabs of 20 rows";
  } catch (const std::exception& e) {
    EXPECT_THAT(e.what(), HasSubstr("measure.slabs = 21: expected 1 to 20"));
  }
}

TEST(Metrics, AnAbsentPhaseIsZeroOrNullNotAnError) {
  auto v = makeVolume(6, 6, 4, {"pore", "se", "cam"});
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) v.phase[v.index(x, y, z)] = x < 3 ? 1 : 0;  // no CAM
  MetricsOptions o;
  o.slabs = 2;
  const auto m = measureMetrics(v, o);
  const auto& cam = m["phases"]["cam"];
  EXPECT_EQ(cam["volume_fraction"].get<double>(), 0.0);
  EXPECT_EQ(cam["specific_surface_area_per_um"].get<double>(), 0.0);
  EXPECT_TRUE(cam["tortuosity_factor"]["y"].is_null());
  EXPECT_EQ(cam["tortuosity_null_reason"]["y"], "the phase is absent");
  EXPECT_TRUE(cam["size_distribution"]["local_thickness_d50_um"].is_null());
  const auto p = pybammParameters(m);
  EXPECT_EQ(p["Positive electrode active material volume fraction"].get<double>(), 0.0);
  EXPECT_FALSE(p.contains("Positive particle radius [m]"));
  EXPECT_TRUE(p["fibseg"]["not_available"].contains("Positive particle radius [m]"));
  EXPECT_THAT(metricsCsv(m), HasSubstr("\ncam,tortuosity_factor,y,,\n"));
}

TEST(Metrics, PybammParametersOfStraightSeChannels) {
  // SE slabs x < 2 and x = 5 straight through along y: tau_y = 1, so Bruggeman b = 1 - ln 1 /
  // ln eps = 1 and the transport efficiency is eps / tau = 0.5. CAM fills x = 2..4, inside.
  auto v = makeVolume(6, 6, 4, {"pore", "se", "cam"}, {0.1, 0.1, 0.1});
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) v.phase[v.index(x, y, z)] = x >= 2 && x < 5 ? 2 : 1;
  MetricsOptions o;
  o.slabs = 3;
  o.electrode = "negative";
  o.tortuosityMinChords = 0;  // 6 voxels hold less than 10 features: solve this analytic case anyway
  o.sizesMinChords = 0;       // and the CAM slab spans the volume along y: measure its thickness anyway
  const auto m = measureMetrics(v, o);
  const auto p = pybammParameters(m);
  EXPECT_DOUBLE_EQ(p["Negative electrode porosity"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(p["Negative electrode active material volume fraction"].get<double>(), 0.5);
  EXPECT_NEAR(p["Negative electrode tortuosity factor (electrolyte)"].get<double>(), 1.0, 1e-3);
  EXPECT_NEAR(p["Negative electrode Bruggeman coefficient (electrolyte)"].get<double>(), 1.0, 2e-3);
  EXPECT_NEAR(p["fibseg"]["derived"]["electrolyte transport efficiency (eps/tau)"].get<double>(), 0.5, 1e-3);
  // The CAM slab is 3 voxels = 0.3 µm thick: local thickness d50 0.3 µm, radius 0.15 µm.
  EXPECT_NEAR(p["Negative particle radius [m]"].get<double>(), 0.15e-6, 0.05e-6);
  EXPECT_EQ(p["fibseg"]["thickness_axis"], "y");
  EXPECT_THAT(metricsCsv(m), HasSubstr("\nse,volume_fraction,,0.5,\n"));
}

TEST(Metrics, AnElectrodeThatIsNeitherIsAnError) {
  MetricsOptions o = quick(2);
  o.electrode = "left";
  EXPECT_THROW(measureMetrics(layered(), o), std::exception);
}

}  // namespace
}  // namespace fibseg::measure
