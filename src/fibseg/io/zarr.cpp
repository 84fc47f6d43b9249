#include "fibseg/io/zarr.hpp"

#include <zlib.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/error.hpp"

namespace fibseg::io {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

int bytesPerVoxel(const ZarrArrayInfo& info) { return info.bitDepth == 16 ? 2 : 1; }

std::string chunkName(int cz, int cy, int cx) {
  return std::to_string(cz) + "." + std::to_string(cy) + "." + std::to_string(cx);
}

void writeBytes(const fs::path& target, const std::string& bytes) {
  AtomicFile file(target);
  {
    std::ofstream out(file.temporaryPath(), std::ios::binary);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    if (!out) throw Error("cannot write " + target.string() + " (disk full?)");
  }
  file.commit();
}

std::string compress(const std::string& raw, int level, const fs::path& where) {
  if (level == 0) return raw;
  uLongf size = compressBound(uLong(raw.size()));
  std::string out(size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(out.data()), &size, reinterpret_cast<const Bytef*>(raw.data()),
                uLong(raw.size()), level) != Z_OK)
    throw Error("zlib failed to compress a chunk of " + where.string());
  out.resize(size);
  return out;
}

std::string decompress(const std::string& packed, std::size_t expected, const fs::path& chunk) {
  std::string out(expected, '\0');
  uLongf size = uLongf(expected);
  if (uncompress(reinterpret_cast<Bytef*>(out.data()), &size, reinterpret_cast<const Bytef*>(packed.data()),
                 uLong(packed.size())) != Z_OK ||
      size != expected)
    throw Error(chunk.string() + ": not a zlib chunk of " + std::to_string(expected) + " bytes (damaged or another codec)");
  return out;
}

}  // namespace

void createZarrArray(const fs::path& folder, const ZarrArrayInfo& info) {
  if (info.bitDepth != 8 && info.bitDepth != 16) throw Error("zarr: bit depth " + std::to_string(info.bitDepth) + ", expected 8 or 16");
  ensureWritableFolder(folder);
  json compressor = info.zlibLevel > 0 ? json{{"id", "zlib"}, {"level", info.zlibLevel}} : json(nullptr);
  const json zarray = {{"zarr_format", 2},
                       {"shape", info.shape},
                       {"chunks", info.chunks},
                       {"dtype", info.bitDepth == 16 ? "<u2" : "|u1"},
                       {"compressor", compressor},
                       {"fill_value", 0},
                       {"order", "C"},
                       {"filters", nullptr},
                       {"dimension_separator", "."}};
  writeZarrJson(folder, ".zarray", zarray.dump(2) + "\n");
}

ZarrArrayInfo readZarrArrayInfo(const fs::path& folder) {
  const fs::path file = folder / ".zarray";
  std::ifstream in(file);
  const json j = in ? json::parse(in, nullptr, false) : json();
  const auto bad = [&](const std::string& what) {
    return Error(file.string() + ": " + what + "; expected a Zarr v2 3D array of uint8 or uint16, C order, zlib or no compressor");
  };
  if (!j.is_object()) throw bad(in ? "not JSON" : "missing");
  // Outside data: a member of another JSON type is a bad file, said as such (json::value would
  // throw its own type_error).
  const auto text = [&](const char* key, const std::string& absent) {
    if (!j.contains(key)) return absent;
    if (!j[key].is_string()) throw bad(std::string(key) + " is not a string");
    return j[key].get<std::string>();
  };
  if (!j.contains("zarr_format") || !j["zarr_format"].is_number_integer() || j["zarr_format"].get<long long>() != 2)
    throw bad("zarr_format is not 2");
  ZarrArrayInfo info;
  if (!j.contains("shape") || !j["shape"].is_array() || j["shape"].size() != 3 || !j.contains("chunks") ||
      !j["chunks"].is_array() || j["chunks"].size() != 3)
    throw bad("shape or chunks is not 3 numbers");
  for (int a = 0; a < 3; ++a) {
    if (!j["shape"][a].is_number_integer() || !j["chunks"][a].is_number_integer() || j["shape"][a].get<long long>() < 0 ||
        j["chunks"][a].get<long long>() < 1 || j["shape"][a].get<long long>() > (1 << 30) || j["chunks"][a].get<long long>() > (1 << 30))
      throw bad("shape or chunks out of range");
    info.shape[a] = j["shape"][a].get<int>(), info.chunks[a] = j["chunks"][a].get<int>();
  }
  const std::string dtype = text("dtype", "");
  if (dtype == "|u1" || dtype == "<u1") info.bitDepth = 8;
  else if (dtype == "<u2") info.bitDepth = 16;
  else throw bad("dtype " + dtype);
  // A chunk is read whole into memory; fibseg writes block_slices whole slices (16 x 6144 x 4096
  // x 2 bytes = 0.8 GB at most in practice).
  const double chunkBytes = double(info.chunks[0]) * info.chunks[1] * info.chunks[2] * (info.bitDepth / 8);
  if (chunkBytes > double(kMaxZarrChunkBytes))
    throw bad("chunks of " + std::to_string(info.chunks[0]) + " x " + std::to_string(info.chunks[1]) + " x " +
              std::to_string(info.chunks[2]) + " voxels (over " + std::to_string(kMaxZarrChunkBytes >> 30) + " GiB each)");
  if (text("order", "C") != "C") throw bad("order is not C");
  if (j.contains("filters") && !j["filters"].is_null()) throw bad("filters are set");
  if (text("dimension_separator", ".") != ".") throw bad("dimension_separator is not '.'");
  const auto& c = j.contains("compressor") ? j["compressor"] : json(nullptr);
  if (c.is_null()) {
    info.zlibLevel = 0;
  } else if (c.is_object() && c.contains("id") && c["id"] == "zlib") {
    const json level = c.contains("level") ? c["level"] : json(1);
    if (!level.is_number_integer() || level.get<long long>() < 0 || level.get<long long>() > 9)
      throw bad("zlib level " + level.dump() + " (expected 0-9)");
    info.zlibLevel = std::max(1, level.get<int>());  // level 0 is still a zlib stream
  } else {
    throw bad("compressor " + c.dump());
  }
  return info;
}

