// The measure stage as users meet it: last stage of `fibseg run` (metrics files in the run's
// folder, listed in run.json, profiles per slab that the labels themselves confirm) and `fibseg
// measure` on label TIFFs, with its bad inputs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "cli/run_cli.hpp"
#include "fibseg/io/tiff.hpp"
#include "fibseg/report/csv_table.hpp"

namespace fs = std::filesystem;
using fibseg::test::listedInRun;
using fibseg::test::readJson;
using fibseg::test::readFile;
using fibseg::test::runCli;
using fibseg::test::TempFolder;
using testing::HasSubstr;

namespace {


// [slab][phase]: mean over the slices of each phase's fraction in the rows floor(y * slabs / ny)
// = slab, counted here from labels.tif itself.
std::vector<std::vector<double>> slabFractionsOf(const fs::path& labels, int slabs, const std::vector<int>& values) {
  fibseg::io::TiffPageReader reader(labels);
  std::vector<std::vector<double>> sum(slabs, std::vector<double>(values.size(), 0));
  for (int z = 0; z < reader.pages(); ++z) {
    const cv::Mat page = reader.read(z);
    std::vector<std::vector<long long>> count(slabs, std::vector<long long>(values.size(), 0));
    std::vector<long long> voxels(slabs, 0);
    for (int y = 0; y < page.rows; ++y) {
      const int s = int((long long)y * slabs / page.rows);
      for (int x = 0; x < page.cols; ++x) {
        ++voxels[s];
        for (std::size_t p = 0; p < values.size(); ++p) count[s][p] += page.at<std::uint8_t>(y, x) == values[p];
      }
    }
    for (int s = 0; s < slabs; ++s)
      for (std::size_t p = 0; p < values.size(); ++p) sum[s][p] += double(count[s][p]) / voxels[s];
  }
  for (auto& row : sum)
    for (auto& v : row) v /= reader.pages();
  return sum;
}

void writeLabels(const fs::path& file, const std::vector<cv::Mat>& pages) {
  fibseg::io::TiffStackWriter w(file, {.width = pages[0].cols, .height = pages[0].rows, .bitDepth = 8,
                                       .slices = int(pages.size())});
  for (const auto& p : pages) w.append(p);
  w.finish();
}

TEST(Measure, RunOnThePhantomWritesTheMetricsAndSlabProfilesTheLabelsConfirm) {
  TempFolder w("measure_run");
  ASSERT_EQ(runCli("phantom " + (w / "ph") + " --slices 4 --width 128 --height 100 --seed 3").exitCode, 0);
  std::ofstream(w.path / "p.toml") << "[input]\npath = \"ph/raw\"\n[output]\nfolder = \"out\"\n[measure]\nslabs = 7\n";
  const auto r = runCli("run " + (w / "p.toml"));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("measure: pore "));
  EXPECT_THAT(r.output, HasSubstr("se|cam"));
  const fs::path out = w.path / "out";
  const auto run = readJson(out / "run.json");
  for (const char* f : {"metrics.json", "metrics.csv", "metrics_pybamm.json", "slab_fractions.csv", "slab_interfaces.csv"})
    EXPECT_TRUE(listedInRun(run, f)) << f << " is not listed in run.json with its checksum";
  EXPECT_TRUE(run["timings_s"].contains("measure"));
  // The phantom's pixel is 10 nm and no slice thickness is given: z = the pixel size, said so.
  EXPECT_EQ(run["measure"]["voxel_size_um"], nlohmann::json({0.01, 0.01, 0.01}));
  EXPECT_THAT(run["measure"]["voxel_size_z_source"].get<std::string>(), HasSubstr("input.slice_thickness_nm = 0"));

  // Per-slab fractions, recomputed here from labels.tif (values 0 pore, 1 SE, 2 CAM), disjoint slabs.
  const auto truth = slabFractionsOf(out / "labels.tif", 7, {0, 1, 2});
  const auto csv = fibseg::report::CsvTable::read(out / "slab_fractions.csv");
  ASSERT_EQ(csv.rows(), 7u);
  const char* names[] = {"pore", "se", "cam"};
  for (int s = 0; s < 7; ++s)
    for (int p = 0; p < 3; ++p)
      EXPECT_NEAR(csv.number(s, std::string(names[p]) + "_mean"), truth[s][p], 1e-5) << "slab " << s << " " << names[p];

