#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <tuple>

#include "fibseg/core/error.hpp"
#include "temp_folder.hpp"
#include "fibseg/io/metadata.hpp"
#include "fibseg/io/png.hpp"
#include "fibseg/io/shift_table.hpp"
#include "fibseg/io/slice_series.hpp"
#include "fibseg/io/tiff.hpp"
#include "test_helpers.hpp"

#include <tiffio.h>

namespace fs = std::filesystem;
using namespace fibseg;
using testing::HasSubstr;

namespace {
cv::Mat ramp(int w, int h, int depth, int seed) {
  cv::Mat m(h, w, depth);
  cv::randu(m, 0, depth == CV_16U ? 65535 : 255);
  m.at<ushort>(0, 0);  // touch
  m.row(0).setTo(seed);
  return m;
}

using fibseg::test::samePixels;

using fibseg::test::errorOf;
using fibseg::test::readFile;
}  // namespace

TEST(Tiff, RoundTrip8And16BitMultiPage) {
  test::TempFolder dir("io_roundtrip");
  for (int depth : {CV_8U, CV_16U}) {
    std::vector<cv::Mat> slices{ramp(37, 23, depth, 1), ramp(37, 23, depth, 2), ramp(37, 23, depth, 3)};
    const fs::path file = dir.path / (depth == CV_8U ? "a8.tif" : "a16.tif");
    io::writeTiffStack(file, slices, {.pixelSizeNm = 5.0, .sliceSpacingNm = 20.0});
    const auto info = io::probeTiff(file);
    EXPECT_EQ(info.pages, 3);
    EXPECT_EQ(info.bitDepth, depth == CV_8U ? 8 : 16);
    ASSERT_TRUE(info.pixelSizeNm.has_value());
    EXPECT_NEAR(*info.pixelSizeNm, 5.0, 1e-3);  // read back through the ImageJ description
    const auto back = io::readTiffStack(file);
    ASSERT_EQ(back.size(), 3u);
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(samePixels(back[i], slices[i])) << "page " << i;
  }
}

TEST(Tiff, ImageJDescriptionForFiji) {
  test::TempFolder dir("io_imagej");
  const fs::path file = dir.path / "v.tif";
  io::writeTiffStack(file, {ramp(8, 8, CV_8U, 1), ramp(8, 8, CV_8U, 2)}, {.pixelSizeNm = 10, .sliceSpacingNm = 30});
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(bytes, HasSubstr("ImageJ="));
  EXPECT_THAT(bytes, HasSubstr("images=2\nslices=2\n"));
  EXPECT_THAT(bytes, HasSubstr("unit=micron\nspacing=0.03\n"));
}

TEST(Tiff, BigTiffForcedOnSmallFileReadsBack) {
  test::TempFolder dir("io_bigtiff");
  const fs::path file = dir.path / "big.tif";
  std::vector<cv::Mat> slices{ramp(16, 9, CV_16U, 7), ramp(16, 9, CV_16U, 8)};
  io::TiffStackWriter writer(file, {.width = 16, .height = 9, .bitDepth = 16, .slices = 2, .bigTiff = io::BigTiff::Always});
  EXPECT_TRUE(writer.isBigTiff());
  for (const auto& s : slices) writer.append(s);
  writer.finish();
  std::ifstream in(file, std::ios::binary);
  char header[4];
  in.read(header, 4);
  EXPECT_EQ(header[2], 43);  // BigTIFF magic number
  const auto back = io::readTiffStack(file);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_TRUE(samePixels(back[1], slices[1]));
}

TEST(Tiff, AutoChoosesBigTiffOnlyPast4GB) {
  test::TempFolder dir("io_auto");
  io::TiffStackWriter small(dir.path / "s.tif", {.width = 2048, .height = 1536, .bitDepth = 8, .slices = 1000});
  EXPECT_FALSE(small.isBigTiff());  // 3.1 GB
  io::TiffStackWriter large(dir.path / "l.tif", {.width = 2048, .height = 1536, .bitDepth = 16, .slices = 1000});
  EXPECT_TRUE(large.isBigTiff());  // 6.3 GB
}


