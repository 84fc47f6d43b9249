// The original notebook's own Excel sheets (../shared/seed) run as they are: a user's first
// command. Copies are filled in at test time; the seed files are never copied into the repo.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/run_cli.hpp"
#include "config/xlsx_edit.hpp"
#include "real_data.hpp"

namespace fs = std::filesystem;
using fibseg::config::testing::editCells;
using fibseg::config::testing::editPart;
using fibseg::config::testing::inlineText;
using fibseg::test::listedInRun;
using fibseg::test::readJson;
using fibseg::test::readFile;
using fibseg::test::runCli;
using fibseg::test::TempFolder;
using testing::HasSubstr;

namespace {

const std::string kExample = "Inputs_FIB-SEM_ASSB_Example.xlsx";
const std::string kEmpty = "Inputs_FIB-SEM_ASSB.xlsx";
// Tortuosity and local thickness are left out of these runs (minutes on real slices today); the
// fractions and interface areas per slab are measured.
const std::string kQuickMeasure = " --set measure.tortuosity=false --set measure.sizes=false";


// A folder holding both detectors' images, as the notebook's users have: BSE_* and SE_*.
void makeMixedFolder(const fs::path& lcoFolder, const fs::path& folder) {
  fs::create_directories(folder);
  for (const char* n : {"Image00030.png", "Image00040.png", "Image00050.png", "Image00060.png"}) {
    fs::copy_file(lcoFolder / "bse" / n, folder / (std::string("BSE_") + n));
    fs::copy_file(lcoFolder / "se" / n, folder / (std::string("SE_") + n));
  }
}

TEST(NotebookSheet, TheExampleSheetRunsAsItIsOnItsBseImagesAndWritesResultsBesideThem) {
  FIBSEG_REQUIRE_SEED(seed, kExample);
  FIBSEG_REQUIRE_REAL_DATA(lco, "lco-fibsem");
  TempFolder w("notebook_example");
  makeMixedFolder(lco, w.path / "slices");
  const fs::path sheet = w.path / "sheet.xlsx";
  fs::copy_file(seed, sheet);
  editCells(sheet, {{"B3", inlineText("slices")}});  // Slices path, relative to the sheet

  const auto r = runCli("run " + sheet.string() + kQuickMeasure);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const fs::path results = w.path / "slices" / "Results";
  const auto run = readJson(results / "run.json");
  EXPECT_EQ(run["slices"], 4) << "only the BSE images";
  EXPECT_EQ(run["method"], "notebook");
  EXPECT_DOUBLE_EQ(run["pixel_size_nm"].get<double>(), 100.0);  // Pixel resolution, B15
  for (const char* f : {"labels.tif", "report.html", "segmented/colour_0003.png", "segmented/labels_0000.png",
                        "view3d_labels.png", "view3d_grey.png"})
    EXPECT_TRUE(fs::exists(results / f)) << f;
  EXPECT_THAT(readFile(results / "report.html"), HasSubstr("id=\"view3d-labels\""));
  const std::string used = readFile(results / "parameters_used.toml");
  EXPECT_THAT(used, HasSubstr("notebook_clip_limit = 2.0  # " + sheet.string() + " FiB-SEM segmentation!B7"));
  EXPECT_THAT(used, HasSubstr("notebook_pore_threshold = 140.0  # " + sheet.string() + " FiB-SEM segmentation!B10"));
  EXPECT_THAT(used, HasSubstr("notebook_horizontal_kernel = [10.0, 1.0]"));
  // The slices themselves are untouched and alone at the top of the folder.
  int files = 0;
  for (const auto& e : fs::directory_iterator(w.path / "slices")) files += e.is_regular_file();
  EXPECT_EQ(files, 8);
}

TEST(NotebookSheet, TheExampleSheetOnTheWholeLcoBseStackWithOutputElsewhere) {
  FIBSEG_REQUIRE_SEED(seed, kExample);
  FIBSEG_REQUIRE_REAL_DATA(bse, "lco-fibsem/bse");
  TempFolder w("notebook_lco");
  const fs::path sheet = w.path / "sheet.xlsx";
  fs::copy_file(seed, sheet);
  // Regions (B16) = 5: the "Interfaces analysis" in 5 slabs along the rows.
  editCells(sheet, {{"B3", inlineText(bse.string())}, {"B4", inlineText(" png ")},
                    {"B16", fibseg::config::testing::number("5")}});
  const auto r = runCli("run " + sheet.string() + " --set output.folder=" + (w / "out") + kQuickMeasure);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const fs::path out = w.path / "out";
  const auto run = readJson(out / "run.json");
  EXPECT_EQ(run["slices"], 30);
  EXPECT_EQ(run["method"], "notebook");
  EXPECT_TRUE(fs::exists(out / "labels.tif"));
  EXPECT_THAT(readFile(out / "parameters_used.toml"), HasSubstr("slabs = 5  # " + sheet.string() + " FiB-SEM segmentation!B16"));
  // The per-slab CSVs: a header and one row per Region.
  for (const char* f : {"slab_fractions.csv", "slab_interfaces.csv"}) {
    const std::string csv = readFile(out / f);
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 6) << f;
    EXPECT_TRUE(listedInRun(run, f)) << f;
  }
  EXPECT_THAT(readFile(out / "slab_interfaces.csv"), HasSubstr("se-cam_per_um_mean"));
  EXPECT_THAT(readFile(out / "report.html"), HasSubstr("id=\"slab-table\""));
}

