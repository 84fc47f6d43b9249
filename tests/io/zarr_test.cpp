// io/zarr and io/ome_zarr: hand-built volumes written by blocks and read back whole, edge chunks
// padded, a bad .zarray refused with its file named. (zarr-python reads them in
// python/tests/test_distributed.py.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "fibseg/core/error.hpp"
#include "temp_folder.hpp"
#include "fibseg/io/ome_zarr.hpp"
#include "fibseg/io/zarr.hpp"

namespace fs = std::filesystem;
using namespace fibseg;
using testing::HasSubstr;

namespace {
// Slice z: value (x + 3 y + 7 z) mod 251 (16-bit: times 257), so every voxel says where it is.
cv::Mat slice(int z, int width, int height, int depth) {
  cv::Mat s(height, width, depth == 16 ? CV_16U : CV_8U);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const int v = (x + 3 * y + 7 * z) % 251;
      if (depth == 16) s.at<std::uint16_t>(y, x) = std::uint16_t(v * 257);
      else s.at<std::uint8_t>(y, x) = std::uint8_t(v);
    }
  return s;
}
}  // namespace

TEST(Zarr, BlocksWrittenSeparatelyReadBackWholeWithEdgeChunks) {
  for (int depth : {8, 16}) {
    test::TempFolder dir("zarr_blocks" + std::to_string(depth));
    io::ZarrArrayInfo info;
    info.shape = {7, 13, 21};  // 3 chunks of 3 slices (the last short), 2 x 3 tiles (edges short)
    info.chunks = {3, 8, 8};
    info.bitDepth = depth;
    const fs::path array = dir.path / "a";
    io::createZarrArray(array, info);
    for (int z0 : {3, 0, 6}) {  // any order: each call owns its chunks
      std::vector<cv::Mat> block;
      for (int z = z0; z < std::min(7, z0 + 3); ++z) block.push_back(slice(z, 21, 13, depth));
      io::writeZarrSlices(array, info, z0, block);
    }
    EXPECT_EQ(std::distance(fs::directory_iterator(array), fs::directory_iterator()), 3 * 2 * 3 + 1);
    const auto back = io::readZarrSlices(array, 2, 7);
    ASSERT_EQ(back.size(), 5u);
    for (int z = 2; z < 7; ++z) EXPECT_EQ(cv::norm(back[z - 2], slice(z, 21, 13, depth), cv::NORM_INF), 0) << z;
    const auto read = io::readZarrArrayInfo(array);
    EXPECT_EQ(read.shape, info.shape);
    EXPECT_EQ(read.chunks, info.chunks);
    EXPECT_EQ(read.bitDepth, depth);
  }
}

TEST(Zarr, ABlockThatDoesNotOwnWholeChunksIsRefused) {
  test::TempFolder dir("zarr_partial");
  io::ZarrArrayInfo info;
  info.shape = {8, 4, 4};
  info.chunks = {4, 4, 4};
  io::createZarrArray(dir.path / "a", info);
  EXPECT_THROW(io::writeZarrSlices(dir.path / "a", info, 2, {slice(2, 4, 4, 8)}), Error);
}

TEST(Zarr, ABadZarrayIsRefusedNamingTheFile) {
  test::TempFolder dir("zarr_bad");
  fs::create_directories(dir.path / "a");
  std::ofstream(dir.path / "a" / ".zarray") << R"({"zarr_format": 2, "shape": [2, 2], "chunks": [1, 1], "dtype": "|u1"})";
  try {
    io::readZarrArrayInfo(dir.path / "a");
    FAIL() << "a 2D array was accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr((dir.path / "a" / ".zarray").string()));
    EXPECT_THAT(e.what(), HasSubstr("3 numbers"));
  }
  std::ofstream(dir.path / "a" / ".zarray") << R"({"zarr_format": 2, "shape": [2, 2, 2], "chunks": [1, 1, 1], "dtype": "<f4", "compressor": null})";
  EXPECT_THROW(io::readZarrArrayInfo(dir.path / "a"), Error);
}

