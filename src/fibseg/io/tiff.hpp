#pragma once
// TIFF through libtiff directly (not OpenCV) for what microscopy needs: microscope metadata tags,
// multi-page stacks read page by page, ImageJ-compatible stacks with voxel size, BigTIFF.
#include <opencv2/core.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fibseg::io {

struct TiffInfo {
  int width = 0;
  int height = 0;
  int bitDepth = 0;  // 8 or 16
  int pages = 0;
  std::optional<double> pixelSizeNm;  // from FEI, Zeiss, ImageJ or resolution tags
  std::optional<int> dataBarRows;     // from FEI metadata (DatabarHeight), when it says
};

/// Largest slice a reader accepts (bytes of one page as stored); a header asking for more is refused.
inline constexpr std::size_t kMaxSliceBytes = std::size_t{2} << 30;

/// Reads the first page's header and counts pages; throws on anything fibseg cannot read.
TiffInfo probeTiff(const std::filesystem::path& path);
/// Reads one page (0-based) as CV_8U or CV_16U; RGB pages are converted to grey.
cv::Mat readTiffPage(const std::filesystem::path& path, int page);

enum class BigTiff { Auto, Always, Never };

struct TiffStackOptions {
  int width = 0;
  int height = 0;
  int bitDepth = 8;
  int slices = 0;                 // known up front: the ImageJ description must state it
  double pixelSizeNm = 0;         // 0 = unknown (no unit written)
  double sliceSpacingNm = 0;      // 0 = same as pixel size
  BigTiff bigTiff = BigTiff::Auto;  // Auto: BigTIFF when the file would pass 4 GB
  bool deflate = false;           // lossless compression (labels compress ~20x)
  // Deflate level (libtiff's ZIPQUALITY; Debian's libtiff deflates with libdeflate: 1-12). 3 by
  // measurement (bench/tiff_bench.cpp, phantom labels 2048 x 1536): 7 ms of CPU per slice against
  // 20 ms at libtiff's default (6), for 75 KB per slice instead of 47 KB (3 MB raw).
  int deflateLevel = 3;
};

/// One page's strips as the file stores them (deflated when the stack is). A stack written in
/// blocks elsewhere (a distributed run's tasks) is joined from its blocks' stored pages, without
/// decoding or compressing again: appendStored writes the same bytes append(slice) would.
struct StoredPage {
  int width = 0, height = 0, bitDepth = 8;
  bool deflate = false;
  int rowsPerStrip = 0;  // as the tag says (may exceed the height)
  std::vector<std::vector<std::uint8_t>> strips;
};

/// Writes a stack page by page to a temporary file; finish() checks that every promised slice
/// was written and renames it to `path`. Destroyed unfinished, it leaves nothing behind.
class TiffStackWriter {
 public:
  TiffStackWriter(const std::filesystem::path& path, const TiffStackOptions& options);
  ~TiffStackWriter();
  TiffStackWriter(const TiffStackWriter&) = delete;
  TiffStackWriter& operator=(const TiffStackWriter&) = delete;

  void append(const cv::Mat& slice);
  /// A page read by TiffPageReader::readStored from a stack written with the same options.
  void appendStored(const StoredPage& page);
  void finish();
  bool isBigTiff() const { return bigTiff_; }
  /// The temporary file being written (renamed to the stack's path by finish()).
  std::filesystem::path writingTo() const;
  /// How many bytes from the start of that file no later append() or finish() changes: all but
  /// the last page's directory (the next page links itself there). A reader may hash them now.
  std::uint64_t settledBytes() const { return settled_; }

 private:
  // The page's tags (everything but its strips).
  void startPage(const std::string& where, std::uint32_t rowsPerStrip);
  struct State;
  std::unique_ptr<State> state_;
  TiffStackOptions options_;
  std::filesystem::path path_;
  int written_ = 0;
  bool bigTiff_ = false;
  std::uint64_t settled_ = 0;
  void writeDirectory(const std::string& where);
};

/// Reads the pages of one multi-page TIFF in order, keeping the file open (readTiffPage opens the
/// file and walks the page directory each call). Not thread-safe: one reader per thread.
class TiffPageReader {
 public:
  /// `asStored`: the strips as the file has them, for readStored (libtiff otherwise cuts one
  /// large uncompressed strip into many small ones as it reads the directory).
  explicit TiffPageReader(const std::filesystem::path& path, bool asStored = false);
  ~TiffPageReader();
  int pages() const { return pages_; }
  /// Page `page` (0-based); fastest when pages are read in increasing order.
  cv::Mat read(int page);
  /// Page `page` as stored: its strips undecoded (8- or 16-bit grey, uncompressed or deflate).
  /// Needs a reader opened `asStored`.
  StoredPage readStored(int page);

 private:
  void moveTo(int page);
  struct State;
  std::unique_ptr<State> state_;
  std::filesystem::path path_;
  int pages_ = 0;
  bool asStored_ = false;
};

/// Writes a whole stack (convenience for small volumes and tests).
void writeTiffStack(const std::filesystem::path& path, const std::vector<cv::Mat>& slices,
                    TiffStackOptions options);
/// Reads every page.
std::vector<cv::Mat> readTiffStack(const std::filesystem::path& path);

}  // namespace fibseg::io