TEST(NotebookSheet, TheEmptySheetNamesTheSlicesPathCellAndRunsWithTheNotebooksDefaults) {
  FIBSEG_REQUIRE_SEED(seed, kEmpty);
  FIBSEG_REQUIRE_REAL_DATA(lco, "lco-fibsem");
  TempFolder w("notebook_empty");
  const fs::path sheet = w.path / "empty.xlsx";
  fs::copy_file(seed, sheet);
  auto r = runCli("run " + sheet.string() + kQuickMeasure);
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_THAT(r.output, HasSubstr("'input.path' has no value at " + sheet.string() + " FiB-SEM segmentation!B3"));

  makeMixedFolder(lco, w.path / "slices");
  r = runCli("run " + sheet.string() + " --set input.path=" + (w / "slices") + " --set output.folder=" + (w / "out") + kQuickMeasure);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const std::string used = readFile(w.path / "out" / "parameters_used.toml");
  EXPECT_THAT(used, HasSubstr("notebook_light_adjustment = true  # default"));
  EXPECT_THAT(used, HasSubstr("notebook_pore_threshold = 140.0  # default"));
  EXPECT_THAT(used, HasSubstr("method = \"notebook\""));
}

TEST(NotebookSheet, ValuesAreReadAsTheNotebookReadsThemAndBadOnesNameTheirCell) {
  FIBSEG_REQUIRE_SEED(seed, kExample);
  FIBSEG_REQUIRE_REAL_DATA(lco, "lco-fibsem");
  TempFolder w("notebook_values");
  makeMixedFolder(lco, w.path / "slices");
  const fs::path sheet = w.path / "sheet.xlsx";
  fs::copy_file(seed, sheet);
  // "yes" turns line removal on, "maybe" leaves light adjustment on (only "No" turns it off),
  // " 12,1 " is a kernel, 140.0 is 140.
  editCells(sheet, {{"B3", inlineText("slices")}, {"B6", inlineText("maybe")}, {"B11", inlineText("yes")},
                    {"B12", inlineText(" 12,1 ")}, {"B8", fibseg::config::testing::number("4.0")}});
  auto r = runCli("run " + sheet.string() + " --set segment.notebook_pore_threshold=120" + kQuickMeasure);
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const std::string used = readFile(w.path / "slices" / "Results" / "parameters_used.toml");
  EXPECT_THAT(used, HasSubstr("notebook_light_adjustment = true"));
  EXPECT_THAT(used, HasSubstr("notebook_remove_vertical_lines = true"));
  EXPECT_THAT(used, HasSubstr("notebook_horizontal_kernel = [12.0, 1.0]"));
  EXPECT_THAT(used, HasSubstr("notebook_grid_size = 4"));
  EXPECT_THAT(used, HasSubstr("notebook_pore_threshold = 120.0  # command line"));

  editCells(sheet, {{"B8", inlineText("four")}});
  r = runCli("run " + sheet.string() + " --overwrite" + kQuickMeasure);
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_THAT(r.output, HasSubstr("'Grid size' at " + sheet.string() + " FiB-SEM segmentation!B8"));

  editCells(sheet, {{"B8", inlineText("4")}, {"A20", inlineText("Gabor sigma")}, {"B20", inlineText("2")}});
  r = runCli("run " + sheet.string() + " --overwrite" + kQuickMeasure);
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_THAT(r.output, HasSubstr("unknown row 'Gabor sigma' at " + sheet.string() + " FiB-SEM segmentation!A20"));

  editCells(sheet, {{"A20", inlineText("")}, {"B20", inlineText("")}, {"B13", fibseg::config::testing::number("4")}});
  r = runCli("run " + sheet.string() + " --overwrite" + kQuickMeasure);
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_THAT(r.output, HasSubstr("FiB-SEM segmentation!B13"));  // median size must be odd

  // More Regions than the slices have rows: refused before any work, naming the cell.
  editCells(sheet, {{"B13", fibseg::config::testing::number("5")}, {"B16", fibseg::config::testing::number("999")}});
  r = runCli("run " + sheet.string() + " --overwrite" + kQuickMeasure);
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_THAT(r.output, HasSubstr("measure.slabs = 999 (" + sheet.string() + " FiB-SEM segmentation!B16)"));
}

TEST(NotebookSheet, AWorkbookOfNeitherLayoutSaysWhichTwoWereExpected) {
  FIBSEG_REQUIRE_SEED(seed, kExample);
  TempFolder w("notebook_neither");
  const fs::path book = w.path / "other.xlsx";
  fs::copy_file(seed, book);
  editPart(book, "xl/workbook.xml", [](std::string xml) {
    const auto at = xml.find("FiB-SEM segmentation");
    return xml.replace(at, std::string("FiB-SEM segmentation").size(), "Sheet1");
  });
  const auto r = runCli("run " + book.string() + kQuickMeasure);
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_THAT(r.output, HasSubstr("fibseg's layout (a sheet \"Inputs\""));
  EXPECT_THAT(r.output, HasSubstr("the original notebook's (a sheet \"FiB-SEM segmentation\""));
}

}  // namespace