// A stack joined from blocks written elsewhere (a distributed run's tasks) by copying their stored
// strips is the stack written slice by slice, byte for byte: deflated labels and raw grey, 8 and
// 16 bit, several strips per page (rows of 700 px: 1497 rows a strip, 1800 rows) and one strip.
TEST(Tiff, StackJoinedFromStoredPagesIsTheStackWrittenWhole) {
  test::TempFolder dir("io_stored");
  for (const bool deflate : {true, false})
    for (const int depth : {CV_8U, CV_16U})
      for (const cv::Size size : {cv::Size(700, 1800), cv::Size(37, 23)}) {
        SCOPED_TRACE(std::string(deflate ? "deflate " : "raw ") + (depth == CV_8U ? "8" : "16") + "-bit " +
                     std::to_string(size.width) + "x" + std::to_string(size.height));
        std::vector<cv::Mat> slices;
        for (int z = 0; z < 3; ++z) {
          cv::Mat m = ramp(size.width, size.height, depth, z);
          if (deflate) m /= depth == CV_8U ? 85 : 20000;  // few values, as labels
          slices.push_back(m);
        }
        io::TiffStackOptions options{.width = size.width, .height = size.height, .bitDepth = depth == CV_8U ? 8 : 16,
                                     .slices = 3, .pixelSizeNm = 4.5, .deflate = deflate};
        io::writeTiffStack(dir.path / "whole.tif", slices, options);
        // blocks of 2 slices and 1, each a stack of its own with the same options
        for (const auto& [name, from, to] : std::vector<std::tuple<std::string, int, int>>{{"b0.tif", 0, 2}, {"b1.tif", 2, 3}}) {
          io::TiffStackOptions block = options;
          block.slices = to - from;
          io::writeTiffStack(dir.path / name, {slices.begin() + from, slices.begin() + to}, block);
        }
        io::TiffStackWriter joined(dir.path / "joined.tif", options);
        std::vector<std::uint64_t> settled;
        std::vector<std::string> prefixes;
        for (const std::string name : {"b0.tif", "b1.tif"}) {
          io::TiffPageReader block(dir.path / name, true);
          for (int page = 0; page < block.pages(); ++page) {
            const io::StoredPage stored = block.readStored(page);
            EXPECT_EQ(stored.deflate, deflate);
            joined.appendStored(stored);
            settled.push_back(joined.settledBytes());
            prefixes.push_back(readFile(joined.writingTo()).substr(0, settled.back()));
          }
        }
        joined.finish();
        const std::string whole = readFile(dir.path / "whole.tif"), result = readFile(dir.path / "joined.tif");
        EXPECT_EQ(result.size(), whole.size());
        EXPECT_TRUE(result == whole);
        // What settledBytes() said was final after each page is what the finished file holds.
        for (std::size_t i = 0; i < settled.size(); ++i) {
          EXPECT_GT(settled[i], i ? settled[i - 1] : 0u) << "page " << i;
          EXPECT_TRUE(whole.compare(0, settled[i], prefixes[i]) == 0) << "page " << i;
        }
        EXPECT_LT(whole.size() - settled.back(), 1024u);  // only the last directory is left
      }
}

TEST(Tiff, StoredPageOfAnotherStackIsRefused) {
  test::TempFolder dir("io_stored_other");
  io::writeTiffStack(dir.path / "grey.tif", {ramp(37, 23, CV_8U, 1)}, {});
  io::TiffPageReader grey(dir.path / "grey.tif", true);
  io::TiffStackWriter labels(dir.path / "labels.tif", {.width = 37, .height = 23, .slices = 1, .deflate = true});
  EXPECT_THAT(errorOf([&] { labels.appendStored(grey.readStored(0)); }), HasSubstr("expected one written with this stack's options"));
  io::TiffPageReader decoding(dir.path / "grey.tif");
  EXPECT_THAT(errorOf([&] { decoding.readStored(0); }), HasSubstr("opened as stored"));
  io::TiffStackWriter wider(dir.path / "wider.tif", {.width = 38, .height = 23, .slices = 1});
  EXPECT_THAT(errorOf([&] { wider.appendStored(grey.readStored(0)); }), HasSubstr("37x23"));
}

TEST(Tiff, UnfinishedWriterLeavesNothing) {
  test::TempFolder dir("io_unfinished");
  {
    io::TiffStackWriter writer(dir.path / "x.tif", {.width = 4, .height = 4, .bitDepth = 8, .slices = 3});
    writer.append(cv::Mat::zeros(4, 4, CV_8U));
    EXPECT_THROW(writer.finish(), Error);  // 1 of 3 slices
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()), 0);
}

