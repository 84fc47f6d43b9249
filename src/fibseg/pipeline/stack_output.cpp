#include "fibseg/pipeline/stack_output.hpp"

#include <cstdio>
#include <fstream>

#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/error.hpp"

namespace fibseg::pipeline {
namespace fs = std::filesystem;

namespace {

io::TiffStackOptions tiffOptions(const RunPlan& plan, const VolumeSpec& v) {
  return {.width = v.width, .height = v.height, .bitDepth = v.bitDepth, .slices = plan.slices,
          .pixelSizeNm = plan.pixelSizeNm, .sliceSpacingNm = plan.sliceThicknessNm, .deflate = v.labels};
}

io::OmeZarrVolume zarrVolume(const RunPlan& plan, const VolumeSpec& v) {
  io::OmeZarrVolume z;
  z.folder = plan.output / (v.name + ".zarr");
  z.slices = plan.slices, z.height = v.height, z.width = v.width, z.bitDepth = v.bitDepth;
  z.chunkSlices = plan.blockSlices;
  // Without a known pixel size the volume is in pixels: a voxel of 1 (the unit says micrometre,
  // as NGFF has no "pixel"; run.json records that the size is unknown).
  const double xy = plan.pixelSizeNm > 0 ? plan.pixelSizeNm / 1000 : 1.0;
  const double dz = plan.pixelSizeNm > 0 ? plan.sliceThicknessNm / 1000 : 1.0;
  z.voxelUm = {dz, xy, xy};
  z.labels = v.labels;
  if (v.labels)
    for (int p = 0; p < plan.phases.count(); ++p)
      z.phases.push_back({plan.phases.values[p], plan.phases.names[p], plan.phases.coloursRgb[p]});
  return z;
}

class TiffOutput : public StackOutput {
 public:
  TiffOutput(const fs::path& path, const io::TiffStackOptions& options) : writer_(path, options) {}
  void append(const cv::Mat& slice) override { writer_.append(slice); }
  void finish() override { writer_.finish(); }

 private:
  io::TiffStackWriter writer_;
};

class ZarrOutput : public StackOutput {
 public:
  explicit ZarrOutput(io::OmeZarrVolume volume) : volume_(std::move(volume)) { io::createOmeZarr(volume_); }
  void append(const cv::Mat& slice) override {
    pending_.push_back(slice.clone());
    if (int(pending_.size()) == volume_.chunkSlices) flush();
  }
  void finish() override {
    if (!pending_.empty()) flush();
    if (written_ != volume_.slices)
      throw Error(volume_.folder.string() + ": " + std::to_string(written_) + " slices written, expected " +
                  std::to_string(volume_.slices) + " (internal error)");
  }

