#include "fibseg/io/png.hpp"

#include <libdeflate.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/error.hpp"

namespace fibseg::io {
namespace fs = std::filesystem;

namespace {
cv::Mat decode(const fs::path& path, int flags) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open (missing or unreadable)");
  std::vector<uchar> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
  if (bytes.size() < sizeof signature || std::memcmp(bytes.data(), signature, sizeof signature) != 0)
    throw Error(path.string() + ": not a PNG file (no PNG signature); expected a PNG image");
  // cv::imdecode picks the first decoder whose signature matches, and OpenCV 4.6 asks its DICOM
  // decoder (GDCM: "DICM" at byte 128) before PNG's; GDCM aborts the process on such a file
  // (found by fuzzing). A real PNG has "DICM" there with odds of 1 in 2^32.
  if (bytes.size() >= 132 && std::memcmp(bytes.data() + 128, "DICM", 4) == 0)
    throw Error(path.string() + ": bytes 128-131 read DICM, which OpenCV would decode as DICOM, not PNG; "
                "expected a PNG image (re-save it)");
  cv::Mat image;
  try {
    image = cv::imdecode(bytes, flags);
  } catch (const cv::Exception& e) {
    throw Error(path.string() + ": cannot decode PNG (" + e.what() + ")");
  }
  if (image.empty()) throw Error(path.string() + ": cannot decode PNG; file is corrupt or truncated");
  return image;
}
}  // namespace

cv::Mat readPngAsStored(const fs::path& path) { return decode(path, cv::IMREAD_UNCHANGED); }

cv::Mat readPngGrey(const fs::path& path) {
  cv::Mat image = decode(path, cv::IMREAD_UNCHANGED);
  if (image.channels() == 3) cv::cvtColor(image, image, cv::COLOR_BGR2GRAY);
  if (image.channels() == 4) cv::cvtColor(image, image, cv::COLOR_BGRA2GRAY);
  if (image.channels() == 2) throw Error(path.string() + ": grey+alpha PNG; expected grey or RGB");
  return image;
}

namespace {

void putBigEndian32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(std::uint8_t(v >> shift));
}

// A chunk: length, type, data, CRC of type and data.
void putChunk(std::vector<std::uint8_t>& out, const char* type, const std::uint8_t* data, std::size_t size) {
  putBigEndian32(out, std::uint32_t(size));
  const std::size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data, data + size);
  putBigEndian32(out, std::uint32_t(libdeflate_crc32(0, out.data() + start, size + 4)));
}

struct CompressorDeleter {
  void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
};


// The IDAT of a PNG: the filtered rows deflated (zlib stream), and the largest index a
// palette must cover.
struct ImageData {
  std::vector<std::uint8_t> deflated;
  int largestIndex = 0;
};

