#include "fibseg/phantom/write_phantom.hpp"

#include <tbb/parallel_for.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "fibseg/core/atomic_file.hpp"
#include "fibseg/io/shift_table.hpp"
#include "fibseg/io/tiff.hpp"

namespace fibseg::phantom {
namespace fs = std::filesystem;

namespace {
nlohmann::json describe(const Phantom& phantom) {
  const PhantomParams& p = phantom.params();
  return {{"width", p.width},           {"height", p.height},
          {"slices", p.slices},         {"seed", p.seed},
          {"bit_depth", p.bitDepth},    {"data_bar_rows", phantom.dataBarRows()},
          {"cam_fraction", p.camFraction}, {"pore_fraction", p.poreFraction},
          {"cam_radius", p.camRadius},  {"pore_radius", p.poreRadius},
          {"steady_drift_x", p.steadyDriftX}, {"steady_drift_y", p.steadyDriftY},
          {"random_walk", p.randomWalk}, {"gain_jitter", p.gainJitter},
          {"offset_jitter", p.offsetJitter}, {"brightness_trend", p.brightnessTrend},
          {"shading", p.shading},       {"curtaining", p.curtaining},
          {"pore_back", p.poreBack},    {"blur", p.blur},
          {"noise", p.noise},           {"pixel_size_nm", p.pixelSizeNm},
          {"slice_thickness_nm", p.sliceThicknessNm},
          // The cap is not a phase: truth_labels.tif shows the sample as if it were not there, so
          // a run that is scored sets its region of interest below the cap.
          {"cap_rows", p.capRows},
          {"labels", {{"0", "pore"}, {"1", "SE"}, {"2", "CAM"}}},
          {"shift_convention", "content displacement of each slice relative to slice 0, px"}};
}
}  // namespace

void writePhantom(const PhantomParams& params, const fs::path& folder, bool multiPage) {
  const Phantom phantom(params);
  ensureWritableFolder(folder);
  const fs::path rawFolder = folder / "raw";
  if (!multiPage) ensureWritableFolder(rawFolder);

  io::TiffStackOptions rawOptions{.width = params.width, .height = params.height,
                                  .bitDepth = params.bitDepth, .slices = params.slices,
                                  .pixelSizeNm = params.pixelSizeNm,
                                  .sliceSpacingNm = params.sliceThicknessNm};
  io::TiffStackOptions truthOptions = rawOptions;
  truthOptions.height = phantom.contentHeight();
  truthOptions.bitDepth = 8;
  truthOptions.deflate = true;
  io::TiffStackWriter truth(folder / "truth_labels.tif", truthOptions);
  std::unique_ptr<io::TiffStackWriter> rawStack;
  if (multiPage) rawStack = std::make_unique<io::TiffStackWriter>(folder / "raw.tif", rawOptions);

  // Render a few slices at a time on all cores, write them in order: memory stays bounded.
  const int chunk = 8;
  for (int start = 0; start < params.slices; start += chunk) {
    const int count = std::min(chunk, params.slices - start);
    std::vector<cv::Mat> raw(count), labels(count);
    tbb::parallel_for(0, count, [&](int i) {
      raw[i] = phantom.rawSlice(start + i);
      labels[i] = phantom.truthLabels(start + i);
    });
    for (int i = 0; i < count; ++i) {
      truth.append(labels[i]);
      if (rawStack) {
        rawStack->append(raw[i]);
      } else {
        char name[32];
        std::snprintf(name, sizeof name, "slice_%04d.tif", start + i);
        io::TiffStackOptions one = rawOptions;
        one.slices = 1;
        io::TiffStackWriter writer(rawFolder / name, one);
        writer.append(raw[i]);
        writer.finish();
      }
    }
  }
  truth.finish();
  if (rawStack) rawStack->finish();

  std::vector<cv::Point2d> shifts;
  for (int z = 0; z < params.slices; ++z) shifts.push_back(phantom.shift(z));
  io::writeShiftTable(folder / "truth_shifts.csv", shifts);
  writeTextFile(folder / "phantom.json", describe(phantom).dump(2) + "\n");
}

}  // namespace fibseg::phantom
