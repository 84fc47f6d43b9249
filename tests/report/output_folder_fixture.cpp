#include "output_folder_fixture.hpp"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <opencv2/core.hpp>

#include "fibseg/io/png.hpp"
#include "fibseg/measure/metrics.hpp"

namespace fibseg::report::testing {
namespace fs = std::filesystem;

namespace {
std::atomic<int> counter{0};

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}
}  // namespace

TemporaryFolder::TemporaryFolder(const std::string& name) {
  path_ = fs::temp_directory_path() /
          ("fibseg_report_" + name + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  fs::remove_all(path_);
  fs::create_directories(path_);
}

TemporaryFolder::~TemporaryFolder() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

void writeCompleteOutputFolder(const fs::path& folder) {
  // Stages take 4.0 s of a 4.5 s run; the Otsu threshold is 97; slice 2 is the chosen preview slice.
  write(folder / "run.json", R"({
  "slices": 5, "image_width": 64, "image_height": 48, "bit_depth": 16, "pixel_size_nm": 5.5, "slice_thickness_nm": 11,
  "data_bar_rows": 6, "crop": {"x": 2, "y": 1, "width": 60, "height": 40},
  "timings_s": {"read": 0.25, "align": 1.25, "intensity": 0.5, "segment": 2.0, "total": 4.5},
  "segment": {"otsu_thresholds": [97]},
  "preview_slice": 2,
  "phase_fractions": {"pore": 0.125, "se": 0.375, "cam": 0.5}
})");
  write(folder / "parameters_used.toml",
        "# parameters used by fibseg run\n[align]\nmax_shift = 50 # default\n\n[segment]\n"
        "method = \"otsu\" # params.toml:4\n");
  // Largest shift: slice 4, (3, 4) -> 5 px. Slice 3 is flagged.
  write(folder / "transforms.csv",
        "slice,name,dx,dy,peak,flagged\n0,slice_0000.tif,0,0,1,0\n1,slice_0001.tif,1,0.5,0.9,0\n"
        "2,slice_0002.tif,1.5,1,0.85,0\n3,slice_0003.tif,2,-1,0.2,1\n4,slice_0004.tif,3,4,0.8,0\n");
  // Medians before: 100..140 (spread 40); after: 120..122 (spread 2).
  write(folder / "brightness.csv",
        "slice,median_before,p05_before,p95_before,median_after,p05_after,p95_after\n"
        "0,100,60,160,120,80,180\n1,110,70,170,121,81,181\n2,120,80,180,122,82,182\n"
        "3,130,90,190,121,81,181\n4,140,100,200,120,80,180\n");
  // Fractions as 0..1; the report shows percent. Whole volume: 12.5 / 37.5 / 50 %.
  write(folder / "phase_fractions.csv",
        "slice,pore,se,cam\n0,0.1,0.4,0.5\n1,0.12,0.38,0.5\n2,0.125,0.375,0.5\n3,0.13,0.37,0.5\n"
        "4,0.15,0.35,0.5\ntotal,0.125,0.375,0.5\n");
  // 256 grey levels, 10 pixels each except 1000 at 200: 255*10 + 1000 = 3550 pixels.
  std::string histogram = "grey,count\n";
  for (int g = 0; g < 256; ++g) histogram += std::to_string(g) + "," + std::to_string(g == 200 ? 1000 : 10) + "\n";
  write(folder / "preview/histogram.csv", histogram);

  const fs::path preview = folder / "preview";
  for (int s = 0; s < kFixtureSlices; ++s) {
    char digits[8];
    std::snprintf(digits, sizeof digits, "%04d", s);
    // Each slice a different brightness ramp, so the viewer's canvas changes with the slider.
    cv::Mat grey(kPreviewHeight, kPreviewWidth, CV_8U);
    for (int y = 0; y < grey.rows; ++y)
      for (int x = 0; x < grey.cols; ++x) grey.at<uchar>(y, x) = static_cast<uchar>((x * 4 + s * 40) % 256);
    io::writePng(preview / ("grey_" + std::string(digits) + ".png"), grey);
    // Labels: vertical bands pore | SE | CAM whose borders move with the slice.
    cv::Mat labels(kPreviewHeight, kPreviewWidth, CV_8U);
    for (int y = 0; y < labels.rows; ++y)
      for (int x = 0; x < labels.cols; ++x) labels.at<uchar>(y, x) = x < 8 + 2 * s ? 0 : (x < 24 + 2 * s ? 1 : 2);
    io::writePng(preview / ("labels_" + std::string(digits) + ".png"), labels);
  }
  cv::Mat ortho(kFixtureSlices, kPreviewWidth, CV_8U);
  for (int y = 0; y < ortho.rows; ++y)
    for (int x = 0; x < ortho.cols; ++x) ortho.at<uchar>(y, x) = static_cast<uchar>(x * 5);
  for (const char* name : {"ortho_xz_raw", "ortho_xz_aligned", "ortho_yz_raw", "ortho_yz_aligned"})
    io::writePng(preview / (std::string(name) + ".png"), ortho);
  // Label ortho views: left third pore (0), middle SE (1), right CAM (2).
  cv::Mat orthoLabels(kFixtureSlices, 30, CV_8U);
  for (int y = 0; y < orthoLabels.rows; ++y)
    for (int x = 0; x < orthoLabels.cols; ++x) orthoLabels.at<uchar>(y, x) = static_cast<uchar>(x / 10);
  io::writePng(preview / "ortho_xz_labels.png", orthoLabels);
  io::writePng(preview / "ortho_yz_labels.png", orthoLabels);
  cv::Mat gabor(kPreviewHeight, kPreviewWidth, CV_8U);
  for (int y = 0; y < gabor.rows; ++y)
    for (int x = 0; x < gabor.cols; ++x) gabor.at<uchar>(y, x) = static_cast<uchar>((x % 8) * 30);
  io::writePng(preview / "gabor_response.png", gabor);
  // Pore mask: a quarter of the pixels (the top-left quadrant of 48 x 32) are pore.
  cv::Mat mask(kPreviewHeight, kPreviewWidth, CV_8U, cv::Scalar(0));
  mask(cv::Rect(0, 0, kPreviewWidth / 2, kPreviewHeight / 2)).setTo(255);
  io::writePng(preview / "pore_mask.png", mask);
  // 3D views (written at the top of the folder): any colour picture does.
  const cv::Mat view(20, 30, CV_8UC3, cv::Scalar(239, 138, 98));
  io::writePng(folder / "view3d_labels.png", view);
  io::writePng(folder / "view3d_grey.png", view);
  // The measure stage's metrics of a small volume: rows 0-9 half SE, half pore; rows 10-19 CAM.
  auto v = measure::makeVolume(8, 20, 3, {"pore", "se", "cam"}, {0.5, 0.5, 0.5});
  for (int z = 0; z < v.nz; ++z)
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) v.phase[v.index(x, y, z)] = y >= 10 ? 2 : x < 4 ? 1 : 0;
  measure::MetricsOptions options;
  options.tortuosity = false;
  options.sizesMinChords = 0;  // one feature deep: local thickness all the same (the PyBaMM radius row)
  options.slabs = 4;
  const auto metrics = measure::measureMetrics(v, options);
  write(folder / "metrics.json", metrics.dump(2));
  write(folder / "metrics_pybamm.json", measure::pybammParameters(metrics).dump(2));
}

std::string decodeBase64(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int v = value(c);
    if (v < 0) break;  // '=' padding ends the data
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

std::string imageUriOf(const std::string& html, const std::string& id) {
  const auto at = html.find("id=\"" + id + "\"");
  if (at == std::string::npos) return "";
  const std::string marker = "src=\"";
  const auto src = html.find(marker, at);
  if (src == std::string::npos) return "";
  const auto end = html.find('"', src + marker.size());
  return html.substr(src + marker.size(), end - src - marker.size());
}

}  // namespace fibseg::report::testing
