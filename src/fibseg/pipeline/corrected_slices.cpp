#include "fibseg/pipeline/corrected_slices.hpp"

#include <fstream>
#include <nlohmann/json.hpp>

#include "fibseg/config/load.hpp"
#include "fibseg/intensity/intensity.hpp"
#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/io/tiff.hpp"
#include "fibseg/pipeline/aligned_stack.hpp"

namespace fibseg::pipeline {
namespace fs = std::filesystem;
using nlohmann::json;

fs::path greyStackPath(const RunPlan& plan) {
  return plan.align.writeAlignedStack && !plan.omeZarr ? plan.output / "aligned.tif" : plan.cacheFolder / "aligned.tif";
}

cv::Mat correctAligned(const cv::Mat& aligned, const intensity::BrightnessStats& reference,
                       const intensity::IntensityParams& params) {
  return intensity::correctIntensity(aligned, reference, params).image;
}

namespace {

json readJson(const fs::path& path, const fs::path& runFolder) {
  std::ifstream in(path);
  json j = in ? json::parse(in, nullptr, false) : json();
  if (!j.is_object())
    throw Error(runFolder.string() + " lacks a readable " + fs::relative(path, runFolder).string() +
                "; expected the output folder of a completed `fibseg run` (run it again without --from)");
  return j;
}

}  // namespace

RunCorrectedSlices::RunCorrectedSlices(const fs::path& runFolder) {
  const fs::path cacheJson = runFolder / "cache" / "corrected.json";
  const AlignedStack stack = alignedStackFromJson(readJson(cacheJson, runFolder));
  if (!stack.hasReference)
    throw Error(cacheJson.string() + " was written by an earlier fibseg, which kept cache/corrected.tif instead; "
                "run `fibseg run` again (without --from) to make the cache this version reads");
  reference_ = stack.reference;
  const fs::path parameters = runFolder / "parameters_used.toml";
  if (!fs::is_regular_file(parameters))
    throw Error(runFolder.string() + " lacks parameters_used.toml; expected the output folder of a completed `fibseg run`");
  params_ = config::intensityParamsFrom(config::loadParameters(parameters, {}, config::RequiredValues::MayBeMissing));
  // The cache's own copy when aligned.tif is not an output (align.write_aligned_stack = false, OME-Zarr).
  greyStack_ = fs::is_regular_file(runFolder / "cache" / "aligned.tif") ? runFolder / "cache" / "aligned.tif"
                                                                         : runFolder / "aligned.tif";
  if (!fs::is_regular_file(greyStack_))
    throw Error(runFolder.string() + " lacks aligned.tif (and cache/aligned.tif); expected the output folder of a "
                "completed `fibseg run`");
  const io::TiffInfo info = io::probeTiff(greyStack_);
  if (info.width != stack.outputRect.width || info.height != stack.outputRect.height ||
      info.pages != int(stack.transforms.size()))
    throw Error(greyStack_.string() + " is " + std::to_string(info.width) + " x " + std::to_string(info.height) + " x " +
                std::to_string(info.pages) + ", but " + cacheJson.string() + " describes " +
                std::to_string(stack.outputRect.width) + " x " + std::to_string(stack.outputRect.height) + " x " +
                std::to_string(stack.transforms.size()) + "; expected both from the same run (run it again)");
  pages_ = info.pages;
  size_ = {info.width, info.height};
  bitDepth_ = info.bitDepth;
}

cv::Mat RunCorrectedSlices::read(int z) const {
  if (z < 0 || z >= pages_)
    throw Error(greyStack_.string() + ": slice " + std::to_string(z) + " asked; expected 0 to " +
                std::to_string(pages_ - 1));
  return correctAligned(io::readTiffPage(greyStack_, z), reference_, params_);
}

int writeCorrectedStack(const fs::path& runFolder, const fs::path& path) {
  const RunCorrectedSlices slices(runFolder);
  const json run = readJson(runFolder / "run.json", runFolder);
  io::TiffStackWriter writer(path, {.width = slices.size().width, .height = slices.size().height,
                                    .bitDepth = slices.bitDepth(), .slices = slices.pages(),
                                    .pixelSizeNm = run.value("pixel_size_nm", 0.0),
                                    .sliceSpacingNm = run.value("slice_thickness_nm", 0.0)});
  for (int z = 0; z < slices.pages(); ++z) writer.append(slices.read(z));
  writer.finish();
  return slices.pages();
}

}  // namespace fibseg::pipeline
