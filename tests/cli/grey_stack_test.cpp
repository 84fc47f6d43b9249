// Issue 27: a run keeps one greyscale stack (aligned.tif, or cache/aligned.tif when aligned.tif
// is not an output) and the brightness reference, never the corrected pixels. With
// segment.otsu_scope = slice correction and segmentation are one pass; `--from segment` and
// `fibseg corrected` correct the aligned slices again and must give what the run itself saw.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <nlohmann/json.hpp>

#include "cli/run_cli.hpp"
#include "fibseg/io/tiff.hpp"

namespace fs = std::filesystem;
using testing::HasSubstr;

namespace {

using fibseg::test::readFile;
using fibseg::test::runCli;
using fibseg::test::Workspace;

bool sameStack(const fs::path& a, const fs::path& b) {
  const auto x = fibseg::io::readTiffStack(a), y = fibseg::io::readTiffStack(b);
  if (x.size() != y.size()) return false;
  for (std::size_t z = 0; z < x.size(); ++z)
    if (x[z].size() != y[z].size() || x[z].type() != y[z].type() || cv::norm(x[z], y[z], cv::NORM_INF) != 0) return false;
  return !x.empty();
}


}  // namespace

TEST(GreyStack, OnePassKeepsOneGreyStackAndFromSegmentSegmentsTheSameSlices) {
  Workspace w("one");
  ASSERT_EQ(runCli("phantom " + (w / "ph") + " --slices 6 --width 160 --height 128 --seed 4").exitCode, 0);
  std::ofstream(w.path / "p.toml") << "[input]\npath = \"ph/raw\"\n[output]\nfolder = \"out\"\n[measure]\nenabled = false\n";
  const auto first = runCli("run " + (w / "p.toml"));
  ASSERT_EQ(first.exitCode, 0) << first.output;
  const fs::path out = w.path / "out";
  EXPECT_TRUE(fs::exists(out / "aligned.tif"));
  EXPECT_FALSE(fs::exists(out / "cache" / "corrected.tif"));
  EXPECT_FALSE(fs::exists(out / "cache" / "aligned.tif"));  // aligned.tif is the grey stack
  const auto timings = fibseg::test::readJson(out / "run.json")["timings_s"];
  EXPECT_TRUE(timings.contains("align_correct_segment_write")) << timings.dump();
  EXPECT_FALSE(timings.contains("segment_write")) << timings.dump();
  const std::string labels = readFile(out / "labels.tif"), aligned = readFile(out / "aligned.tif");

  // The segmentation again, from aligned.tif corrected again: the same labels, aligned.tif kept.
  const auto again = runCli("run " + (w / "p.toml") + " --from segment");
  ASSERT_EQ(again.exitCode, 0) << again.output;
  EXPECT_THAT(again.output, HasSubstr("reusing the aligned, corrected stack"));
  EXPECT_EQ(readFile(out / "labels.tif"), labels);
  EXPECT_EQ(readFile(out / "aligned.tif"), aligned);

  // The corrected slices on demand (what train/predict take): an ImageJ stack of the crop.
  const auto corrected = runCli("corrected " + (w / "out") + " --out " + (w / "corrected.tif"));
  ASSERT_EQ(corrected.exitCode, 0) << corrected.output;
  const auto info = fibseg::io::probeTiff(w.path / "corrected.tif");
  const auto run = fibseg::test::readJson(out / "run.json");
  EXPECT_EQ(info.pages, 6);
  EXPECT_EQ(info.width, run["crop"]["width"].get<int>());
  EXPECT_EQ(info.height, run["crop"]["height"].get<int>());

  // The same run with segment.otsu_scope = stack (two passes: the stack's threshold first)
  // corrects the same slices: its corrected stack is byte for byte the same.
  const auto twoPasses = runCli("run " + (w / "p.toml") + " --overwrite --set segment.otsu_scope=stack");
  ASSERT_EQ(twoPasses.exitCode, 0) << twoPasses.output;
  const auto split = fibseg::test::readJson(out / "run.json")["timings_s"];
  EXPECT_TRUE(split.contains("align_correct") && split.contains("segment_write")) << split.dump();
  EXPECT_FALSE(fs::exists(out / "cache" / "corrected.tif"));
  ASSERT_EQ(runCli("corrected " + (w / "out") + " --out " + (w / "corrected_stack.tif")).exitCode, 0);
  EXPECT_TRUE(sameStack(w.path / "corrected.tif", w.path / "corrected_stack.tif"));
}

