// A single slice (or a 2D image) runs to the end, as a new user tries it first: one image and a
// pixel size, from a TOML file and from the notebook's own sheet, gives every output and the 2D
// metrics. And a measure stage that fails never costs the run its segmentation.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "cli/run_cli.hpp"
#include "config/xlsx_edit.hpp"
#include "fibseg/io/tiff.hpp"
#include "real_data.hpp"

namespace fs = std::filesystem;
using fibseg::config::testing::editCells;
using fibseg::config::testing::inlineText;
using fibseg::test::listedInRun;
using fibseg::test::readJson;
using fibseg::test::readFile;
using fibseg::test::runCli;
using fibseg::test::TempFolder;
using testing::HasSubstr;

namespace {

const char* const kMetricsFiles[] = {"metrics.json", "metrics.csv", "metrics_pybamm.json", "slab_fractions.csv",
                                     "slab_interfaces.csv"};

// What a finished one-slice run holds: its segmentation, the 2D metrics, the report.
void expectOneSliceOutputs(const fs::path& out) {
  const auto run = readJson(out / "run.json");
  EXPECT_EQ(run["slices"], 1);
  for (const char* f : {"labels.tif", "segmented/labels_0000.png", "segmented/colour_0000.png", "phase_fractions.csv",
                        "report.html", "view3d_labels.png"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  for (const char* f : kMetricsFiles) EXPECT_TRUE(listedInRun(run, f)) << f;
  const auto m = readJson(out / "metrics.json");
  EXPECT_EQ(m["dimensions"], 2);
  // The area fractions are those of the label image itself.
  fibseg::io::TiffPageReader labels(out / "labels.tif");
  ASSERT_EQ(labels.pages(), 1);
  const cv::Mat page = labels.read(0);
  const double pores = double(cv::countNonZero(page == 0)) / page.total();
  EXPECT_NEAR(m["phases"]["pore"]["area_fraction"].get<double>(), pores, 1e-9);
  EXPECT_GT(m["interfaces"]["se|cam"]["length_per_area_per_um"].get<double>(), 0);
  for (const char* k : {"tortuosity_factor", "connectivity", "local_thickness"})
    EXPECT_THAT(m["not_computed"][k].get<std::string>(), HasSubstr("single slice")) << k;
  EXPECT_THAT(readFile(out / "report.html"), HasSubstr("not computed for a single slice"));
}

}  // namespace

TEST(SingleSlice, OneSliceFromATomlFileRunsToTheEndWithTwoDimensionalMetrics) {
  TempFolder w("single_toml");
  ASSERT_EQ(runCli("phantom " + (w / "ph") + " --slices 1 --width 192 --height 160").exitCode, 0);
  std::ofstream(w.path / "p.toml") << "[input]\npath = \"ph/raw\"\npixel_size_nm = 50\n[output]\nfolder = \"out\"\n";
  const auto r = runCli("run " + (w / "p.toml"));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("measure (one slice, 2D)"));
  expectOneSliceOutputs(w.path / "out");
  const auto m = readJson(w.path / "out" / "metrics.json");
  EXPECT_DOUBLE_EQ(m["pixel_size_um"][0].get<double>(), 0.05);
  EXPECT_EQ(m["slabs"]["rows"].size(), 10u);  // measure.slabs default, across the image rows
}

TEST(SingleSlice, OneBseImageWithTheNotebooksSheetRunsToTheEnd) {
  FIBSEG_REQUIRE_SEED(seed, "Inputs_FIB-SEM_ASSB_Example.xlsx");
  FIBSEG_REQUIRE_REAL_DATA(bse, "lco-fibsem/bse");
  TempFolder w("single_sheet");
  fs::create_directories(w.path / "slices");
  fs::copy_file(bse / "Image00030.png", w.path / "slices" / "BSE_Image00030.png");
  const fs::path sheet = w.path / "sheet.xlsx";
  fs::copy_file(seed, sheet);
  editCells(sheet, {{"B3", inlineText("slices")}});  // Slices path; Pixel resolution (B15) is the sheet's 100 nm
  const auto r = runCli("run " + sheet.string());
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const fs::path out = w.path / "slices" / "Results";
  EXPECT_EQ(readJson(out / "run.json")["method"], "notebook");
  expectOneSliceOutputs(out);
  EXPECT_DOUBLE_EQ(readJson(out / "metrics.json")["pixel_size_um"][0].get<double>(), 0.1);
}

// A real failure after segmentation: the second slice is the first moved down by 24 rows, so the
// area common to both is 24 rows shorter than the slices, and 100 slabs along the rows no longer
// fit (the plan could only check against the uncropped 112 rows).
TEST(SingleSlice, AFailedMeasureStageLeavesTheSegmentationWhole) {
  TempFolder w("measure_fails");
  fs::create_directories(w.path / "slices");
  cv::Mat texture(160, 128, CV_8U);
  cv::randu(texture, 0, 255);
  cv::GaussianBlur(texture, texture, cv::Size(), 3);
  cv::normalize(texture, texture, 0, 255, cv::NORM_MINMAX);
  ASSERT_TRUE(cv::imwrite((w.path / "slices" / "s_0.png").string(), texture.rowRange(24, 136)));
  ASSERT_TRUE(cv::imwrite((w.path / "slices" / "s_1.png").string(), texture.rowRange(0, 112)));
  std::ofstream(w.path / "p.toml") << "[input]\npath = \"slices\"\npixel_size_nm = 20\n[output]\nfolder = \"out\"\n"
                                   << "[measure]\nslabs = 100\ntortuosity = false\nsizes = false\n";
  auto r = runCli("run " + (w / "p.toml"));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("the measure stage failed"));
  EXPECT_THAT(r.output, HasSubstr("measure.slabs = 100"));
  const fs::path out = w.path / "out";
  const auto run = readJson(out / "run.json");
  EXPECT_THAT(run["measure"]["failed"].get<std::string>(), HasSubstr("measure.slabs"));
  bool warned = false;
  for (const auto& warning : run["warnings"]) warned |= warning.get<std::string>().find("measure stage failed") != std::string::npos;
  EXPECT_TRUE(warned) << run["warnings"].dump();
  // The segmentation is whole: both slices in labels.tif and as PNGs, listed in run.json.
  fibseg::io::TiffPageReader labels(out / "labels.tif");
  EXPECT_EQ(labels.pages(), 2);
  for (const char* f : {"labels.tif", "segmented/labels_0001.png", "phase_fractions.csv", "report.html", "transforms.csv"}) {
    EXPECT_TRUE(fs::exists(out / f)) << f;
    EXPECT_TRUE(listedInRun(run, f)) << f;
  }
  for (const char* f : kMetricsFiles) EXPECT_FALSE(fs::exists(out / f)) << f;
  EXPECT_THAT(readFile(out / "report.html"), HasSubstr("measure stage failed"));

  // --strict: the same outputs, and the command fails.
  r = runCli("run " + (w / "p.toml") + " --overwrite --strict");
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--strict: the measure stage failed"));
  EXPECT_TRUE(fs::exists(out / "labels.tif"));
  EXPECT_EQ(readJson(out / "run.json")["slices"], 2);
}
