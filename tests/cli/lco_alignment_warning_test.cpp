// The "probably not aligned" warning on a real series: lco-fibsem BSE registers with every pair
// trusted at the registry's align.min_quality (1.5), but its right matches have a quality of only
// 4.2-8.2 (bench/README.md, Registration). Demanding 7 leaves most pairs untrusted, so more than a
// quarter are bridged and the run must say, in the console and in run.json, that the stack is
// probably not aligned and what to set. Skipped when the real data is absent.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>

#include "real_data.hpp"
#include "run_cli.hpp"

using namespace fibseg::test;

TEST(LcoAlignmentWarning, MostPairsBridgedSaysTheStackIsProbablyNotAligned) {
  FIBSEG_REQUIRE_REAL_DATA(bse, "lco-fibsem/bse");
  TempFolder w("lco_not_aligned");
  ASSERT_EQ(runCli("init " + (w / "p.toml")).exitCode, 0);
  const auto run = runCli("run " + (w / "p.toml") + " --set input.path=" + bse.string() + " --set output.folder=" + (w / "out") +
                          " --set align.min_quality=7 --set output.report=false");
  ASSERT_EQ(run.exitCode, 0) << run.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(run.output, m, std::regex("warning: (\\d+) of 29 slice pairs were bridged: the stack "
                                                          "is probably NOT aligned")))
      << run.output;
  const int bridged = std::stoi(m[1]);
  EXPECT_GT(4 * bridged, 29);
  EXPECT_NE(run.output.find("align.register_x"), std::string::npos);  // says what to set
  std::ifstream in(w / "out/run.json");
  const auto json = nlohmann::json::parse(in);
  EXPECT_EQ(json["bridged_slices"].get<int>(), bridged);
  const std::string warning = json["alignment_warning"].get<std::string>();
  EXPECT_NE(warning.find("probably NOT aligned"), std::string::npos) << warning;
  EXPECT_NE(warning.find(std::to_string(bridged) + " of 29"), std::string::npos) << warning;
}

TEST(LcoAlignmentWarning, RegistryDefaultsBridgeNothingAndWarnNothing) {
  FIBSEG_REQUIRE_REAL_DATA(bse, "lco-fibsem/bse");
  TempFolder w("lco_aligned");
  ASSERT_EQ(runCli("init " + (w / "p.toml")).exitCode, 0);
  const auto run = runCli("run " + (w / "p.toml") + " --set input.path=" + bse.string() + " --set output.folder=" + (w / "out") +
                          " --set output.report=false");
  ASSERT_EQ(run.exitCode, 0) << run.output;
  EXPECT_EQ(run.output.find("probably NOT aligned"), std::string::npos) << run.output;
  std::ifstream in(w / "out/run.json");
  const auto json = nlohmann::json::parse(in);
  EXPECT_EQ(json["bridged_slices"].get<int>(), 0);
  EXPECT_EQ(json["alignment_warning"].get<std::string>(), "");
}