// The image data of `image` (as encodePng takes it); with a palette, `image` holds its indices.
ImageData imageData(const cv::Mat& image, int level, PngFilter filter,
                    const std::vector<std::array<std::uint8_t, 3>>* palette) {
  const int channels = image.channels();
  const bool sixteen = image.depth() == CV_16U;
  if (image.empty() || !((image.depth() == CV_8U && (channels == 1 || channels == 3 || channels == 4)) ||
                         (sixteen && channels == 1)) || (palette && (channels != 1 || sixteen)))
    throw Error("PNG: cannot encode a " + std::to_string(image.cols) + " x " + std::to_string(image.rows) +
                " image of OpenCV type " + std::to_string(image.type()) +
                (palette ? "; expected 8-bit indices" : "; expected 8- or 16-bit grey, or 8-bit BGR / BGRA"));
  if (level < 1 || level > 12) throw Error("PNG: compression level " + std::to_string(level) + "; expected 1 to 12");
  if (palette && (palette->empty() || palette->size() > 256))
    throw Error("PNG: a palette of " + std::to_string(palette->size()) + " colours; expected 1 to 256");
  // The filtered rows: a filter byte, then the row as PNG stores it (RGB(A), 16-bit big-endian).
  const int pixelBytes = channels * (sixteen ? 2 : 1);
  const std::size_t rowBytes = std::size_t(image.cols) * pixelBytes;
  std::vector<std::uint8_t> raw((rowBytes + 1) * image.rows), row(rowBytes), previous(rowBytes, 0);
  int largestIndex = 0;
  for (int y = 0; y < image.rows; ++y) {
    if (sixteen) {
      const std::uint16_t* in = image.ptr<std::uint16_t>(y);
      for (int x = 0; x < image.cols; ++x) row[2 * x] = std::uint8_t(in[x] >> 8), row[2 * x + 1] = std::uint8_t(in[x]);
    } else if (channels == 1) {
      std::memcpy(row.data(), image.ptr<std::uint8_t>(y), rowBytes);
      if (palette) largestIndex = std::max(largestIndex, int(*std::max_element(row.begin(), row.end())));
    } else {
      const std::uint8_t* in = image.ptr<std::uint8_t>(y);
      for (int x = 0; x < image.cols; ++x, in += channels) {
        std::uint8_t* px = row.data() + std::size_t(x) * channels;
        px[0] = in[2], px[1] = in[1], px[2] = in[0];
        if (channels == 4) px[3] = in[3];
      }
    }
    std::uint8_t* out = raw.data() + y * (rowBytes + 1);
    out[0] = std::uint8_t(filter);
    switch (filter) {
      case PngFilter::None: std::memcpy(out + 1, row.data(), rowBytes); break;
      case PngFilter::Sub:
        for (std::size_t i = 0; i < rowBytes; ++i)
          out[1 + i] = std::uint8_t(row[i] - (i >= std::size_t(pixelBytes) ? row[i - pixelBytes] : 0));
        break;
      case PngFilter::Up:
        for (std::size_t i = 0; i < rowBytes; ++i) out[1 + i] = std::uint8_t(row[i] - previous[i]);
        break;
    }
    std::swap(row, previous);
  }
  const std::unique_ptr<libdeflate_compressor, CompressorDeleter> compressor(libdeflate_alloc_compressor(level));
  if (!compressor) throw Error("PNG: out of memory for the compressor");
  std::vector<std::uint8_t> deflated(libdeflate_zlib_compress_bound(compressor.get(), raw.size()));
  deflated.resize(libdeflate_zlib_compress(compressor.get(), raw.data(), raw.size(), deflated.data(), deflated.size()));
  if (deflated.empty()) throw Error("PNG: compression failed");
  return {std::move(deflated), largestIndex};
}

// The PNG file around image data: grey / colour type from `image`, indexed with a palette.
std::vector<std::uint8_t> assemble(const cv::Mat& image, const ImageData& data,
                                   const std::vector<std::array<std::uint8_t, 3>>* palette) {
  const int channels = image.channels();
  const bool sixteen = image.depth() == CV_16U;
  const std::vector<std::uint8_t>& deflated = data.deflated;
  const int largestIndex = data.largestIndex;

  std::vector<std::uint8_t> png{0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
  png.reserve(deflated.size() + 3 * 256 + 64);
  std::vector<std::uint8_t> header;
  putBigEndian32(header, std::uint32_t(image.cols));
  putBigEndian32(header, std::uint32_t(image.rows));
  const std::uint8_t colourType = palette ? 3 : channels == 1 ? 0 : channels == 3 ? 2 : 6;  // indexed, grey, RGB, RGBA
  header.insert(header.end(), {std::uint8_t(sixteen ? 16 : 8), colourType, 0, 0, 0});  // deflate, adaptive filtering, no interlace
  putChunk(png, "IHDR", header.data(), header.size());
  if (palette) {
    // Every index used has an entry (a decoder refuses an index past the palette): black past the colours.
    std::vector<std::uint8_t> entries(3 * std::max<std::size_t>(palette->size(), largestIndex + 1), 0);
    for (std::size_t i = 0; i < palette->size(); ++i) std::copy(palette->at(i).begin(), palette->at(i).end(), entries.begin() + 3 * i);
    putChunk(png, "PLTE", entries.data(), entries.size());
  }
  putChunk(png, "IDAT", deflated.data(), deflated.size());
  static const std::uint8_t noData[1] = {0};
  putChunk(png, "IEND", noData, 0);
  return png;
}

// The PNG of `image` (as encodePng takes it); with a palette, `image` holds its indices.
std::vector<std::uint8_t> encode(const cv::Mat& image, int level, PngFilter filter,
                                 const std::vector<std::array<std::uint8_t, 3>>* palette) {
  return assemble(image, imageData(image, level, filter, palette), palette);
}

void writeFile(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  AtomicFile file(path);
  {
    std::ofstream out(file.temporaryPath(), std::ios::binary);
    if (!out) throw Error(path.string() + ": cannot write (folder missing or not writable)");
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) throw Error(path.string() + ": write failed (disk full?)");
  }
  file.commit();
}

