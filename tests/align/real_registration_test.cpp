// Registration on real FIB-SEM series (../shared/data/real; skipped when absent).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <algorithm>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "fibseg/align/align.hpp"
#include "real_data.hpp"
#include "registry_defaults.hpp"

namespace fibseg::align {
namespace {

std::vector<cv::Mat> readSeries(const std::filesystem::path& folder) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(folder))
    if (e.path().extension() == ".png" || e.path().extension() == ".tif") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<cv::Mat> slices;
  for (const auto& f : files) slices.push_back(cv::imread(f.string(), cv::IMREAD_UNCHANGED));
  return slices;
}

std::vector<SliceTransform> registerSeries(const std::vector<cv::Mat>& slices, cv::Point2d* offset = nullptr) {
  Registrar registrar(registryDefaults());
  for (const auto& s : slices) registrar.add(s);
  return registrar.finalise(offset);
}

// The BSE and SE images of a slice are co-registered (two detectors, one scan), so registering
// each series on its own must give the same drift; the stack drifts ~230 px in y (the README of
// the data). A plain consecutive phase-correlation chain (scikit-image) gives BSE and SE drifts
// 4.5 px RMS apart, fibseg before the comparison offset 2.37 px; issue 13 asks <= 2 px, and no
// slice bridged. Each detector's comparisons carry their own offset in y (the lag-1 chain and the
// direct lag-L pairs disagree by (L - 1) x ~0.7 px for BSE, ~0.2 px for SE), which the solve
// finds; none in x.
TEST(RealRegistration, LcoBseAndSeAgree) {
  FIBSEG_REQUIRE_REAL_DATA(bse, "lco-fibsem/bse");
  FIBSEG_REQUIRE_REAL_DATA(se, "lco-fibsem/se");
  cv::Point2d offsetA, offsetB;
  const auto a = registerSeries(readSeries(bse), &offsetA);
  const auto b = registerSeries(readSeries(se), &offsetB);
  ASSERT_EQ(a.size(), 30u);
  ASSERT_EQ(b.size(), 30u);
  EXPECT_EQ(bridgedCount(a), 0);
  EXPECT_EQ(bridgedCount(b), 0);
  double sum = 0, worst = 0;
  for (size_t z = 0; z < a.size(); ++z) {
    sum += std::pow(cv::norm(a[z].shift - b[z].shift), 2);
    worst = std::max(worst, cv::norm(a[z].shift - b[z].shift));
  }
  const double rms = std::sqrt(sum / a.size());
  std::printf("lco drift: BSE (%.1f, %.1f) px, SE (%.1f, %.1f) px, %.2f px RMS apart (max %.2f); comparison offsets "
              "BSE (%.3f, %.3f), SE (%.3f, %.3f) px\n",
              a.back().shift.x, a.back().shift.y, b.back().shift.x, b.back().shift.y, rms, worst, offsetA.x, offsetA.y,
              offsetB.x, offsetB.y);
  EXPECT_LE(rms, 2.0);  // issue 13's target; 0.44 px measured (bench/README.md)

  // In chains of 10 slices (align.chain_slices; the default 32 keeps these 30 slices in one).
  const auto inChains = [&](const std::filesystem::path& folder) {
    return registerSlices(readSeries(folder), registryDefaults(), 10);
  };
  const auto ca = inChains(bse), cb = inChains(se);
  double chainedSum = 0;
  for (size_t z = 0; z < ca.size(); ++z) chainedSum += std::pow(cv::norm(ca[z].shift - cb[z].shift), 2);
  const double chainedRms = std::sqrt(chainedSum / ca.size());
  std::printf("lco in chains of 10: BSE and SE %.2f px RMS apart\n", chainedRms);
  EXPECT_EQ(bridgedCount(ca), 0);
  EXPECT_EQ(bridgedCount(cb), 0);
  EXPECT_LE(chainedRms, 2.0);
  for (const auto* t : {&a, &b}) {
    EXPECT_GE(t->back().shift.y, 200);
    EXPECT_LE(t->back().shift.y, 260);
  }
}

// real/helios-raw: three raw Helios slices with a large drift. What the images show, measured
// independently with scikit-image (phase_cross_correlation, upsample_factor 20, chained) on rows
// 0-399 only (the protective cap and the fiducial marks above the trench, which do not change
// from slice to slice): slice 1 (-26.35, 2.20) px, slice 2 (-64.95, -6.85) px (x, y). The whole
// frame gives (-26.45, 2.30) and (-65.00, -6.75).
TEST(RealRegistration, HeliosDriftMatchesTheCap) {
  FIBSEG_REQUIRE_REAL_DATA(folder, "helios-raw");
  std::vector<cv::Mat> slices;
  for (const auto& s : readSeries(folder)) slices.push_back(s.channels() == 1 ? s : cv::Mat());
  ASSERT_EQ(slices.size(), 3u);
  ASSERT_EQ(detectDataBarRows(slices[0]), 0);  // DatabarHeight=0 in its metadata
  cv::Point2d offset(1, 1);
  const auto t = registerSeries(slices, &offset);
  EXPECT_EQ(bridgedCount(t), 0);
  EXPECT_EQ(offset, cv::Point2d(0, 0));  // three measurements for two shifts and an offset: nothing left to judge it by
  EXPECT_LT(cv::norm(t[1].shift - cv::Point2d(-26.35, 2.20)), 1.0) << t[1].shift;
  EXPECT_LT(cv::norm(t[2].shift - cv::Point2d(-64.95, -6.85)), 1.0) << t[2].shift;
}

// real/zeiss-sem: a white bar with black text and logos, rows 699-767 (69 rows).
TEST(RealDataBar, ZeissWhiteBarFound) {
  FIBSEG_REQUIRE_REAL_DATA(folder, "zeiss-sem");
  const int rows = detectDataBarRows(cv::imread((folder / "Example.tif").string(), cv::IMREAD_GRAYSCALE));
  EXPECT_GE(rows, 68);
  EXPECT_LE(rows, 70);
}

// No bar on the sets that have none (helios-raw: DatabarHeight=0 in its metadata).
TEST(RealDataBar, NoFalseBars) {
  for (const char* name : {"lco-fibsem/bse", "lco-fibsem/se", "shale", "helios-raw"}) {
    const auto folder = ::fibseg::test::realDataFolder(name);
    if (folder.empty()) continue;
    EXPECT_EQ(detectDataBarRows(readSeries(folder).front()), 0) << name;
  }
}

}  // namespace
}  // namespace fibseg::align