void writeZarrSlices(const fs::path& folder, const ZarrArrayInfo& info, int z0, const std::vector<cv::Mat>& slices) {
  const auto [cz, cy, cx] = info.chunks;
  const int z1 = z0 + int(slices.size());
  if (z0 % cz != 0 || (z1 % cz != 0 && z1 != info.shape[0]) || z1 > info.shape[0] || slices.empty())
    throw Error("zarr " + folder.string() + ": slices " + std::to_string(z0) + "-" + std::to_string(z1 - 1) +
                " do not cover whole chunks of " + std::to_string(cz) + " slices (internal error)");
  const int type = info.bitDepth == 16 ? CV_16U : CV_8U, bpv = bytesPerVoxel(info);
  for (const auto& s : slices)
    if (s.type() != type || s.rows != info.shape[1] || s.cols != info.shape[2])
      throw Error("zarr " + folder.string() + ": a slice of " + std::to_string(s.cols) + " x " + std::to_string(s.rows) +
                  " does not fit the array's " + std::to_string(info.shape[2]) + " x " + std::to_string(info.shape[1]) +
                  " (internal error)");
  std::string raw;
  for (int zc = z0 / cz; zc * cz < z1; ++zc)
    for (int yc = 0; yc * cy < info.shape[1]; ++yc)
      for (int xc = 0; xc * cx < info.shape[2]; ++xc) {
        raw.assign(std::size_t(cz) * cy * cx * bpv, '\0');  // edge chunks: whole, padded with the fill value
        for (int z = zc * cz; z < std::min(z1, (zc + 1) * cz); ++z) {
          const cv::Mat& slice = slices[z - z0];
          const int rows = std::min(cy, info.shape[1] - yc * cy), cols = std::min(cx, info.shape[2] - xc * cx);
          for (int r = 0; r < rows; ++r)
            std::memcpy(raw.data() + ((std::size_t(z - zc * cz) * cy + r) * cx) * bpv,
                        slice.ptr(yc * cy + r) + std::size_t(xc) * cx * bpv, std::size_t(cols) * bpv);
        }
        writeBytes(folder / chunkName(zc, yc, xc), compress(raw, info.zlibLevel, folder));
      }
}

std::vector<cv::Mat> readZarrSlices(const fs::path& folder, int z0, int z1) {
  const ZarrArrayInfo info = readZarrArrayInfo(folder);
  if (z0 < 0 || z1 > info.shape[0] || z0 > z1)
    throw Error("zarr " + folder.string() + ": slices " + std::to_string(z0) + "-" + std::to_string(z1 - 1) +
                " asked, the array has " + std::to_string(info.shape[0]));
  const auto [cz, cy, cx] = info.chunks;
  const int type = info.bitDepth == 16 ? CV_16U : CV_8U, bpv = bytesPerVoxel(info);
  std::vector<cv::Mat> slices;
  for (int z = z0; z < z1; ++z) slices.emplace_back(info.shape[1], info.shape[2], type, cv::Scalar(0));
  const std::size_t chunkBytes = std::size_t(cz) * cy * cx * bpv;
  for (int zc = z0 / cz; zc * cz < z1; ++zc)
    for (int yc = 0; yc * cy < info.shape[1]; ++yc)
      for (int xc = 0; xc * cx < info.shape[2]; ++xc) {
        const fs::path chunk = folder / chunkName(zc, yc, xc);
        std::ifstream in(chunk, std::ios::binary);
        if (!in) continue;  // never written: the fill value
        const std::string packed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const std::string raw = info.zlibLevel > 0 ? decompress(packed, chunkBytes, chunk) : packed;
        if (raw.size() != chunkBytes)
          throw Error(chunk.string() + ": " + std::to_string(raw.size()) + " bytes, expected " + std::to_string(chunkBytes));
        const int rows = std::min(cy, info.shape[1] - yc * cy), cols = std::min(cx, info.shape[2] - xc * cx);
        for (int z = std::max(z0, zc * cz); z < std::min(z1, (zc + 1) * cz); ++z)
          for (int r = 0; r < rows; ++r)
            std::memcpy(slices[z - z0].ptr(yc * cy + r) + std::size_t(xc) * cx * bpv,
                        raw.data() + ((std::size_t(z - zc * cz) * cy + r) * cx) * bpv, std::size_t(cols) * bpv);
      }
  return slices;
}

void writeZarrJson(const fs::path& folder, const std::string& name, const std::string& text) {
  ensureWritableFolder(folder);
  writeTextFile(folder / name, text);
}

}  // namespace fibseg::io
