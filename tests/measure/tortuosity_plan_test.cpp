// Choosing what to solve: the --tortuosity / parameter selection, and by default only where the
// volume spans enough of the phase's features (its mean chords) along every axis to mean something.
#include "fibseg/measure/tortuosity_plan.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fibseg/measure/label_file.hpp"
#include "fibseg/measure/metrics.hpp"
#include "fibseg/measure/tortuosity.hpp"
#include "fibseg/measure/tortuosity_rev.hpp"
#include "real_data.hpp"

namespace fibseg::measure {
namespace {
using testing::HasSubstr;

TEST(TortuosityPlan, ParsesPhasesAndAxes) {
  const auto s = parseTortuositySelection("pore:z, SE:xy,cam", "--tortuosity");
  EXPECT_TRUE(s.named);
  EXPECT_TRUE(s.asks("pore", Z));
  EXPECT_FALSE(s.asks("pore", X));
  EXPECT_TRUE(s.asks("se", X));
  EXPECT_TRUE(s.asks("se", Y));
  EXPECT_FALSE(s.asks("se", Z));
  for (int a = 0; a < 3; ++a) EXPECT_TRUE(s.asks("cam", a));
  const auto none = parseTortuositySelection("none", "--tortuosity");
  for (int a = 0; a < 3; ++a) EXPECT_FALSE(none.asks("pore", a));
  const auto all = parseTortuositySelection("all:y", "--tortuosity");
  EXPECT_TRUE(all.asks("anything", Y));
  EXPECT_FALSE(all.asks("anything", Z));
  EXPECT_THAT([] { parseTortuositySelection("pore:w", "--tortuosity"); },
              testing::ThrowsMessage<std::exception>(HasSubstr("axis 'w'")));
  EXPECT_THROW(parseTortuositySelection("pore:z,,se", "--tortuosity"), std::exception);
  const auto fromFile = tortuositySelectionFrom("se, cam", "y", "measure.tortuosity_phases");
  EXPECT_FALSE(fromFile.named);  // the caller decides (a value set in a file is named)
  EXPECT_TRUE(fromFile.asks("SE", Y));
  EXPECT_FALSE(fromFile.asks("pore", Y));
  EXPECT_FALSE(fromFile.asks("cam", X));
}

TEST(TortuosityPlan, UnknownPhaseNamedIsAnError) {
  auto v = makeVolume(4, 4, 4, {"pore", "solid"});
  EXPECT_THAT([&] {
    planTortuosity(v, parseTortuositySelection("pores:z", "--tortuosity"), 10, {{1, 1, 1}, {1, 1, 1}}, {32, 32});
  }, testing::ThrowsMessage<std::exception>(HasSubstr("'pores' is not one of the volume's phases (pore, solid)")));
}

TEST(TortuosityPlan, ThinVolumeIsNotRepresentativeUnlessNamed) {
  // 200 x 200 x 3 voxels, features 5 voxels long along x and y, truncated to 3 along z: three
  // slices hold no 3D network, so nothing is solved by default, along any axis.
  auto v = makeVolume(200, 200, 3, {"pore", "solid"});
  const std::vector<std::array<double, 3>> chords{{5, 5, 3}, {5, 5, 3}};
  const auto plan = planTortuosity(v, TortuositySelection{}, 10, chords, {60000, 60000});
  EXPECT_EQ(plan.solves, 0);
  for (int p = 0; p < 2; ++p)
    for (int a = 0; a < 3; ++a) {
      EXPECT_FALSE(plan.phases[p][a].solve);
      EXPECT_THAT(plan.phases[p][a].reason, HasSubstr("3 voxels along z"));
    }
  EXPECT_THAT(plan.summary, HasSubstr("skipped as not representative"));
  // Long enough along x and y but only 4 chords deep in z: still not representative.
  auto deeper = makeVolume(200, 200, 40, {"pore", "solid"});
  EXPECT_EQ(planTortuosity(deeper, TortuositySelection{}, 10, {{5, 5, 10}, {5, 5, 3}}, {1, 1}).solves, 3);
  // Named: solved regardless; minChords 0: everything asked.
  const auto named = planTortuosity(v, parseTortuositySelection("pore:x", "--tortuosity"), 10, chords, {60000, 60000});
  EXPECT_EQ(named.solves, 1);
  EXPECT_TRUE(named.phases[0][X].solve);
  EXPECT_THAT(named.phases[0][Z].reason, HasSubstr("not asked for (--tortuosity)"));
  EXPECT_EQ(planTortuosity(v, TortuositySelection{}, 0, chords, {60000, 60000}).solves, 6);
  // An absent phase is never solved.
  EXPECT_EQ(planTortuosity(v, TortuositySelection{}, 0, chords, {60000, 0}).solves, 3);
}

TEST(TortuosityPlan, LocalThicknessNeedsTwoFeaturesAlongEveryAxis) {
  auto v = makeVolume(200, 200, 3, {"pore"});
  EXPECT_THAT(sizesNotRepresentative(v, {30, 30, 2.8}, 2), HasSubstr("3 voxels along z"));
  EXPECT_EQ(sizesNotRepresentative(v, {30, 30, 2.8}, 0), "");
  v.nz = 60;
  EXPECT_EQ(sizesNotRepresentative(v, {30, 30, 20}, 2), "");
  // Metrics: null d50 with the reason, chords still there, the PyBaMM radius says why.
  auto thin = makeVolume(40, 40, 3, {"pore", "cam"});
  for (int z = 0; z < 3; ++z)
    for (int y = 0; y < 40; ++y)
      for (int x = 0; x < 40; ++x) thin.phase[thin.index(x, y, z)] = (x / 10 + y / 10) % 2;
  MetricsOptions o;
  o.tortuosity = false;
  o.slabs = 2;
  o.activeMaterialPhase = "cam";
  const auto m = measureMetrics(thin, o);
  const auto& sd = m["phases"]["cam"]["size_distribution"];
  EXPECT_TRUE(sd["local_thickness_d50_um"].is_null());
  EXPECT_THAT(sd["local_thickness_null_reason"].get<std::string>(), HasSubstr("measure.sizes_min_chords"));
  EXPECT_NEAR(sd["mean_chord_um"]["x"].get<double>(), 10.0, 1e-9);
  EXPECT_THAT(pybammParameters(m)["fibseg"]["not_available"]["Positive particle radius [m]"].get<std::string>(),
              HasSubstr("not representative"));
}

TEST(TortuosityPlan, ElectrodeSelectionSolvesOnlyThatAndDefaultsKeepAllNine) {
  FIBSEG_REQUIRE_REAL_DATA(folder, "taufactor-electrode");
  const auto v = readLabelVolume(folder / "electrode.tiff", {{"pore", 0}, {"nmc", 85}, {"cbd", 170}}, std::nullopt);
  MetricsOptions o;
  o.sizes = false;
  o.slabs = 4;
  o.electrolytePhase = "pore";
  o.activeMaterialPhase = "nmc";
  o.tortuositySelection = parseTortuositySelection("pore:z", "--tortuosity");
  std::vector<std::string> told;
  o.log = [&](const std::string& line) { told.push_back(line); };
  const auto m = measureMetrics(v, o);
  ASSERT_EQ(told.size(), 1u);
  EXPECT_THAT(told[0], HasSubstr("1 solve (pore:z)"));
  int nonNull = 0;
  for (const auto& [name, ph] : m.at("phases").items())
    for (const char* a : {"x", "y", "z"})
      if (ph.at("tortuosity_factor").at(a).is_number()) {
        ++nonNull;
        EXPECT_EQ(name, "pore");
        EXPECT_EQ(std::string(a), "z");
      } else {
        EXPECT_THAT(ph.at("tortuosity_null_reason").at(a).get<std::string>(), HasSubstr("not asked for"));
      }
  EXPECT_EQ(nonNull, 1);
  // The value is the one the full run solves for (phase 0, z) with the same solver.
  const auto full = tortuosity(v, 0, Z, {});
  ASSERT_TRUE(full.tau);
  EXPECT_EQ(m["phases"]["pore"]["tortuosity_factor"]["z"].get<double>(), *full.tau);
  EXPECT_NEAR(*full.tau, 2.0776, 0.005 * 2.0776);
  // The PyBaMM file says which value the choice left out (the thickness axis is y here).
  const auto p = pybammParameters(m);
  EXPECT_THAT(p["fibseg"]["not_available"]["Positive electrode tortuosity factor (electrolyte)"].get<std::string>(),
              HasSubstr("not asked for (--tortuosity)"));

  // Registry defaults on the electrode: every feature is 16 voxels or less along each axis, so
  // the 256^3 volume spans more than 10 of them and all nine solves stay.
  std::vector<std::array<double, 3>> chords;
  std::vector<long long> voxels;
  for (const auto& [name, ph] : m.at("phases").items()) {
    chords.push_back({});
    for (int a = 0; a < 3; ++a)
      chords.back()[a] = ph["size_distribution"]["mean_chord_um"][axisName(a)].get<double>() / v.voxelUm[a];
    voxels.push_back(1);
  }
  EXPECT_EQ(planTortuosity(v, TortuositySelection{}, MetricsOptions{}.tortuosityMinChords, chords, voxels).solves, 9);
}

TEST(TortuosityPlan, EstimateByRevCountsTheCubesNotTheVolume) {
  // The large bench volume's shape: edges 64 and 128 (the memory limit's largest), 5 cubes each.
  LabelVolume shape;
  shape.nx = 3072, shape.ny = 4096, shape.nz = 300;
  shape.phaseNames = {"pore", "se"};
  RevOptions rev;
  rev.largestEdge = 128;
  const auto cost = revSolveCost(shape, rev, false);
  EXPECT_EQ(cost.voxels, 5.0 * (64 * 64 * 64 + 128 * 128 * 128));
  EXPECT_THAT(cost.how, HasSubstr("64^3, 128^3"));
  const std::vector<std::array<double, 3>> chords{{5, 5, 5}, {5, 5, 5}};
  const auto plan = planTortuosity(shape, TortuositySelection{}, 10, chords, {1, 1}, cost);
  EXPECT_EQ(plan.solves, 6);
  EXPECT_DOUBLE_EQ(plan.estimatedSeconds, 6 * estimatedSolveSeconds(std::size_t(cost.voxels)));
  EXPECT_THAT(plan.summary, HasSubstr("by REV"));
  // The whole volume beside the cubes (rev asked for where the full solve fits) adds its voxels;
  // 100 slices: half of them, 50, is the one edge (revEdges).
  EXPECT_EQ(revSolveCost(shape, rev, true).voxels, cost.voxels + double(shape.voxels()));
  shape.nz = 100;
  rev.largestEdge = 0;
  EXPECT_EQ(revSolveCost(shape, rev, false).voxels, 5.0 * 50 * 50 * 50);
  // Without a cost the plan counts the whole volume per solve.
  EXPECT_DOUBLE_EQ(planTortuosity(shape, TortuositySelection{}, 0, chords, {1, 1}).estimatedSeconds,
                   6 * estimatedSolveSeconds(shape.voxels()));
}

}  // namespace
}  // namespace fibseg::measure