// Outside data (fibseg measure reads any store): members of the wrong JSON type, chunks too large
// to hold, a zlib level out of range: each a fibseg::Error naming the file and what was wrong,
// never nlohmann's own exception or an allocation of the declared size.
TEST(Zarr, MetadataOfTheWrongTypeOrSizeIsRefusedNamingIt) {
  test::TempFolder dir("zarr_types");
  fs::create_directories(dir.path / "a");
  const std::string good = R"("shape": [2, 4, 4], "chunks": [1, 4, 4], "dtype": "|u1", "order": "C")";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"zarr_format": "2", )" + good + "}", "zarr_format"},
      {R"({"zarr_format": 2, "shape": [2, 4, 4], "chunks": [1, 4, 4], "dtype": 1})", "dtype"},
      {R"({"zarr_format": 2, "shape": [2, 4, 4], "chunks": [1, 4, 4], "dtype": "|u1", "order": 0})", "order"},
      {R"({"zarr_format": 2, )" + good + R"(, "dimension_separator": ["/"]})", "dimension_separator"},
      {R"({"zarr_format": 2, )" + good + R"(, "compressor": {"id": "zlib", "level": "9"}})", "zlib level"},
      {R"({"zarr_format": 2, )" + good + R"(, "compressor": {"id": 5}})", "compressor"},
      {R"({"zarr_format": 2, "shape": [2, 4, 4], "chunks": [1073741824, 1073741824, 4], "dtype": "|u1"})", "GiB"},
  };
  for (const auto& [zarray, named] : cases) {
    std::ofstream(dir.path / "a" / ".zarray") << zarray;
    try {
      io::readZarrArrayInfo(dir.path / "a");
      ADD_FAILURE() << "accepted: " << zarray;
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr((dir.path / "a" / ".zarray").string())) << zarray;
      EXPECT_THAT(e.what(), HasSubstr(named)) << zarray;
    }
  }
  // zlib at level 0 is still a zlib stream (numcodecs writes one): read as such, not as raw bytes.
  std::ofstream(dir.path / "a" / ".zarray") << R"({"zarr_format": 2, )" + good + R"(, "compressor": {"id": "zlib", "level": 0}})";
  EXPECT_EQ(io::readZarrArrayInfo(dir.path / "a").zlibLevel, 1);
}

TEST(OmeZarr, LevelsHalveYAndXLabelsByNearestNeighbourAndMetadata) {
  test::TempFolder dir("zarr_ome");
  io::OmeZarrVolume v;
  v.folder = dir.path / "labels.zarr";
  v.slices = 5, v.height = 9, v.width = 11, v.chunkSlices = 2, v.tile = 4;
  v.voxelUm = {0.02, 0.01, 0.01};
  v.labels = true;
  v.phases = {{0, "pore", {1, 2, 3}}, {128, "CAM", {4, 5, 6}}};
  io::createOmeZarr(v);
  std::vector<cv::Mat> all;
  for (int z = 0; z < 5; ++z) all.push_back(slice(z, 11, 9, 8));
  io::writeOmeZarrSlices(v, 0, {all[0], all[1]});
  io::writeOmeZarrSlices(v, 2, {all[2], all[3]});
  io::writeOmeZarrSlices(v, 4, {all[4]});
  for (int level = 0; level < 3; ++level) {
    const auto back = io::readZarrSlices(v.folder / std::to_string(level), 0, 5);
    const int f = 1 << level;
    for (int z = 0; z < 5; ++z) {
      ASSERT_EQ(back[z].rows, (9 + f - 1) / f);
      ASSERT_EQ(back[z].cols, (11 + f - 1) / f);
      for (int y = 0; y < back[z].rows; ++y)
        for (int x = 0; x < back[z].cols; ++x) ASSERT_EQ(back[z].at<std::uint8_t>(y, x), all[z].at<std::uint8_t>(y * f, x * f));
    }
  }
  std::ifstream in(v.folder / ".zattrs");
  const auto attrs = nlohmann::json::parse(in);
  const auto& datasets = attrs["multiscales"][0]["datasets"];
  ASSERT_EQ(datasets.size(), 3u);
  EXPECT_EQ(datasets[2]["coordinateTransformations"][0]["scale"], nlohmann::json({0.02, 0.04, 0.04}));
  EXPECT_EQ(attrs["image-label"]["properties"][1], nlohmann::json({{"label-value", 128}, {"name", "CAM"}}));
  EXPECT_EQ(attrs["image-label"]["colors"][1]["rgba"], nlohmann::json({4, 5, 6, 255}));
}
