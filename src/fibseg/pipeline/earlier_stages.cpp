#include "fibseg/pipeline/earlier_stages.hpp"

#include <system_error>

#include "fibseg/config/load.hpp"
#include "fibseg/core/error.hpp"

namespace fibseg::pipeline {
namespace fs = std::filesystem;

namespace {

void linkOrCopy(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  fs::create_hard_link(from, to, ec);
  if (!ec) return;
  ec.clear();
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) throw Error("cannot carry " + from.string() + " over to the new run: " + ec.message());
}

/// Every regular file under `folder`, linked to the same place under `to`.
void linkTree(const fs::path& folder, const fs::path& to) {
  for (const auto& entry : fs::recursive_directory_iterator(folder))
    if (entry.is_regular_file()) linkOrCopy(entry.path(), to / fs::relative(entry.path(), folder));
}

/// The earlier run's output.preview_width, from its parameters_used.toml; -1 when unreadable.
long long earlierPreviewWidth(const fs::path& earlierRun) {
  try {
    return config::loadParameters(earlierRun / "parameters_used.toml", {}, config::RequiredValues::MayBeMissing)
        .integer("output.preview_width");
  } catch (const std::exception&) {
    return -1;
  }
}

bool isGreyPreview(const fs::path& name) {
  const std::string n = name.filename().string();
  return name.extension() == ".png" &&
         (n.starts_with("grey_") || n.ends_with("_raw.png") || n.ends_with("_aligned.png"));
}

}  // namespace

std::vector<std::string> carryOverEarlierStages(const fs::path& earlierRun, const RunPlan& plan) {
  std::vector<std::string> leftOut;
  const auto carry = [&](const fs::path& relative) {
    if (fs::is_regular_file(earlierRun / relative)) linkOrCopy(earlierRun / relative, plan.output / relative);
  };
  // Written by the registration and the correction whatever the preview size.
  for (const char* file : {"transforms.csv", "brightness.csv", "preview/histogram.csv"}) carry(file);
  if (plan.omeZarr && plan.align.writeAlignedStack && fs::is_directory(earlierRun / "aligned.zarr"))
    linkTree(earlierRun / "aligned.zarr", plan.output / "aligned.zarr");

  // The grey previews (slices, XZ/YZ before and after alignment, the 3D view) have the preview width.
  std::vector<fs::path> previews;
  if (fs::is_regular_file(earlierRun / "view3d_grey.png")) previews.emplace_back("view3d_grey.png");
  if (fs::is_directory(earlierRun / "preview"))
    for (const auto& entry : fs::directory_iterator(earlierRun / "preview"))
      if (entry.is_regular_file() && isGreyPreview(entry.path())) previews.push_back("preview" / entry.path().filename());
  if (previews.empty()) return leftOut;
  if (earlierPreviewWidth(earlierRun) != plan.previewWidth) {
    leftOut.push_back("the grey previews (preview/grey_*, the XZ/YZ views before and after alignment, view3d_grey.png) "
                      "were not carried over from the earlier run: it drew them at another output.preview_width; "
                      "run without --from to draw them again");
    return leftOut;
  }
  for (const auto& p : previews) carry(p);
  return leftOut;
}

}  // namespace fibseg::pipeline