 private:
  void flush() {
    io::writeOmeZarrSlices(volume_, written_, pending_);
    written_ += int(pending_.size());
    pending_.clear();
  }
  io::OmeZarrVolume volume_;
  std::vector<cv::Mat> pending_;
  int written_ = 0;
};

bool asZarr(const RunPlan& plan, const VolumeSpec& v) { return plan.omeZarr && v.tiff.empty(); }
fs::path tiffPath(const RunPlan& plan, const VolumeSpec& v) { return v.tiff.empty() ? plan.output / (v.name + ".tif") : v.tiff; }

fs::path blockFile(const RunPlan& plan, const VolumeSpec& v, const Block& block, const char* extension = "raw") {
  char name[96];
  std::snprintf(name, sizeof name, "%s_%05d.%s", v.name.c_str(), block.index, extension);
  return blocksFolder(plan) / name;
}

// A TIFF volume's block: a small stack written with the volume's options (its label strips
// deflated by the task), so the join copies the stored strips (TiffStackWriter::appendStored).
fs::path tiffBlockFile(const RunPlan& plan, const VolumeSpec& v, const Block& block) {
  return blockFile(plan, v, block, "tif");
}

void writeTiffBlock(const RunPlan& plan, const VolumeSpec& v, const Block& block, const std::vector<cv::Mat>& slices) {
  const fs::path target = tiffBlockFile(plan, v, block);
  ensureWritableFolder(target.parent_path());
  io::TiffStackOptions options = tiffOptions(plan, v);
  options.slices = int(slices.size());
  io::TiffStackWriter writer(target, options);  // to a temporary name, renamed when whole
  for (const auto& slice : slices) writer.append(slice);
  writer.finish();
}

}  // namespace

fs::path blocksFolder(const RunPlan& plan) { return plan.output / ".blocks"; }

std::unique_ptr<StackOutput> openStackOutput(const RunPlan& plan, const VolumeSpec& volume) {
  if (asZarr(plan, volume)) return std::make_unique<ZarrOutput>(zarrVolume(plan, volume));
  return std::make_unique<TiffOutput>(tiffPath(plan, volume), tiffOptions(plan, volume));
}

void createVolume(const RunPlan& plan, const VolumeSpec& volume) {
  if (asZarr(plan, volume)) io::createOmeZarr(zarrVolume(plan, volume));
}

void writeBlockFile(const RunPlan& plan, const VolumeSpec& v, const Block& block, const std::vector<cv::Mat>& slices) {
  const fs::path target = blockFile(plan, v, block);
  ensureWritableFolder(target.parent_path());
  AtomicFile file(target);
  {
    std::ofstream out(file.temporaryPath(), std::ios::binary);
    for (const auto& s : slices) {
      const cv::Mat c = s.isContinuous() ? s : s.clone();
      out.write(reinterpret_cast<const char*>(c.data), std::streamsize(c.total() * c.elemSize()));
    }
    if (!out) throw Error("cannot write " + target.string() + " (disk full?)");
  }
  file.commit();
}

std::vector<cv::Mat> readBlockFile(const RunPlan& plan, const VolumeSpec& v, const Block& block) {
  const fs::path path = blockFile(plan, v, block);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read " + path.string() + ": a block of the run is missing");
  std::vector<cv::Mat> slices;
  for (int z = block.first; z < block.end; ++z) {
    cv::Mat s(v.height, v.width, v.bitDepth == 16 ? CV_16U : CV_8U);
    in.read(reinterpret_cast<char*>(s.data), std::streamsize(s.total() * s.elemSize()));
    if (!in) throw Error(path.string() + ": shorter than its " + std::to_string(block.size()) + " slices");
    slices.push_back(s);
  }
  return slices;
}

void writeVolumeBlock(const RunPlan& plan, const VolumeSpec& volume, const Block& block,
                      const std::vector<cv::Mat>& slices) {
  if (asZarr(plan, volume)) io::writeOmeZarrSlices(zarrVolume(plan, volume), block.first, slices);
  else writeTiffBlock(plan, volume, block, slices);
}

void joinVolumeBlocks(const RunPlan& plan, const VolumeSpec& volume) { VolumeJoin(plan, volume).finish(); }

VolumeJoin::VolumeJoin(const RunPlan& plan, VolumeSpec volume) : plan_(plan), volume_(std::move(volume)) {
  if (asZarr(plan, volume_)) return;
  // Joined already by a run that was then interrupted (the TIFF appears whole, by rename, and its
  // block files go after it): a resumed run keeps it.
  std::error_code exists;
  if (fs::exists(tiffPath(plan, volume_), exists) && !fs::exists(tiffBlockFile(plan, volume_, blocksOf(plan).back())))
    return;
  writer_ = std::make_unique<io::TiffStackWriter>(tiffPath(plan, volume_), tiffOptions(plan, volume_));
}

VolumeJoin::~VolumeJoin() = default;

void VolumeJoin::appendFinished(const std::function<bool(int)>& finished) {
  if (!writer_) return;
  const std::vector<Block> blocks = blocksOf(plan_);
  for (; next_ < int(blocks.size()) && finished(next_); ++next_) {
    const fs::path path = tiffBlockFile(plan_, volume_, blocks[next_]);
    io::TiffPageReader block(path, true);
    if (block.pages() != blocks[next_].size())
      throw Error(path.string() + ": " + std::to_string(block.pages()) + " slices, expected the block's " +
                  std::to_string(blocks[next_].size()) + " (damaged)");
    for (int page = 0; page < block.pages(); ++page) writer_->appendStored(block.readStored(page));
  }
  // While the other blocks are computed: what is final of the stack is hashed for run.json now.
  sha256_.advance(writer_->writingTo(), writer_->settledBytes());
}

fs::path VolumeJoin::tiff() const { return tiffPath(plan_, volume_); }

std::string VolumeJoin::finish() {
  if (!writer_) return "";
  appendFinished([](int) { return true; });
  writer_->finish();
  writer_.reset();
  std::error_code ec;
  for (const Block& block : blocksOf(plan_)) fs::remove(tiffBlockFile(plan_, volume_, block), ec);
  return sha256_.finish(tiffPath(plan_, volume_));
}

}  // namespace fibseg::pipeline
