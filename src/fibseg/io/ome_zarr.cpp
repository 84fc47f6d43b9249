#include "fibseg/io/ome_zarr.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "fibseg/core/atomic_file.hpp"

namespace fibseg::io {
using nlohmann::ordered_json;

ZarrArrayInfo OmeZarrVolume::levelInfo(int level) const {
  ZarrArrayInfo info;
  int h = height, w = width;
  for (int l = 0; l < level; ++l) h = (h + 1) / 2, w = (w + 1) / 2;
  info.shape = {slices, h, w};
  info.chunks = {chunkSlices, std::min(tile, std::max(h, 1)), std::min(tile, std::max(w, 1))};
  info.bitDepth = bitDepth;
  return info;
}

void createOmeZarr(const OmeZarrVolume& v) {
  ensureWritableFolder(v.folder);
  writeZarrJson(v.folder, ".zgroup", "{\n  \"zarr_format\": 2\n}\n");
  ordered_json datasets = ordered_json::array();
  for (int l = 0; l < v.levels; ++l) {
    const double f = double(1 << l);
    datasets.push_back({{"path", std::to_string(l)},
                        {"coordinateTransformations",
                         {{{"type", "scale"}, {"scale", {v.voxelUm[0], v.voxelUm[1] * f, v.voxelUm[2] * f}}}}}});
    createZarrArray(v.folder / std::to_string(l), v.levelInfo(l));
  }
  ordered_json axes = ordered_json::array();
  for (const char* name : {"z", "y", "x"}) axes.push_back({{"name", name}, {"type", "space"}, {"unit", "micrometer"}});
  ordered_json attrs;
  attrs["multiscales"] = {{{"version", "0.4"},
                           {"name", v.folder.stem().string()},
                           {"axes", axes},
                           {"datasets", datasets},
                           {"type", v.labels ? "nearest" : "mean"},
                           {"metadata", {{"description", v.labels ? "y, x halved per level: pixel (2i, 2j) of the level above"
                                                                  : "y, x halved per level: mean of 2 x 2 pixels"}}}}};
  if (v.labels) {
    ordered_json colors = ordered_json::array(), properties = ordered_json::array();
    for (const auto& p : v.phases) {
      colors.push_back({{"label-value", p.value}, {"rgba", {p.rgb[0], p.rgb[1], p.rgb[2], 255}}});
      properties.push_back({{"label-value", p.value}, {"name", p.name}});
    }
    attrs["image-label"] = {{"version", "0.4"}, {"colors", colors}, {"properties", properties}};
  }
  writeZarrJson(v.folder, ".zattrs", attrs.dump(2) + "\n");
}

void writeOmeZarrSlices(const OmeZarrVolume& v, int z0, const std::vector<cv::Mat>& slices) {
  std::vector<cv::Mat> level = slices;
  for (int l = 0; l < v.levels; ++l) {
    if (l > 0) {
      const ZarrArrayInfo info = v.levelInfo(l);
      for (auto& s : level) {
        cv::Mat half;
        if (v.labels) {
          half.create(info.shape[1], info.shape[2], s.type());
          for (int y = 0; y < half.rows; ++y)
            for (int x = 0; x < half.cols; ++x)
              if (s.depth() == CV_16U) half.at<std::uint16_t>(y, x) = s.at<std::uint16_t>(2 * y, 2 * x);
              else half.at<std::uint8_t>(y, x) = s.at<std::uint8_t>(2 * y, 2 * x);
        } else {
          cv::resize(s, half, cv::Size(info.shape[2], info.shape[1]), 0, 0, cv::INTER_AREA);
        }
        s = half;
      }
    }
    writeZarrSlices(v.folder / std::to_string(l), v.levelInfo(l), z0, level);
  }
}

}  // namespace fibseg::io
