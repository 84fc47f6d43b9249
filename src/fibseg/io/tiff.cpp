#include "fibseg/io/tiff.hpp"

#include <sys/stat.h>
#include <tiffio.h>

#include <algorithm>
#include <cstdarg>
#include <cstring>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/io/metadata.hpp"

namespace fibseg::io {
namespace fs = std::filesystem;

namespace {

// libtiff reports through global handlers; keep the last message per thread for our exceptions.
thread_local std::string lastTiffError;

void captureError(const char* module, const char* format, va_list args) {
  char buffer[1024];
  std::vsnprintf(buffer, sizeof buffer, format, args);
  lastTiffError = buffer;
}

struct HandlersInstalled {
  HandlersInstalled() {
    TIFFSetErrorHandler(captureError);
    TIFFSetWarningHandler(nullptr);  // unknown private tags (FEI, Zeiss) are expected
  }
};

std::string takeError() {
  std::string message = lastTiffError.empty() ? "" : " (" + lastTiffError + ")";
  lastTiffError.clear();
  return message;
}

struct TiffCloser {
  void operator()(TIFF* tiff) const { TIFFClose(tiff); }
};
using TiffHandle = std::unique_ptr<TIFF, TiffCloser>;

TiffHandle openTiff(const fs::path& path, const char* mode) {
  static HandlersInstalled installed;
  lastTiffError.clear();
  if (std::strchr(mode, 'r')) {
    std::error_code ec;
    if (!fs::exists(path, ec)) throw Error(path.string() + ": file not found");
  }
  // Reading: "m" = no memory mapping. libtiff maps a file it reads by default, and every page
  // read through the map stays resident: streaming a 200-slice stack then grows the process by
  // the whole file (and a file truncated while mapped would crash the reader instead of failing).
  const std::string fullMode = std::string(mode) + (std::strchr(mode, 'r') ? "m" : "");
  TIFF* tiff = TIFFOpen(path.c_str(), fullMode.c_str());
  if (!tiff)
    throw Error(path.string() + ": cannot open as TIFF" + takeError() +
                (std::strchr(mode, 'r') ? "; expected a readable, uncorrupted TIFF file" : ""));
  return TiffHandle(tiff);
}

std::string textTag(TIFF* tiff, ttag_t tag) {
  // Private microscope tags are registered by libtiff as undefined-count ASCII/bytes.
  const TIFFField* field = TIFFFieldWithTag(tiff, tag);
  if (!field) return "";
  if (TIFFFieldPassCount(field)) {
    void* data = nullptr;
    if (TIFFFieldReadCount(field) == TIFF_VARIABLE2) {
      uint32_t count = 0;
      if (TIFFGetField(tiff, tag, &count, &data) == 1 && data) return std::string(static_cast<char*>(data), count);
    } else {
      uint16_t count = 0;
      if (TIFFGetField(tiff, tag, &count, &data) == 1 && data) return std::string(static_cast<char*>(data), count);
    }
    return "";
  }
  char* text = nullptr;
  if (TIFFGetField(tiff, tag, &text) == 1 && text) return text;
  return "";
}

std::optional<double> pixelSizeOf(TIFF* tiff) {
  constexpr ttag_t kFeiTag = 34682, kZeissTag = 34118;
  if (auto v = pixelSizeFromFeiText(textTag(tiff, kFeiTag))) return v;
  if (auto v = pixelSizeFromZeissText(textTag(tiff, kZeissTag))) return v;
  float xResolution = 0;
  uint16_t unit = RESUNIT_INCH;
  const bool hasResolution = TIFFGetField(tiff, TIFFTAG_XRESOLUTION, &xResolution) == 1 && xResolution > 0;
  TIFFGetFieldDefaulted(tiff, TIFFTAG_RESOLUTIONUNIT, &unit);
  char* description = nullptr;
  if (hasResolution && TIFFGetField(tiff, TIFFTAG_IMAGEDESCRIPTION, &description) == 1 && description) {
    if (auto v = pixelSizeFromImageJ(description, xResolution)) return v;
  }
  // Plain resolution tags: centimetre units are physical; inch at 72 dpi is a screen default
  // written by many programs and says nothing about the sample, so it is not trusted.
  if (hasResolution && unit == RESUNIT_CENTIMETER) return 1e7 / xResolution;
  if (hasResolution && unit == RESUNIT_INCH && xResolution != 72.0f && xResolution > 1000.0f)
    return 2.54e7 / xResolution;
  return std::nullopt;
}

struct PageLayout {
  uint32_t width = 0, height = 0;
  uint16_t bits = 0, samples = 1, planar = PLANARCONFIG_CONTIG, format = SAMPLEFORMAT_UINT;
};

PageLayout layoutOf(TIFF* tiff, const fs::path& path, int page) {
  PageLayout layout;
  TIFFGetField(tiff, TIFFTAG_IMAGEWIDTH, &layout.width);
  TIFFGetField(tiff, TIFFTAG_IMAGELENGTH, &layout.height);
  TIFFGetFieldDefaulted(tiff, TIFFTAG_BITSPERSAMPLE, &layout.bits);
  TIFFGetFieldDefaulted(tiff, TIFFTAG_SAMPLESPERPIXEL, &layout.samples);
  TIFFGetFieldDefaulted(tiff, TIFFTAG_PLANARCONFIG, &layout.planar);
  TIFFGetFieldDefaulted(tiff, TIFFTAG_SAMPLEFORMAT, &layout.format);
  const std::string where = path.string() + " page " + std::to_string(page + 1);
  if (layout.width == 0 || layout.height == 0) throw Error(where + ": image has no width or height");
  if (layout.bits != 8 && layout.bits != 16)
    throw Error(where + ": " + std::to_string(layout.bits) + "-bit pixels; expected 8- or 16-bit");
  if (layout.format != SAMPLEFORMAT_UINT)
    throw Error(where + ": signed or floating-point pixels; expected unsigned 8- or 16-bit");
  if (layout.samples != 1 && layout.samples != 3 && layout.samples != 4)
    throw Error(where + ": " + std::to_string(layout.samples) + " samples per pixel; expected grey or RGB");
  if (layout.samples > 1 && layout.planar != PLANARCONFIG_CONTIG)
    throw Error(where + ": planar (separate-channel) RGB is not supported; expected grey or interleaved RGB");
  // A corrupt or hostile header can ask for any size: refuse before allocating what no
  // microscope slice needs (the largest FIB-SEM frames, 32768 x 24576 px 16-bit, are 1.5 GiB).
  const double bytes = double(layout.width) * layout.height * layout.samples * (layout.bits / 8);
  if (bytes > double(kMaxSliceBytes))
    throw Error(where + ": header asks for " + std::to_string(layout.width) + "x" + std::to_string(layout.height) +
                " px (" + std::to_string(static_cast<long long>(bytes / (1 << 20))) + " MiB); more than the " +
                std::to_string(kMaxSliceBytes >> 20) + " MiB a slice may have, so the file is corrupt or not a slice");
  return layout;
}

void setDirectory(TIFF* tiff, const fs::path& path, int page) {
  if (!TIFFSetDirectory(tiff, static_cast<tdir_t>(page)))
    throw Error(path.string() + ": has no page " + std::to_string(page + 1) + takeError());
}

}  // namespace

TiffInfo probeTiff(const fs::path& path) {
  TiffHandle tiff = openTiff(path, "r");
  const PageLayout layout = layoutOf(tiff.get(), path, 0);
  TiffInfo info;
  info.width = static_cast<int>(layout.width);
  info.height = static_cast<int>(layout.height);
  info.bitDepth = layout.bits;
  info.pixelSizeNm = pixelSizeOf(tiff.get());
  info.dataBarRows = dataBarRowsFromFeiText(textTag(tiff.get(), 34682));  // FEI tag
  info.pages = TIFFNumberOfDirectories(tiff.get());
  if (!takeError().empty() && info.pages < 1) throw Error(path.string() + ": corrupt page directory");
  return info;
}

namespace {
// Reads the directory `tiff` is at (page `page` of `path`, for messages).
cv::Mat readCurrentPage(TIFF* tiff, const fs::path& path, int page) {
  const PageLayout layout = layoutOf(tiff, path, page);
  const int depth = layout.bits == 8 ? CV_8U : CV_16U;
  cv::Mat image(static_cast<int>(layout.height), static_cast<int>(layout.width), CV_MAKETYPE(depth, layout.samples));
  const std::string where = path.string() + " page " + std::to_string(page + 1);

  if (TIFFIsTiled(tiff)) {
    uint32_t tileWidth = 0, tileHeight = 0;
    TIFFGetField(tiff, TIFFTAG_TILEWIDTH, &tileWidth);
    TIFFGetField(tiff, TIFFTAG_TILELENGTH, &tileHeight);
    // A tile need not be larger than the image rounded up to whole 16-px tiles (TIFF's unit),
    // or than 1024 x 1024 px, room for the fixed tiles writers put on any image (256 and 512 are
    // usual). A larger one only asks for memory no pixel needs (the fuzzer's 8 x 8 px image
    // with 6553600 x 238 px tiles spent 25 s filling 1.6 GB).
    const auto padded = [](uint32_t n) { return (double(n) + 15) / 16 * 16; };
    const double tilePixels = double(tileWidth) * tileHeight;
    const bool tooLarge = tilePixels > std::max(padded(layout.width) * padded(layout.height), 1024.0 * 1024.0);
    if (tileWidth == 0 || tileHeight == 0 || tooLarge ||
        TIFFTileSize(tiff) < tmsize_t(tileWidth) * tileHeight * tmsize_t(image.elemSize()))
      throw Error(where + ": tiles of " + std::to_string(tileWidth) + "x" + std::to_string(tileHeight) +
                  " px for an image of " + std::to_string(layout.width) + "x" + std::to_string(layout.height) +
                  " px; the file is corrupt");
    std::vector<uint8_t> tile(TIFFTileSize(tiff));
    const size_t pixelBytes = image.elemSize();
    for (uint32_t y = 0; y < layout.height; y += tileHeight) {
      for (uint32_t x = 0; x < layout.width; x += tileWidth) {
        if (TIFFReadTile(tiff, tile.data(), x, y, 0, 0) < 0)
          throw Error(where + ": corrupt or truncated tile at x=" + std::to_string(x) + ", y=" +
                      std::to_string(y) + takeError());
        const uint32_t rows = std::min(tileHeight, layout.height - y);
        const uint32_t cols = std::min(tileWidth, layout.width - x);
        for (uint32_t r = 0; r < rows; ++r)
          std::memcpy(image.ptr(static_cast<int>(y + r)) + x * pixelBytes,
                      tile.data() + r * tileWidth * pixelBytes, cols * pixelBytes);
      }
    }
  } else {
    for (uint32_t row = 0; row < layout.height; ++row) {
      if (TIFFReadScanline(tiff, image.ptr(static_cast<int>(row)), row) < 0)
        throw Error(where + ": corrupt or truncated image data at row " + std::to_string(row) + takeError());
    }
  }
  if (layout.samples == 3) cv::cvtColor(image, image, cv::COLOR_RGB2GRAY);
  if (layout.samples == 4) cv::cvtColor(image, image, cv::COLOR_RGBA2GRAY);
  return image;
}
}  // namespace

cv::Mat readTiffPage(const fs::path& path, int page) {
  TiffHandle tiff = openTiff(path, "r");
  setDirectory(tiff.get(), path, page);
  return readCurrentPage(tiff.get(), path, page);
}

struct TiffPageReader::State {
  TiffHandle tiff;
  int current = 0;
};

TiffPageReader::TiffPageReader(const fs::path& path, bool asStored)
    : state_(std::make_unique<State>()), path_(path), asStored_(asStored) {
  state_->tiff = openTiff(path, asStored ? "rc" : "r");  // "c": no strip chopping
  pages_ = TIFFNumberOfDirectories(state_->tiff.get());
  setDirectory(state_->tiff.get(), path, 0);
}

TiffPageReader::~TiffPageReader() = default;

void TiffPageReader::moveTo(int page) {
  TIFF* tiff = state_->tiff.get();
  if (page == state_->current + 1) {
    if (!TIFFReadDirectory(tiff)) throw Error(path_.string() + ": has no page " + std::to_string(page + 1) + takeError());
  } else if (page != state_->current) {
    setDirectory(tiff, path_, page);
  }
  state_->current = page;
}

cv::Mat TiffPageReader::read(int page) {
  moveTo(page);
  return readCurrentPage(state_->tiff.get(), path_, page);
}

StoredPage TiffPageReader::readStored(int page) {
  if (!asStored_) throw Error(path_.string() + ": readStored needs a reader opened as stored (internal error)");
  moveTo(page);
  TIFF* tiff = state_->tiff.get();
  const PageLayout layout = layoutOf(tiff, path_, page);
  const std::string where = path_.string() + " page " + std::to_string(page + 1);
  uint16_t compression = COMPRESSION_NONE;
  uint32_t rowsPerStrip = 0;
  TIFFGetFieldDefaulted(tiff, TIFFTAG_COMPRESSION, &compression);
  TIFFGetFieldDefaulted(tiff, TIFFTAG_ROWSPERSTRIP, &rowsPerStrip);
  if (layout.samples != 1 || TIFFIsTiled(tiff) || (compression != COMPRESSION_NONE && compression != COMPRESSION_ADOBE_DEFLATE))
    throw Error(where + ": not a page of a fibseg stack (grey, in strips, uncompressed or deflate)");
  StoredPage stored{int(layout.width), int(layout.height), layout.bits, compression == COMPRESSION_ADOBE_DEFLATE,
                    int(rowsPerStrip), {}};
  const uint32_t strips = TIFFNumberOfStrips(tiff);
  for (uint32_t s = 0; s < strips; ++s) {
    const uint64_t count = TIFFGetStrileByteCount(tiff, s);
    if (count == 0 || count > kMaxSliceBytes + (1u << 20))
      throw Error(where + ": strip " + std::to_string(s) + " has no valid size; the file is corrupt");
    auto& bytes = stored.strips.emplace_back(count);
    if (TIFFReadRawStrip(tiff, s, bytes.data(), tmsize_t(bytes.size())) != tmsize_t(bytes.size()))
      throw Error(where + ": strip " + std::to_string(s) + " is truncated" + takeError());
  }
  return stored;
}

std::vector<cv::Mat> readTiffStack(const fs::path& path) {
  const TiffInfo info = probeTiff(path);
  std::vector<cv::Mat> slices;
  for (int page = 0; page < info.pages; ++page) slices.push_back(readTiffPage(path, page));
  return slices;
}

// ---------------------------------------------------------------- writing

struct TiffStackWriter::State {
  AtomicFile file;
  TiffHandle tiff;
  explicit State(const fs::path& path) : file(path) {}
};

TiffStackWriter::TiffStackWriter(const fs::path& path, const TiffStackOptions& options)
    : options_(options), path_(path) {
  if (options.width <= 0 || options.height <= 0 || options.slices <= 0)
    throw Error(path.string() + ": cannot write an empty stack");
  if (options.bitDepth != 8 && options.bitDepth != 16)
    throw Error(path.string() + ": TIFF stacks are written 8- or 16-bit");
  const double bytes = double(options.width) * options.height * (options.bitDepth / 8) * options.slices;
  // Classic TIFF offsets are 32-bit; leave room for directories and the description.
  bigTiff_ = options.bigTiff == BigTiff::Always ||
             (options.bigTiff == BigTiff::Auto && bytes > 4.0e9 - 64.0 * 1024 * 1024);
  state_ = std::make_unique<State>(path);
  state_->tiff = openTiff(state_->file.temporaryPath(), bigTiff_ ? "w8" : "w");
}

TiffStackWriter::~TiffStackWriter() = default;

void TiffStackWriter::startPage(const std::string& where, uint32_t rowsPerStrip) {
  if (!state_ || !state_->tiff) throw Error(where + ": writer already finished");
  if (written_ >= options_.slices)
    throw Error(where + ": more slices than the " + std::to_string(options_.slices) + " announced");
  TIFF* tiff = state_->tiff.get();
  TIFFSetField(tiff, TIFFTAG_IMAGEWIDTH, uint32_t(options_.width));
  TIFFSetField(tiff, TIFFTAG_IMAGELENGTH, uint32_t(options_.height));
  TIFFSetField(tiff, TIFFTAG_BITSPERSAMPLE, uint16_t(options_.bitDepth));
  TIFFSetField(tiff, TIFFTAG_SAMPLESPERPIXEL, uint16_t(1));
  TIFFSetField(tiff, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
  TIFFSetField(tiff, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField(tiff, TIFFTAG_COMPRESSION, options_.deflate ? COMPRESSION_ADOBE_DEFLATE : COMPRESSION_NONE);
  if (options_.deflate) TIFFSetField(tiff, TIFFTAG_ZIPQUALITY, options_.deflateLevel);
  TIFFSetField(tiff, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
  TIFFSetField(tiff, TIFFTAG_PAGENUMBER, uint16_t(written_), uint16_t(options_.slices));
  TIFFSetField(tiff, TIFFTAG_ROWSPERSTRIP, rowsPerStrip);
  if (options_.pixelSizeNm > 0) {
    // ImageJ reads X/YResolution as pixels per `unit` given in its description (here: micron).
    const float perMicron = float(1000.0 / options_.pixelSizeNm);
    TIFFSetField(tiff, TIFFTAG_XRESOLUTION, perMicron);
    TIFFSetField(tiff, TIFFTAG_YRESOLUTION, perMicron);
    TIFFSetField(tiff, TIFFTAG_RESOLUTIONUNIT, RESUNIT_NONE);
  }
  if (written_ == 0) {
    // The ImageJ description makes Fiji open the file as a z-stack with the voxel depth.
    std::ostringstream d;
    d << "ImageJ=1.53t\nimages=" << options_.slices << "\nslices=" << options_.slices << "\n";
    if (options_.pixelSizeNm > 0) {
      const double spacing = options_.sliceSpacingNm > 0 ? options_.sliceSpacingNm : options_.pixelSizeNm;
      d << "unit=micron\nspacing=" << spacing / 1000.0 << "\n";
    }
    d << "loop=false\n";
    TIFFSetField(tiff, TIFFTAG_IMAGEDESCRIPTION, d.str().c_str());
    TIFFSetField(tiff, TIFFTAG_SOFTWARE, "fibseg");
  }
}

void TiffStackWriter::append(const cv::Mat& slice) {
  const std::string where = path_.string() + " slice " + std::to_string(written_ + 1);
  if (slice.cols != options_.width || slice.rows != options_.height || slice.channels() != 1 ||
      slice.depth() != (options_.bitDepth == 8 ? CV_8U : CV_16U))
    throw Error(where + ": slice is " + std::to_string(slice.cols) + "x" + std::to_string(slice.rows) +
                ", expected " + std::to_string(options_.width) + "x" + std::to_string(options_.height) +
                " " + std::to_string(options_.bitDepth) + "-bit grey");
  // Whole-image strips of ~1 MB keep reading fast in every reader.
  const uint32_t rowsPerStrip = std::max<uint32_t>(1, (1u << 20) / uint32_t(slice.step[0]));
  startPage(where, rowsPerStrip);
  TIFF* tiff = state_->tiff.get();
  // Whole strips in one call each (not a call per row): one compression and one write per strip.
  const cv::Mat contiguous = slice.isContinuous() ? slice : slice.clone();
  for (uint32_t row = 0, strip = 0; row < uint32_t(contiguous.rows); row += rowsPerStrip, ++strip) {
    const uint32_t rows = std::min(rowsPerStrip, uint32_t(contiguous.rows) - row);
    if (TIFFWriteEncodedStrip(tiff, strip, const_cast<uchar*>(contiguous.ptr(int(row))),
                              tmsize_t(rows) * tmsize_t(contiguous.step[0])) < 0)
      throw Error(where + ": write failed (disk full?)" + takeError());
  }
  writeDirectory(where);
}

void TiffStackWriter::appendStored(const StoredPage& page) {
  const std::string where = path_.string() + " slice " + std::to_string(written_ + 1);
  const uint32_t rowsPerStrip = uint32_t(std::max(1, page.rowsPerStrip));
  const std::size_t strips = (std::size_t(options_.height) + rowsPerStrip - 1) / rowsPerStrip;
  if (page.width != options_.width || page.height != options_.height || page.bitDepth != options_.bitDepth ||
      page.deflate != options_.deflate || page.strips.size() != strips)
    throw Error(where + ": a stored page of " + std::to_string(page.width) + "x" + std::to_string(page.height) + " " +
                std::to_string(page.bitDepth) + "-bit in " + std::to_string(page.strips.size()) +
                " strips; expected one written with this stack's options (internal error)");
  startPage(where, rowsPerStrip);
  TIFF* tiff = state_->tiff.get();
  for (std::size_t s = 0; s < strips; ++s)
    if (TIFFWriteRawStrip(tiff, uint32_t(s), const_cast<std::uint8_t*>(page.strips[s].data()),
                          tmsize_t(page.strips[s].size())) < 0)
      throw Error(where + ": write failed (disk full?)" + takeError());
  writeDirectory(where);
}

// The page's directory goes after its strips, at the end of the file; libtiff then writes its
// offset into the previous page's directory (or, for the first page, the header), so everything
// before this directory is final.
void TiffStackWriter::writeDirectory(const std::string& where) {
  TIFF* tiff = state_->tiff.get();
  struct stat file {};
  const bool known = ::fstat(TIFFFileno(tiff), &file) == 0;
  if (!TIFFWriteDirectory(tiff)) throw Error(where + ": write failed (disk full?)" + takeError());
  if (known) settled_ = std::uint64_t(file.st_size);
  ++written_;
}

fs::path TiffStackWriter::writingTo() const { return state_ ? state_->file.temporaryPath() : fs::path(); }

void TiffStackWriter::finish() {
  if (!state_ || !state_->tiff) return;
  if (written_ != options_.slices)
    throw Error(path_.string() + ": " + std::to_string(written_) + " slices written, " +
                std::to_string(options_.slices) + " announced");
  state_->tiff.reset();  // closes and flushes
  state_->file.commit();
}

void writeTiffStack(const fs::path& path, const std::vector<cv::Mat>& slices, TiffStackOptions options) {
  if (slices.empty()) throw Error(path.string() + ": cannot write an empty stack");
  options.width = slices.front().cols;
  options.height = slices.front().rows;
  options.bitDepth = slices.front().depth() == CV_16U ? 16 : 8;
  options.slices = static_cast<int>(slices.size());
  TiffStackWriter writer(path, options);
  for (const auto& slice : slices) writer.append(slice);
  writer.finish();
}

}  // namespace fibseg::io
