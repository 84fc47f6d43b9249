#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "fibseg/core/image.hpp"
#include "fibseg/io/shift_table.hpp"
#include "fibseg/io/slice_series.hpp"
#include "fibseg/io/tiff.hpp"
#include "fibseg/phantom/phantom.hpp"
#include "fibseg/phantom/write_phantom.hpp"

namespace fs = std::filesystem;
using namespace fibseg;

namespace {
phantom::PhantomParams small() {
  phantom::PhantomParams p;
  p.width = 256;
  p.height = 200;
  p.slices = 12;
  p.seed = 7;
  return p;
}
}  // namespace

TEST(Phantom, DeterministicFromSeed) {
  const phantom::Phantom a(small()), b(small());
  EXPECT_EQ(cv::norm(a.rawSlice(5), b.rawSlice(5), cv::NORM_INF), 0);
  EXPECT_EQ(cv::norm(a.truthLabels(5), b.truthLabels(5), cv::NORM_INF), 0);
  auto other = small();
  other.seed = 8;
  EXPECT_GT(cv::norm(a.truthLabels(5), phantom::Phantom(other).truthLabels(5), cv::NORM_L1), 0);
}

TEST(Phantom, PhaseFractionsMatchTheRequest) {
  auto p = small();
  p.width = 320;
  p.height = 280;
  p.slices = 40;
  const phantom::Phantom ph(p);
  std::array<double, 3> count{};
  double total = 0;
  for (int z = 0; z < p.slices; z += 3) {
    const cv::Mat labels = ph.truthLabels(z);
    for (int phase = 0; phase < 3; ++phase) count[phase] += cv::countNonZero(labels == phase);
    total += labels.total();
  }
  EXPECT_NEAR(count[ActiveMaterial] / total, 0.5, 0.08);
  EXPECT_NEAR(count[Pore] / total, 0.1, 0.04);
}

TEST(Phantom, PhasesAreOrderedByBrightnessAndBarIsAtTheBottom) {
  auto p = small();
  p.randomWalk = 0;
  p.steadyDriftX = p.steadyDriftY = 0;
  const phantom::Phantom ph(p);
  const cv::Mat raw = ph.rawSlice(3), labels = ph.truthLabels(3);
  const cv::Mat content = raw(cv::Rect(0, 0, p.width, ph.contentHeight()));
  const double pore = cv::mean(content, labels == Pore)[0];
  const double se = cv::mean(content, labels == SolidElectrolyte)[0];
  const double cam = cv::mean(content, labels == ActiveMaterial)[0];
  EXPECT_LT(pore + 20, se);
  EXPECT_LT(se + 30, cam);
  EXPECT_EQ(ph.dataBarRows(), 16);  // max(16, 7% of 200)
  cv::Mat bar = raw(cv::Rect(0, ph.contentHeight(), p.width, ph.dataBarRows()));
  EXPECT_GT(cv::countNonZero(bar > 200), 30);  // text and scale bar
}

TEST(Phantom, ShiftsMoveTheContent) {
  // Slice z's content = the sample shifted by shift(z): compare slice 0 and a shifted render of
  // the same plane via the truth labels of a drift-only phantom (no noise, no artefacts).
  auto p = small();
  p.noise = p.curtaining = p.shading = p.gainJitter = p.offsetJitter = p.brightnessTrend = 0;
  const phantom::Phantom ph(p);
  EXPECT_EQ(ph.shift(0), cv::Point2d(0, 0));
  const cv::Point2d s = ph.shift(p.slices - 1);
  EXPECT_GT(cv::norm(s), 1.0);
  EXPECT_NEAR(s.x, 0.35 * (p.slices - 1), 6.0);
}

// The protective cap is the same in every slice (it does not change through depth); the sample
// below it is not. Without drift and artefacts the cap's pixels are identical from slice to slice.
TEST(Phantom, CapIsTheSameInEverySlice) {
  auto p = small();
  p.capRows = 40;
  p.noise = p.curtaining = p.shading = p.gainJitter = p.offsetJitter = p.brightnessTrend = 0;
  p.steadyDriftX = p.steadyDriftY = p.randomWalk = 0;
  const phantom::Phantom ph(p);
  const cv::Rect cap(0, 0, p.width, 36), sample(0, 60, p.width, 100);  // 36: clear of the blur at its edge
  const cv::Mat first = ph.rawSlice(0), later = ph.rawSlice(9);
  EXPECT_EQ(cv::norm(first(cap), later(cap), cv::NORM_INF), 0);
  EXPECT_GT(cv::norm(first(sample), later(sample), cv::NORM_L1) / sample.area(), 2.0);
  cv::Scalar mean, sd;
  cv::meanStdDev(first(cap), mean, sd);
  EXPECT_GT(sd[0], 10);  // textured: something to register on
}

TEST(Phantom, WritesAStackWithTruthThatReadsBack) {
  // This process's own folder: other checkouts' suites may run on the machine at the same time.
  const fs::path dir = fs::temp_directory_path() / ("fibseg_phantom_write_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto p = small();
  p.bitDepth = 16;
  phantom::writePhantom(p, dir);
  const auto series = io::SliceSeries::open(dir / "raw");
  EXPECT_EQ(series.size(), 12u);
  EXPECT_EQ(series.bitDepth(), 16);
  EXPECT_NEAR(series.pixelSizeNm().value(), 10.0, 1e-3);
  const auto truth = io::probeTiff(dir / "truth_labels.tif");
  EXPECT_EQ(truth.pages, 12);
  EXPECT_EQ(truth.height, 200 - 16);
  EXPECT_EQ(io::readShiftTable(dir / "truth_shifts.csv").size(), 12u);
  EXPECT_TRUE(fs::exists(dir / "phantom.json"));
  fs::remove_all(dir);
}
