#pragma once
// Zarr v2 directory stores, written and read without a Zarr library: a folder per array with a
// `.zarray` (shape, chunks, dtype, compressor) and one file per chunk named "z.y.x", each chunk
// zlib-compressed (numcodecs' "zlib" codec) and always whole (edge chunks padded with 0, as the
// format requires). Arrays here are 3D (z, y, x) volumes of 8- or 16-bit grey.
//
// Writers of distinct chunks never touch the same file, so tasks that each own whole chunks
// (a block of slices, all tiles) write in parallel without locks; every chunk file is written to
// a temporary name and renamed, so a reader never sees half a chunk.
#include <array>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace fibseg::io {

struct ZarrArrayInfo {
  std::array<int, 3> shape{0, 0, 0};   // z, y, x
  std::array<int, 3> chunks{1, 1, 1};  // z, y, x
  int bitDepth = 8;                    // 8 ("|u1") or 16 ("<u2")
  int zlibLevel = 1;                   // 0 = stored without compressor
};

/// Creates `folder` (an array) with its .zarray; no chunks yet (missing chunks read as 0).
void createZarrArray(const std::filesystem::path& folder, const ZarrArrayInfo& info);

/// The largest chunk a reader accepts (it holds one whole in memory).
constexpr std::size_t kMaxZarrChunkBytes = std::size_t(2) << 30;

/// Reads `folder`/.zarray; throws fibseg::Error naming the file when it is not a 3D u1/u2 C-order
/// array with no compressor or zlib, or its chunks are larger than kMaxZarrChunkBytes.
ZarrArrayInfo readZarrArrayInfo(const std::filesystem::path& folder);

/// Writes slices [z0, z0 + slices.size()) in every chunk they cover. z0 must start a chunk and
/// the slices must end a chunk or the array (so the call owns those chunks whole); slices are
/// CV_8U / CV_16U of the array's y, x size.
void writeZarrSlices(const std::filesystem::path& folder, const ZarrArrayInfo& info, int z0,
                     const std::vector<cv::Mat>& slices);

/// Slices [z0, z1) of the array (the block reader: whole chunks are read once each).
std::vector<cv::Mat> readZarrSlices(const std::filesystem::path& folder, int z0, int z1);

/// Writes `text` as `folder`/`name` (".zgroup", ".zattrs"), atomically.
void writeZarrJson(const std::filesystem::path& folder, const std::string& name, const std::string& text);

}  // namespace fibseg::io
