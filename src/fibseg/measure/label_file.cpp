#include "fibseg/measure/label_file.hpp"

#include <tiffio.h>

#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "fibseg/core/error.hpp"
#include "fibseg/io/tiff.hpp"

namespace fibseg::measure {

std::vector<PhaseValue> parsePhaseValues(const std::string& text) {
  std::vector<PhaseValue> phases;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto eq = item.find('=');
    PhaseValue p;
    try {
      if (eq == std::string::npos || eq == 0) throw std::invalid_argument("no name");
      p.name = item.substr(0, eq);
      std::size_t used = 0;
      p.value = std::stoi(item.substr(eq + 1), &used);
      if (used != item.size() - eq - 1 || p.value < 0 || p.value > 65535) throw std::invalid_argument("value");
    } catch (const std::exception&) {
      throw Error("phases '" + text + "': entry '" + item + "' is not name=grey level (e.g. pore=0,se=1,cam=2)");
    }
    for (const auto& q : phases)
      if (q.name == p.name || q.value == p.value)
        throw Error("phases '" + text + "': '" + item + "' repeats a name or grey level");
    phases.push_back(p);
  }
  if (phases.empty()) throw Error("phases '" + text + "': expected at least one name=grey level");
  if (phases.size() > 255) throw Error("phases '" + text + "': at most 255 phases");
  return phases;
}

namespace {
// ImageJ's description gives the slice spacing (spacing=) in its unit (unit=micron, nm, ...).
std::optional<double> imageJSpacingUm(const std::filesystem::path& path) {
  std::unique_ptr<TIFF, decltype(&TIFFClose)> tiff(TIFFOpen(path.c_str(), "r"), &TIFFClose);
  if (!tiff) return std::nullopt;
  char* text = nullptr;
  if (!TIFFGetField(tiff.get(), TIFFTAG_IMAGEDESCRIPTION, &text) || !text) return std::nullopt;
  std::string d(text), unit, spacing;
  std::stringstream in(d);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("unit=", 0) == 0) unit = line.substr(5);
    if (line.rfind("spacing=", 0) == 0) spacing = line.substr(8);
  }
  if (spacing.empty()) return std::nullopt;
  double value = 0;
  try { value = std::stod(spacing); } catch (const std::exception&) { return std::nullopt; }
  if (unit == "micron" || unit == "um" || unit == "\\u00B5m" || unit == "µm") return value;
  if (unit == "nm") return value / 1000.0;
  if (unit == "mm") return value * 1000.0;
  return std::nullopt;
}
}  // namespace

LabelFileInfo probeLabelFile(const std::filesystem::path& path, std::optional<std::array<double, 3>> voxelUm) {
  const auto info = io::probeTiff(path);
  LabelFileInfo r;
  r.width = info.width;
  r.height = info.height;
  r.pages = info.pages;
  if (voxelUm) {
    r.voxelUm = *voxelUm;
    r.voxelSource = "command line";
  } else if (info.pixelSizeNm) {
    const double xy = *info.pixelSizeNm / 1000.0;
    r.voxelUm = {xy, xy, imageJSpacingUm(path).value_or(xy)};
    r.voxelSource = "file metadata";
  } else {
    r.voxelSource = "none (1 µm assumed)";
  }
  for (double s : r.voxelUm)
    if (!(s > 0)) throw Error(path.string() + ": voxel size must be positive (µm)");
  return r;
}

LabelVolume readLabelVolume(const std::filesystem::path& path, const std::vector<PhaseValue>& phases,
                            std::optional<std::array<double, 3>> voxelUm) {
  const auto info = probeLabelFile(path, voxelUm);
  return readLabelSlices(path, phases, info, 0, info.pages);
}

LabelVolume readLabelSlices(const std::filesystem::path& path, const std::vector<PhaseValue>& phases,
                            const LabelFileInfo& info, int z0, int z1) {
  if (z0 < 0 || z1 > info.pages || z0 >= z1)
    throw Error(path.string() + ": pages " + std::to_string(z0) + " to " + std::to_string(z1) + " asked of " +
                std::to_string(info.pages));
  std::vector<std::string> names;
  std::vector<int> lut(65536, -1);
  for (std::size_t p = 0; p < phases.size(); ++p) names.push_back(phases[p].name), lut[phases[p].value] = int(p);
  LabelVolume v = makeVolume(info.width, info.height, z1 - z0, names, info.voxelUm);
  std::set<int> found, unknown;
  io::TiffPageReader reader(path);
  for (int z = 0; z < v.nz; ++z) {
    cv::Mat page = reader.read(z0 + z);
    if (page.cols != info.width || page.rows != info.height)
      throw Error(path.string() + ": page " + std::to_string(z0 + z) + " is " + std::to_string(page.cols) + "x" +
                  std::to_string(page.rows) + ", page 0 is " + std::to_string(info.width) + "x" +
                  std::to_string(info.height));
    for (int y = 0; y < page.rows; ++y)
      for (int x = 0; x < page.cols; ++x) {
        const int g = page.depth() == CV_8U ? page.at<std::uint8_t>(y, x) : page.at<std::uint16_t>(y, x);
        const int p = lut[g];
        if (p < 0) unknown.insert(g);
        else v.phase[v.index(x, y, z)] = std::uint8_t(p);
      }
  }
  if (!unknown.empty()) {
    // Name every grey level in the file so the user can write the --phases list at once.
    for (std::size_t i = 0; i < v.voxels(); ++i) found.insert(phases[v.phase[i]].value);
    found.insert(unknown.begin(), unknown.end());
    std::string values, given;
    for (int g : found) values += (values.empty() ? "" : ", ") + std::to_string(g);
    for (const auto& p : phases) given += (given.empty() ? "" : ",") + p.name + "=" + std::to_string(p.value);
    throw Error(path.string() + ": grey levels found " + values + "; phases given " + given + " leave " +
                std::to_string(*unknown.begin()) + (unknown.size() > 1 ? " and others" : "") +
                " without a phase; give every level a name, e.g. --phases pore=0,nmc=85,cbd=170");
  }
  return v;
}

std::size_t availableMemoryBytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::size_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit)
    if (key == "MemAvailable:") return kb * 1024;
  return 0;
}

}  // namespace fibseg::measure