// libdeflate level 2 and the Up filter on every row, by measurement on a run's 2048 x 1536 label
// and colour slices (bench/png_bench.cpp, bench/README.md): 6 ms a slice each, 55 kB, where
// OpenCV's encoder at compression 1 took 21 ms (labels) and 54 ms (RGB colour) for 81 / 127 kB.
// Higher levels cost more time for a few percent of size.
constexpr int kLevel = 2;
constexpr PngFilter kFilter = PngFilter::Up;

}  // namespace

std::vector<std::uint8_t> encodePng(const cv::Mat& image, int level, PngFilter filter) {
  return encode(image, level, filter, nullptr);
}

std::vector<std::uint8_t> encodeIndexedPng(const cv::Mat& indices, const std::vector<std::array<std::uint8_t, 3>>& paletteRgb,
                                           int level, PngFilter filter) {
  return encode(indices, level, filter, &paletteRgb);
}

void writeIndexedPng(const fs::path& path, const cv::Mat& indices,
                     const std::vector<std::array<std::uint8_t, 3>>& paletteRgb) {
  try {
    writeFile(path, encode(indices, kLevel, kFilter, &paletteRgb));
  } catch (const Error& e) {
    if (std::string(e.what()).starts_with(path.string())) throw;
    throw Error(path.string() + ": " + e.what());
  }
}

void writeGreyAndIndexedPng(const fs::path& greyPath, const fs::path& indexedPath, const cv::Mat& image,
                            const std::vector<std::array<std::uint8_t, 3>>& paletteByValue) {
  const fs::path* current = &greyPath;
  try {
    const ImageData data = imageData(image, kLevel, kFilter, &paletteByValue);
    writeFile(greyPath, assemble(image, data, nullptr));
    current = &indexedPath;
    writeFile(indexedPath, assemble(image, data, &paletteByValue));
  } catch (const Error& e) {
    if (std::string(e.what()).starts_with(current->string())) throw;
    throw Error(current->string() + ": " + e.what());
  }
}

void writePng(const fs::path& path, const cv::Mat& image) {
  try {
    writeFile(path, encode(image, kLevel, kFilter, nullptr));
  } catch (const Error& e) {
    if (std::string(e.what()).starts_with(path.string())) throw;
    throw Error(path.string() + ": " + e.what());
  }
}

PngHeader probePng(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open (missing or unreadable)");
  unsigned char h[29] = {};
  in.read(reinterpret_cast<char*>(h), sizeof h);
  static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
  if (in.gcount() < 29 || std::memcmp(h, signature, 8) != 0 || std::memcmp(h + 12, "IHDR", 4) != 0)
    throw Error(path.string() + ": not a PNG file (bad signature or header)");
  auto be32 = [&](int at) { return (h[at] << 24) | (h[at + 1] << 16) | (h[at + 2] << 8) | h[at + 3]; };
  PngHeader header;
  header.width = be32(16);
  header.height = be32(20);
  header.bitDepth = h[24];
  switch (h[25]) {  // colour type
    case 0: header.channels = 1; break;
    case 2: header.channels = 3; break;
    case 3: header.channels = 3; header.bitDepth = 8; break;  // palette expands to 8-bit RGB
    case 4: header.channels = 2; break;
    case 6: header.channels = 4; break;
    default: throw Error(path.string() + ": unknown PNG colour type");
  }
  if (header.bitDepth < 8) header.bitDepth = 8;  // OpenCV expands 1/2/4-bit grey to 8-bit
  return header;
}

}  // namespace fibseg::io