  const auto metrics = readJson(out / "metrics.json");
  EXPECT_NEAR(metrics["phases"]["cam"]["volume_fraction"].get<double>(), run["phase_fractions"]["cam"].get<double>(), 1e-9);
  EXPECT_TRUE(metrics["phases"]["se"]["tortuosity_factor"].contains("y"));
  const auto interfaces = fibseg::report::CsvTable::read(out / "slab_interfaces.csv");
  EXPECT_EQ(interfaces.rows(), 7u);
  for (std::size_t s = 0; s < interfaces.rows(); ++s) {
    EXPECT_GT(interfaces.number(s, "se-cam_per_um_mean"), 0.0);
    const double share = interfaces.number(s, "cam_surface_share_se_mean");
    EXPECT_NEAR(share + interfaces.number(s, "cam_surface_share_pore_mean"), 1.0, 1e-4);
  }
  const auto pybamm = readJson(out / "metrics_pybamm.json");
  EXPECT_NEAR(pybamm["Positive electrode porosity"].get<double>(), metrics["phases"]["se"]["volume_fraction"].get<double>(), 1e-12)
      << "the electrolyte of a solid-state cell is SE (measure.electrolyte_phase)";
  EXPECT_THAT(readFile(out / "metrics.csv"), HasSubstr("\ncam,volume_fraction,,"));
  const std::string report = readFile(out / "report.html");
  for (const char* id : {"id=\"metrics-table\"", "id=\"slab-table\"", "id=\"pybamm-table\"", "not a count of voxel faces"})
    EXPECT_THAT(report, HasSubstr(id));
}

TEST(Measure, SlabsAreNotCumulative) {
  // Rows 0-7 pore, rows 8-15 CAM. Two slabs: pore 1 then 0. The notebook's cumulative slabs
  // would give 1 then 0.5.
  TempFolder w("measure_slabs");
  cv::Mat page(16, 12, CV_8U, cv::Scalar(0));
  page.rowRange(8, 16).setTo(2);
  writeLabels(w.path / "l.tif", {page, page, page});
  const auto r = runCli("measure " + (w / "l.tif") + " --out " + (w / "m") + " --slabs 2 --no-tortuosity --no-sizes");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const auto csv = fibseg::report::CsvTable::read(w.path / "m" / "slab_fractions.csv");
  ASSERT_EQ(csv.rows(), 2u);
  EXPECT_DOUBLE_EQ(csv.number(0, "pore_mean"), 1.0);
  EXPECT_DOUBLE_EQ(csv.number(1, "pore_mean"), 0.0);
  EXPECT_DOUBLE_EQ(csv.number(1, "cam_mean"), 1.0);
}

TEST(Measure, BadInputIsAClearErrorAndAnAbsentPhaseIsNot) {
  TempFolder w("measure_bad");
  cv::Mat page(10, 10, CV_8U, cv::Scalar(0));
  page.colRange(0, 5).setTo(1);
  page.at<std::uint8_t>(3, 7) = 7;
  writeLabels(w.path / "odd.tif", {page, page});
  auto r = runCli("measure " + (w / "odd.tif") + " --out " + (w / "m1") + " --slabs 2");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_THAT(r.output, HasSubstr("grey levels found 0, 1, 7"));

  // One page is a 2D image: measured in 2D (left half pore, right half SE: one straight
  // boundary 10 px long in a 10 x 10 px image, 1 µm pixels, so 0.1 µm^-1).
  page.at<std::uint8_t>(3, 7) = 0;
  writeLabels(w.path / "flat.tif", {page});
  r = runCli("measure " + (w / "flat.tif") + " --out " + (w / "m2") + " --slabs 2");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const auto flat = readJson(w.path / "m2" / "metrics.json");
  EXPECT_EQ(flat["dimensions"], 2);
  EXPECT_DOUBLE_EQ(flat["phases"]["pore"]["area_fraction"].get<double>(), 0.5);
  EXPECT_NEAR(flat["interfaces"]["pore|se"]["length_per_area_per_um"].get<double>(), 0.1, 1e-9);
  EXPECT_THAT(readFile(w.path / "m2" / "slab_fractions.csv"), HasSubstr("slab,from_um,to_um,pore,se,cam\n"));

  // No CAM (value 2): its fraction is 0 and its tortuosity null, not an error.
  writeLabels(w.path / "nocam.tif", {page, page, page});
  // 3 slices are too few to be representative: the solves are asked for by name.
  r = runCli("measure " + (w / "nocam.tif") + " --out " + (w / "m3") + " --slabs 2 --no-sizes --tortuosity se:z,cam:z");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const auto m = readJson(w.path / "m3" / "metrics.json");
  EXPECT_EQ(m["phases"]["cam"]["volume_fraction"].get<double>(), 0.0);
  EXPECT_TRUE(m["phases"]["cam"]["tortuosity_factor"]["z"].is_null());
  EXPECT_NEAR(m["phases"]["se"]["tortuosity_factor"]["z"].get<double>(), 1.0, 1e-3);  // straight SE columns

  r = runCli("measure " + (w / "nocam.tif") + " --out " + (w / "m4") + " --slabs 11");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_THAT(r.output, HasSubstr("measure.slabs = 11: expected 1 to 10"));
}

}  // namespace