TEST(GreyStack, WithoutAlignedTifTheCacheKeepsTheGreyStack) {
  Workspace w("noaligned");
  ASSERT_EQ(runCli("phantom " + (w / "ph") + " --slices 5 --width 160 --height 128 --seed 6 --bit-depth 16").exitCode, 0);
  std::ofstream(w.path / "p.toml") << "[input]\npath = \"ph/raw\"\n[output]\nfolder = \"out\"\n[measure]\nenabled = false\n";
  ASSERT_EQ(runCli("run " + (w / "p.toml")).exitCode, 0);
  std::ofstream(w.path / "q.toml") << "[input]\npath = \"ph/raw\"\n[output]\nfolder = \"noal\"\n[measure]\nenabled = false\n"
                                   << "[align]\nwrite_aligned = false\n";
  const auto r = runCli("run " + (w / "q.toml"));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_FALSE(fs::exists(w.path / "noal" / "aligned.tif"));
  ASSERT_TRUE(fs::exists(w.path / "noal" / "cache" / "aligned.tif"));
  EXPECT_TRUE(sameStack(w.path / "out" / "aligned.tif", w.path / "noal" / "cache" / "aligned.tif"));
  EXPECT_EQ(readFile(w.path / "out" / "labels.tif"), readFile(w.path / "noal" / "labels.tif"));
  const auto again = runCli("run " + (w / "q.toml") + " --from segment");
  ASSERT_EQ(again.exitCode, 0) << again.output;
  EXPECT_THAT(again.output, HasSubstr("reusing the aligned, corrected stack"));
  EXPECT_EQ(readFile(w.path / "out" / "labels.tif"), readFile(w.path / "noal" / "labels.tif"));

  // A cache without the brightness reference (an earlier version's, which kept corrected.tif):
  // `fibseg corrected` says so, and `--from segment` runs every stage.
  const fs::path cacheJson = w.path / "noal" / "cache" / "corrected.json";
  auto cache = fibseg::test::readJson(cacheJson);
  cache.erase("reference");
  std::ofstream(cacheJson) << cache.dump();
  const auto old = runCli("corrected " + (w / "noal"));
  EXPECT_EQ(old.exitCode, 1);
  EXPECT_THAT(old.output, HasSubstr("earlier fibseg"));
  const auto rerun = runCli("run " + (w / "q.toml") + " --from segment");
  ASSERT_EQ(rerun.exitCode, 0) << rerun.output;
  EXPECT_THAT(rerun.output, HasSubstr("running every stage"));
  EXPECT_EQ(readFile(w.path / "out" / "labels.tif"), readFile(w.path / "noal" / "labels.tif"));
}

// `--from segment` reuses the aligned, corrected stack; the folder still holds the whole run:
// the registration's and the correction's outputs come over from the earlier run unchanged
// (TIFF and OME-Zarr), and previews drawn at another width are named as left out.
TEST(GreyStack, FromSegmentKeepsTheEarlierStagesOutputs) {
  Workspace w("carry");
  ASSERT_EQ(runCli("phantom " + (w / "ph") + " --slices 5 --width 160 --height 128 --seed 8").exitCode, 0);
  for (const std::string format : {"tiff", "ome-zarr"}) {
    SCOPED_TRACE(format);
    const std::string toml = format + ".toml";
    std::ofstream(w.path / toml) << "[input]\npath = \"ph/raw\"\n[output]\nfolder = \"" << format
                                 << "\"\nformat = \"" << format << "\"\n[measure]\nenabled = false\n";
    ASSERT_EQ(runCli("run " + (w / toml)).exitCode, 0);
    const fs::path out = w.path / format;
    std::vector<fs::path> earlier;  // every output of the registration and the correction
    for (const auto& entry : fs::recursive_directory_iterator(out)) {
      const fs::path rel = fs::relative(entry.path(), out);
      const std::string name = rel.filename().string();
      if (entry.is_regular_file() &&
          (name == "transforms.csv" || name == "brightness.csv" || name == "histogram.csv" ||
           name == "view3d_grey.png" || name.starts_with("grey_") || name.ends_with("_raw.png") ||
           name.ends_with("_aligned.png") || rel.begin()->string() == "aligned.zarr"))
        earlier.push_back(rel);
    }
    ASSERT_GE(earlier.size(), 10u);
    std::vector<std::string> bytes;
    for (const auto& rel : earlier) bytes.push_back(readFile(out / rel));
    const std::string labels = format == "tiff" ? readFile(out / "labels.tif") : "";

    const auto again = runCli("run " + (w / toml) + " --from segment");
    ASSERT_EQ(again.exitCode, 0) << again.output;
    EXPECT_THAT(again.output, HasSubstr("reusing the aligned, corrected stack"));
    for (std::size_t i = 0; i < earlier.size(); ++i)
      EXPECT_EQ(readFile(out / earlier[i]), bytes[i]) << earlier[i];
    if (format == "tiff") {
      EXPECT_EQ(readFile(out / "labels.tif"), labels);
    }
    const auto run = fibseg::test::readJson(out / "run.json");
    EXPECT_TRUE(run["not_carried_over"].empty()) << run.dump();
    std::set<std::string> listed;
    for (const auto& o : run["outputs"]) listed.insert(o["file"].get<std::string>());
    for (const auto& rel : earlier) EXPECT_TRUE(listed.count(rel.generic_string())) << rel;

    // Another preview width: the grey previews are not carried over, and the run says so.
    const auto wider = runCli("run " + (w / toml) + " --from segment --set output.preview_width=96");
    ASSERT_EQ(wider.exitCode, 0) << wider.output;
    EXPECT_THAT(wider.output, HasSubstr("were not carried over"));
    EXPECT_TRUE(fs::exists(out / "transforms.csv"));
    EXPECT_FALSE(fs::exists(out / "view3d_grey.png"));
    const auto warned = fibseg::test::readJson(out / "run.json");
    ASSERT_EQ(warned["not_carried_over"].size(), 1u);
    EXPECT_THAT(warned["warnings"].dump(), HasSubstr("output.preview_width"));
  }
}