TEST(Tiff, CorruptAndTruncatedFilesAreClearErrors) {
  test::TempFolder dir("io_corrupt");
  const fs::path good = dir.path / "good.tif";
  io::writeTiffStack(good, {ramp(64, 64, CV_8U, 1)}, {});
  std::ifstream in(good, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  const fs::path truncated = dir.path / "truncated.tif";
  std::ofstream(truncated, std::ios::binary).write(bytes.data(), 8 + 64 * 20);  // header + 20 rows
  EXPECT_THAT(errorOf([&] { io::readTiffPage(truncated, 0); }), HasSubstr("truncated.tif"));

  const fs::path garbage = dir.path / "garbage.tif";
  std::ofstream(garbage, std::ios::binary) << "this is not a TIFF at all";
  EXPECT_THAT(errorOf([&] { io::probeTiff(garbage); }), HasSubstr("cannot open as TIFF"));
  EXPECT_THAT(errorOf([&] { io::probeTiff(dir.path / "missing.tif"); }), HasSubstr("file not found"));
}

TEST(SliceSeries, FolderInNaturalOrderAndStreamedReads) {
  test::TempFolder dir("io_series");
  std::vector<cv::Mat> slices;
  for (int i : {1, 2, 10, 11}) {
    slices.push_back(ramp(20, 12, CV_16U, i));
    io::writePng(dir.path / ("slice_" + std::to_string(i) + ".png"), slices.back());
  }
  std::ofstream(dir.path / "notes.txt") << "ignored";
  const auto series = io::SliceSeries::open(dir.path);
  ASSERT_EQ(series.size(), 4u);
  EXPECT_EQ(series.bitDepth(), 16);
  EXPECT_EQ(series.sliceName(2), "slice_10.png");
  for (std::size_t i = 0; i < 4; ++i) EXPECT_TRUE(samePixels(series.read(i), slices[i]));
}

TEST(SliceSeries, MultiPageTiff) {
  test::TempFolder dir("io_multipage");
  std::vector<cv::Mat> slices{ramp(10, 10, CV_8U, 1), ramp(10, 10, CV_8U, 2), ramp(10, 10, CV_8U, 3)};
  io::writeTiffStack(dir.path / "stack.tif", slices, {.pixelSizeNm = 3});
  const auto series = io::SliceSeries::open(dir.path / "stack.tif");
  ASSERT_EQ(series.size(), 3u);
  EXPECT_EQ(series.sliceName(1), "stack.tif page 2");
  EXPECT_TRUE(samePixels(series.read(2), slices[2]));
  EXPECT_NEAR(series.pixelSizeNm().value(), 3.0, 1e-3);
}

TEST(SliceSeries, BadInputsNameTheFileAndTheProblem) {
  test::TempFolder dir("io_bad");
  EXPECT_THAT(errorOf([&] { io::SliceSeries::open(dir.path / "nope"); }), HasSubstr("no such file or folder"));
  EXPECT_THAT(errorOf([&] { io::SliceSeries::open(dir.path); }), HasSubstr("folder is empty"));
  std::ofstream(dir.path / "readme.txt") << "x";
  EXPECT_THAT(errorOf([&] { io::SliceSeries::open(dir.path); }), HasSubstr("no slice images"));

  io::writePng(dir.path / "s1.png", ramp(20, 10, CV_8U, 1));
  io::writePng(dir.path / "s2.png", ramp(21, 10, CV_8U, 2));
  EXPECT_THAT(errorOf([&] { io::SliceSeries::open(dir.path); }),
              testing::AllOf(HasSubstr("s2.png"), HasSubstr("size 21x10 differs"), HasSubstr("20x10")));
  io::writePng(dir.path / "s2.png", ramp(20, 10, CV_16U, 2));
  EXPECT_THAT(errorOf([&] { io::SliceSeries::open(dir.path); }),
              testing::AllOf(HasSubstr("s2.png"), HasSubstr("16-bit"), HasSubstr("same bit depth")));
  std::ofstream(dir.path / "s2.png", std::ios::binary) << "\x89PNG garbage";
  EXPECT_THAT(errorOf([&] { io::SliceSeries::open(dir.path); }), HasSubstr("s2.png"));
}

TEST(Metadata, MicroscopePixelSizes) {
  EXPECT_NEAR(*io::pixelSizeFromFeiText("[User]\nDate=1\n[Scan]\nPixelWidth=4.5e-09\nPixelHeight=4.5e-09\n"), 4.5, 1e-9);
  EXPECT_FALSE(io::pixelSizeFromFeiText("[Beam]\nPixelWidth=4.5e-09\n").has_value());
  EXPECT_EQ(io::dataBarRowsFromFeiText("[PrivateFei]\nBitShift=0\nDatabarHeight=0\n"), 0);
  EXPECT_EQ(io::dataBarRowsFromFeiText("[PrivateFei]\nDatabarHeight=143\n"), 143);
  EXPECT_FALSE(io::dataBarRowsFromFeiText("[Scan]\nDatabarHeight=143\n").has_value());
  EXPECT_NEAR(*io::pixelSizeFromZeissText("AP_PIXEL_SIZE\r\nImage Pixel Size = 4.961 nm\r\n"), 4.961, 1e-9);
  EXPECT_NEAR(*io::pixelSizeFromZeissText("Image Pixel Size = 0.02 \xb5m"), 20.0, 1e-9);
  EXPECT_NEAR(*io::pixelSizeFromImageJ("ImageJ=1.53t\nunit=micron\n", 100.0), 10.0, 1e-9);
}

TEST(ShiftTable, RoundTripAndOrderCheck) {
  test::TempFolder dir("io_shifts");
  const std::vector<cv::Point2d> shifts{{0, 0}, {1.25, -0.5}, {2.5, -1.75}};
  io::writeShiftTable(dir.path / "s.csv", shifts);
  const auto back = io::readShiftTable(dir.path / "s.csv");
  ASSERT_EQ(back.size(), 3u);
  EXPECT_DOUBLE_EQ(back[2].y, -1.75);
  std::ofstream(dir.path / "bad.csv") << "slice,dx,dy\n0,0,0\n2,1,1\n";
  EXPECT_THAT(errorOf([&] { io::readShiftTable(dir.path / "bad.csv"); }), HasSubstr("bad.csv:3"));
}

TEST(Tiff, PageReaderInAndOutOfOrder) {
  test::TempFolder dir("io_pagereader");
  std::vector<cv::Mat> slices;
  for (int i = 0; i < 5; ++i) slices.push_back(ramp(12, 7, CV_16U, i));
  io::writeTiffStack(dir.path / "s.tif", slices, {});
  io::TiffPageReader reader(dir.path / "s.tif");
  EXPECT_EQ(reader.pages(), 5);
  for (int i : {0, 1, 2, 4, 3, 3, 0}) EXPECT_TRUE(samePixels(reader.read(i), slices[i])) << "page " << i;
  EXPECT_THROW(reader.read(7), Error);
}

// A header asking for a 100 GB image is refused before anything is allocated (issue 16).
TEST(Tiff, HeaderAskingForAHugeImageIsRefused) {
  test::TempFolder dir("io_huge");
  const fs::path file = dir.path / "huge.tif";
  io::writeTiffStack(file, {ramp(16, 16, CV_8U, 1)}, {});
  std::fstream tiff(file, std::ios::in | std::ios::out | std::ios::binary);
  char header[8];
  tiff.read(header, 8);
  ASSERT_EQ(std::string(header, 2), "II");  // little-endian classic TIFF
  uint32_t ifd = 0;
  std::memcpy(&ifd, header + 4, 4);
  uint16_t entries = 0;
  tiff.seekg(ifd);
  tiff.read(reinterpret_cast<char*>(&entries), 2);
  int patched = 0;
  for (uint16_t e = 0; e < entries; ++e) {
    const std::streamoff at = ifd + 2 + 12 * e;
    uint16_t tag = 0;
    tiff.seekg(at);
    tiff.read(reinterpret_cast<char*>(&tag), 2);
    if (tag != 256 && tag != 257) continue;  // ImageWidth, ImageLength
    const uint16_t longType = 4;
    const uint32_t one = 1, size = 320000;  // 320000^2 px of 8 bits = 102 GB
    tiff.seekp(at + 2);
    tiff.write(reinterpret_cast<const char*>(&longType), 2);
    tiff.write(reinterpret_cast<const char*>(&one), 4);
    tiff.write(reinterpret_cast<const char*>(&size), 4);
    ++patched;
  }
  tiff.close();
  ASSERT_EQ(patched, 2);
  EXPECT_THAT(errorOf([&] { io::readTiffPage(file, 0); }), HasSubstr("header asks for 320000x320000 px"));
  EXPECT_THAT(errorOf([&] { io::probeTiff(file); }), HasSubstr("corrupt or not a slice"));
}

// Writes `image` (8-bit grey) as one tiled, deflated page with tiles of `tile` px.
void writeTiled(const fs::path& file, const cv::Mat& image, cv::Size tile) {
  TIFF* tiff = TIFFOpen(file.c_str(), "w");
  ASSERT_NE(tiff, nullptr);
  TIFFSetField(tiff, TIFFTAG_IMAGEWIDTH, uint32_t(image.cols));
  TIFFSetField(tiff, TIFFTAG_IMAGELENGTH, uint32_t(image.rows));
  TIFFSetField(tiff, TIFFTAG_BITSPERSAMPLE, 8);
  TIFFSetField(tiff, TIFFTAG_SAMPLESPERPIXEL, 1);
  TIFFSetField(tiff, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
  TIFFSetField(tiff, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
  TIFFSetField(tiff, TIFFTAG_TILEWIDTH, uint32_t(tile.width));
  TIFFSetField(tiff, TIFFTAG_TILELENGTH, uint32_t(tile.height));
  std::vector<uint8_t> buffer(size_t(tile.area()));
  for (int y = 0; y < image.rows; y += tile.height)
    for (int x = 0; x < image.cols; x += tile.width) {
      std::fill(buffer.begin(), buffer.end(), 0);
      for (int r = 0; r < tile.height && y + r < image.rows; ++r)
        for (int c = 0; c < tile.width && x + c < image.cols; ++c) buffer[r * tile.width + c] = image.at<uint8_t>(y + r, x + c);
      ASSERT_GE(TIFFWriteTile(tiff, buffer.data(), uint32_t(x), uint32_t(y), 0, 0), 0);
    }
  TIFFClose(tiff);
}

// Tiled pages read back whole, 512 px tiles on a small image among them (writers use fixed
// sizes); a tile far larger than both the image and 1024 x 1024 px is refused before its memory
// is filled (the fuzzer's 8 x 8 px image asked for 6553600 x 238 px tiles: fuzz/regression/tiff/).
TEST(Tiff, TiledPagesAndTilesNoPixelNeeds) {
  test::TempFolder dir("io_tiled");
  const cv::Mat image = ramp(40, 30, CV_8U, 3);
  for (const cv::Size tile : {cv::Size(16, 16), cv::Size(32, 16), cv::Size(512, 512)}) {
    const fs::path file = dir.path / ("tiled_" + std::to_string(tile.width) + ".tif");
    writeTiled(file, image, tile);
    EXPECT_EQ(cv::countNonZero(io::readTiffPage(file, 0) != image), 0) << tile;
  }
  const fs::path huge = dir.path / "huge_tiles.tif";
  writeTiled(huge, ramp(8, 8, CV_8U, 1), {4096, 4096});
  EXPECT_THAT(errorOf([&] { io::readTiffPage(huge, 0); }),
              HasSubstr("tiles of 4096x4096 px for an image of 8x8 px; the file is corrupt"));
  const fs::path kept = fs::path(FIBSEG_TEST_DATA) / "../../fuzz/regression/tiff/tile-larger-than-the-image.tif";
  EXPECT_THAT(errorOf([&] { io::readTiffPage(kept, 0); }), HasSubstr("tiles of 6553600x238 px for an image of 8x8 px"));
}

// PNG reading decodes PNG only: another format under a .png name is refused, and so is a file
// that OpenCV would hand to its DICOM decoder ("DICM" at byte 128: GDCM aborted the process on
// the fuzzer's input, kept in fuzz/regression/png/); a real PNG round-trips.
TEST(Png, OnlyPngIsDecodedAndADicomSignatureIsRefused) {
  test::TempFolder dir("io_png");
  const fs::path good = dir.path / "good.png";
  const cv::Mat grey = ramp(40, 30, CV_16U, 100);
  io::writePng(good, grey);
  EXPECT_EQ(cv::countNonZero(io::readPngGrey(good) != grey), 0);
  const fs::path bmp = dir.path / "really_a.png";
  std::vector<uchar> bytes;
  cv::imencode(".bmp", ramp(40, 30, CV_8U, 1), bytes);
  std::ofstream(bmp, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  EXPECT_THAT(errorOf([&] { io::readPngGrey(bmp); }), HasSubstr("not a PNG file"));
  std::ifstream in(good, std::ios::binary);
  std::string png((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(png.size(), 132u);
  png.replace(128, 4, "DICM");
  const fs::path dicom = dir.path / "dicm.png";
  std::ofstream(dicom, std::ios::binary) << png;
  EXPECT_THAT(errorOf([&] { io::readPngAsStored(dicom); }), HasSubstr("would decode as DICOM"));
}