TEST(Measure, UnderAMemoryLimitTheSameMetricsInBlocksAndTiles) {
  // Balls of three phases, 96 x 80 x 24: whole, then under a 3 MB limit (blocks of slices, the
  // local thickness in tiles along x, y and z): every phase's metrics, the slabs and the
  // triple-phase boundary lengths are the same numbers.
  TempFolder w("measure_limit");
  std::vector<cv::Mat> pages;
  cv::RNG rng(5);
  std::vector<cv::Vec4d> balls;
  for (int k = 0; k < 240; ++k)
    balls.push_back({rng.uniform(0.0, 96.0), rng.uniform(0.0, 80.0), rng.uniform(0.0, 24.0), rng.uniform(2.0, 6.0)});
  for (int z = 0; z < 24; ++z) {
    cv::Mat page(80, 96, CV_8U, cv::Scalar(0));
    for (int k = 0; k < int(balls.size()); ++k)
      for (int y = 0; y < 80; ++y)
        for (int x = 0; x < 96; ++x) {
          const auto& b = balls[k];
          if ((x - b[0]) * (x - b[0]) + (y - b[1]) * (y - b[1]) + (z - b[2]) * (z - b[2]) <= b[3] * b[3])
            page.at<std::uint8_t>(y, x) = std::uint8_t(1 + k % 2);
        }
    pages.push_back(page);
  }
  writeLabels(w.path / "l.tif", pages);
  const std::string common = " --no-tortuosity --no-particles";
  const auto whole = runCli("measure " + (w / "l.tif") + " --out " + (w / "whole") + common);
  ASSERT_EQ(whole.exitCode, 0) << whole.output;
  const auto limited = runCli("measure " + (w / "l.tif") + " --out " + (w / "limited") + common + " --memory-limit 0.003");
  ASSERT_EQ(limited.exitCode, 0) << limited.output;
  const auto a = readJson(w.path / "whole" / "metrics.json"), b = readJson(w.path / "limited" / "metrics.json");
  ASSERT_TRUE(b.contains("streamed")) << limited.output;
  EXPECT_GT(b["streamed"]["blocks"].get<int>(), 1);
  EXPECT_GT(b["streamed"]["local_thickness_tiles"].get<int>(), 3);  // more than one per phase
  EXPECT_EQ(b["phases"], a["phases"]);
  EXPECT_EQ(b["slabs"], a["slabs"]);
  for (const char* phase : {"se", "cam"})  // balls: their local thickness is computed
    EXPECT_TRUE(a["phases"][phase]["size_distribution"].contains("local_thickness_histogram")) << a["phases"][phase];
  for (const auto& [name, t] : a["triple_phase_boundaries"].items()) {
    EXPECT_GT(t["length_per_volume_per_um2"].get<double>(), 0) << name;
    EXPECT_EQ(b["triple_phase_boundaries"][name]["length_per_volume_per_um2"], t["length_per_volume_per_um2"]) << name;
  }
}
