#include "fibseg/io/png.hpp"

#include <cstring>
#include <fstream>
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

void writePng(const fs::path& path, const cv::Mat& image) {
  std::vector<uchar> bytes;
  // Compression 1: PNG's best levels cost 5-10x the time for a few percent of size.
  if (!cv::imencode(".png", image, bytes, {cv::IMWRITE_PNG_COMPRESSION, 1}))
    throw Error(path.string() + ": cannot encode image as PNG");
  AtomicFile file(path);
  {
    std::ofstream out(file.temporaryPath(), std::ios::binary);
    if (!out) throw Error(path.string() + ": cannot write (folder missing or not writable)");
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) throw Error(path.string() + ": write failed (disk full?)");
  }
  file.commit();
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
