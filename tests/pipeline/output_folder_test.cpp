// run.json's SHA-256 of every output when some were hashed before the end (a distributed run
// hashes what its finished blocks wrote, and its joined stacks as they grow): the hashes are the
// files' own, and a file replaced or changed after it was hashed is hashed again.
#include "fibseg/pipeline/output_folder.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <sstream>

#include "fibseg/core/atomic_file.hpp"
#include "fibseg/io/tiff.hpp"
#include "temp_folder.hpp"

namespace fibseg::pipeline {
namespace {
namespace fs = std::filesystem;

std::map<std::string, std::string> listedHashes(const fs::path& runJson) {
  std::ifstream in(runJson);
  const auto run = nlohmann::json::parse(in);
  std::map<std::string, std::string> hashes;
  for (const auto& output : run.at("outputs")) hashes[output.at("file")] = output.at("sha256");
  return hashes;
}

TEST(OutputFolder, HashesTakenBeforeTheEndAreTheFilesOwnOrTakenAgain) {
  test::TempFolder dir("output_folder_hashes");
  const fs::path folder = dir.path / "run";
  std::ostringstream log;
  {
    OutputFolder out(folder, {}, log);
    const fs::path staged = out.staging();
    fs::create_directories(staged / "segmented");
    writeTextFile(staged / "kept.csv", "a,b\n1,2\n");
    writeTextFile(staged / "segmented" / "replaced.png", "first version");
    writeTextFile(staged / "grown.txt", "short");
    writeTextFile(staged / ".hidden-temporary", "not an output yet");
    out.hashStagedOutputs();
    // after: one file replaced by rename (a rewritten output), one appended to in place, one new
    writeTextFile(staged / "segmented" / "replaced.png", "other version");  // same size, new file
    std::ofstream(staged / "grown.txt", std::ios::app) << " and longer";
    writeTextFile(staged / "late.json", "{}");
    fs::remove(staged / ".hidden-temporary");
    writeTextFile(staged / "run.json", "{}\n");
    out.commit();
  }
  const auto hashes = listedHashes(folder / "run.json");
  ASSERT_EQ(hashes.size(), 4u);
  for (const auto& [file, sha256] : hashes) EXPECT_EQ(sha256, sha256OfFile(folder / file)) << file;
}

// A TIFF stack hashed page by page as it is written (only its settled bytes) has the hash of the
// finished file; commit() lists that hash without reading the file again.
TEST(OutputFolder, StackHashedAsItGrowsIsListedWithItsOwnHash) {
  test::TempFolder dir("output_folder_growing");
  const fs::path folder = dir.path / "run";
  std::ostringstream log;
  std::string grown;
  {
    OutputFolder out(folder, {}, log);
    const fs::path stack = out.staging() / "labels.tif";
    io::TiffStackWriter writer(stack, {.width = 300, .height = 5000, .bitDepth = 8, .slices = 4, .deflate = true});
    GrowingFileSha256 sha256;
    for (int z = 0; z < 4; ++z) {
      cv::Mat slice(5000, 300, CV_8U);
      cv::randu(slice, 0, 3);
      writer.append(slice);
      sha256.advance(writer.writingTo(), writer.settledBytes());
    }
    writer.finish();
    grown = sha256.finish(stack);
    EXPECT_EQ(grown, sha256OfFile(stack));
    out.addHashed(stack, grown);
    writeTextFile(out.staging() / "run.json", "{}\n");
    out.commit();
  }
  EXPECT_EQ(listedHashes(folder / "run.json").at("labels.tif"), grown);
}

}  // namespace
}  // namespace fibseg::pipeline
