// The report's measure section shows the modellers' metrics (issue 28) with a "How:" line each:
// triple-phase boundaries, diffusivity per phase, particles, electrode tortuosity factor.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "fibseg/measure/metrics.hpp"
#include "fibseg/report/sections/measure.hpp"

namespace fibseg::report {
namespace {

TEST(ModellerSection, EachMetricHasItsTableAndHowLine) {
  const auto folder = std::filesystem::temp_directory_path() / ("fibseg-modeller-section-" + std::to_string(::getpid()));
  std::filesystem::create_directories(folder);
  // Rows 0-9: SE where x < 4, pore where x >= 4; rows 10-19: CAM.
  auto v = measure::makeVolume(8, 20, 3, {"pore", "se", "cam"}, {0.5, 0.5, 0.5});
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) v.phase[v.index(x, y, z)] = y >= 10 ? 2 : x < 4 ? 1 : 0;
  measure::MetricsOptions o;
  o.sizes = false;
  o.sizesMinChords = 0;  // three slices: particles all the same (the rule would null them)
  o.slabs = 2;
  o.diffusivities = {{"se", 1.0}, {"pore", 0.1}};
  std::ofstream(folder / "metrics.json") << measure::measureMetrics(v, o).dump(2);
  const auto section = measureSection(folder, {});
  std::filesystem::remove_all(folder);
  const std::string& s = section.body;
  for (const char* id : {"id=\"tpb-table\"", "id=\"multiphase-table\"", "id=\"particles-table\"",
                         "id=\"electrode-tortuosity-table\""}) {
    const auto at = s.find(id);
    ASSERT_NE(at, std::string::npos) << id;
    // The table is followed by its own "How:" line.
    const auto table = s.find("</table>", at);
    EXPECT_EQ(s.compare(table + 8, 17, "<p class=\"how\"><i"), 0) << id << ": " << s.substr(table, 60);
  }
  EXPECT_NE(s.find("Re Z / Re Z_line"), std::string::npos);
  EXPECT_NE(s.find("watershed"), std::string::npos);
  EXPECT_NE(s.find("harmonic mean"), std::string::npos);
  EXPECT_NE(s.find("four voxels hold all three phases"), std::string::npos);
}

}  // namespace
}  // namespace fibseg::report
