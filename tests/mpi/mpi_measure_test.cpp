// `mpirun -np 2 fibseg measure --mpi` on small label volumes: the distributed tortuosity solve
// (hypre over MPI, src/fibseg/mpi/) against the straight channel's tau = 1 and against the serial
// solver (measure::tortuosity, itself checked against analytic cases and TauFactor's figures in
// tests/measure) on a random volume and on a path that percolates only through the other rank's
// slab. Skipped, saying so, when fibseg was built without MPI and hypre.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <random>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "fibseg/io/tiff.hpp"
#include "fibseg/measure/tortuosity.hpp"

namespace fs = std::filesystem;
using fibseg::measure::LabelVolume;
using fibseg::measure::makeVolume;

namespace {

struct Folder {
  fs::path path = fs::temp_directory_path() / ("fibseg_mpi_" + std::to_string(::getpid()));
  Folder() { fs::remove_all(path), fs::create_directories(path); }
  ~Folder() { fs::remove_all(path); }
};

// Phase index p is written as grey level 100 * p.
void writeVolume(const fs::path& file, const LabelVolume& v) {
  fibseg::io::TiffStackWriter w(file, {.width = v.nx, .height = v.ny, .bitDepth = 8, .slices = v.nz});
  for (int z = 0; z < v.nz; ++z) {
    cv::Mat page(v.ny, v.nx, CV_8U);
    for (int y = 0; y < v.ny; ++y)
      for (int x = 0; x < v.nx; ++x) page.at<std::uint8_t>(y, x) = std::uint8_t(100 * v.phase[v.index(x, y, z)]);
    w.append(page);
  }
  w.finish();
}

struct Run {
  int exitCode = -1;
  std::string output;
};

// Runs `fibseg measure VOLUME --mpi` on 2 ranks. timeout ends mpirun (and mpirun its ranks)
// if anything hangs, so no rank outlives the test. ASAN_OPTIONS=detect_leaks=0: in the sanitizer
// build (make test-sanitize) LeakSanitizer reports Open MPI's own allocations, which it keeps
// for the life of the process by design, and fails the rank at exit; everything else ASan and
// UBSan check stays on. The btl settings keep Open MPI to shared memory on this host, without
// the single-copy (CMA) path that containers often forbid.
Run measureOnTwoRanks(const Folder& f, const std::string& arguments) {
  const std::string command = "ASAN_OPTIONS=detect_leaks=0 timeout -k 10 120 " + std::string(FIBSEG_MPIEXEC) +
                              " --allow-run-as-root --oversubscribe --bind-to none -np 2"
                              " --mca btl self,vader --mca btl_vader_single_copy_mechanism none -x ASAN_OPTIONS " +
                              FIBSEG_CLI + " measure " + (f.path / "v.tif").string() + " --out " +
                              (f.path / "out").string() + " --no-sizes --slabs 1 --tortuosity-min-chords 0 --mpi " + arguments + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  Run r;
  std::array<char, 4096> buffer;
  while (fgets(buffer.data(), buffer.size(), pipe)) r.output += buffer.data();
  r.exitCode = WEXITSTATUS(pclose(pipe));
  return r;
}

nlohmann::json readMetrics(const Folder& f) {
  std::ifstream in(f.path / "out" / "metrics.json");
  return nlohmann::json::parse(in);
}

// Every phase and axis of the MPI run against the serial solver on the same volume: the same
// null reasons, and tau within 1e-4 relative. Why 1e-4: both stop once the flux through every
// plane agrees within 1e-3 (TortuosityParams), the serial one in float, hypre in double; the mean
// flux is known far better than that spread (1e-5 or better on these volumes), but not to double
// precision on the serial side.
void expectSameAsSerial(const nlohmann::json& m, const LabelVolume& v) {
  const double relative = 1e-4;
  for (int p = 0; p < v.phases(); ++p)
    for (int a = 0; a < 3; ++a) {
      SCOPED_TRACE(v.phaseNames[p] + " along " + fibseg::measure::axisName(a));
      const auto serial = fibseg::measure::tortuosity(v, p, a, {});
      const auto& ph = m.at("phases").at(v.phaseNames[p]);
      const auto& tau = ph.at("tortuosity_factor").at(fibseg::measure::axisName(a));
      if (!serial.tau) {
        EXPECT_TRUE(tau.is_null());
        EXPECT_EQ(ph.at("tortuosity_null_reason").at(fibseg::measure::axisName(a)), serial.reason);
        continue;
      }
      ASSERT_TRUE(tau.is_number());
      EXPECT_NEAR(tau.get<double>(), *serial.tau, relative * *serial.tau);
      EXPECT_NEAR(ph.at("tortuosity_factor_percolating").at(fibseg::measure::axisName(a)).get<double>(),
                  *serial.tauPercolating, relative * *serial.tauPercolating);
    }
}

#ifndef FIBSEG_HAVE_MPI
#define REQUIRE_MPI() GTEST_SKIP() << "fibseg built without MPI and hypre (FIBSEG_MPI off or not found)"
#else
#define REQUIRE_MPI() (void)0
#endif

TEST(MeasureMpi, StraightChannelsHaveTauOneAndAClosedAxisIsNullWithItsReason) {
  REQUIRE_MPI();
  // Pore columns along z through solid, on anisotropic voxels: tau_z = 1 exactly (the solution is
  // linear), tau_x and tau_y null since no pore cluster joins the faces normal to them.
  auto v = makeVolume(10, 9, 7, {"pore", "solid"}, {0.5, 0.7, 1.3});
  for (std::size_t i = 0; i < v.voxels(); ++i) v.phase[i] = 1;
  for (int z = 0; z < v.nz; ++z)
    for (auto [x, y] : {std::array{2, 3}, std::array{6, 6}, std::array{7, 6}}) v.phase[v.index(x, y, z)] = 0;
  Folder f;
  writeVolume(f.path / "v.tif", v);
  const auto run = measureOnTwoRanks(f, "--phases pore=0,solid=100 --voxel-size 0.5,0.7,1.3");
  ASSERT_EQ(run.exitCode, 0) << run.output;
  const auto m = readMetrics(f);
  const auto& pore = m.at("phases").at("pore");
  EXPECT_NEAR(pore.at("tortuosity_factor").at("z").get<double>(), 1.0, 1e-9);
  EXPECT_TRUE(pore.at("tortuosity_factor").at("x").is_null());
  EXPECT_EQ(pore.at("tortuosity_null_reason").at("x"), "no cluster of pore touches both faces normal to x");
  EXPECT_EQ(m.at("tortuosity_solver").at("ranks"), 2);
  expectSameAsSerial(m, v);
}

TEST(MeasureMpi, RandomThreePhaseVolumeGivesTheSerialSolversTau) {
  REQUIRE_MPI();
  // Odd sizes (slabs of 9 and 8 slices), anisotropic voxels, pore near its percolation threshold
  // so that its clusters cross the slab face in many places.
  auto v = makeVolume(19, 16, 17, {"pore", "nmc", "cbd"}, {0.4, 0.4, 0.9});
  std::mt19937 random(24);
  std::discrete_distribution<int> phase({0.45, 0.4, 0.15});
  for (auto& p : v.phase) p = std::uint8_t(phase(random));
  Folder f;
  writeVolume(f.path / "v.tif", v);
  const auto run = measureOnTwoRanks(f, "--phases pore=0,nmc=100,cbd=200 --voxel-size 0.4,0.4,0.9");
  ASSERT_EQ(run.exitCode, 0) << run.output;
  expectSameAsSerial(readMetrics(f), v);
}

TEST(MeasureMpi, APathThatPercolatesOnlyThroughTheOtherRanksSlabIsFound) {
  REQUIRE_MPI();
  // Along x, a one-voxel pore path in slab 0 (z 0-3) dips into slab 1 (z 4-7) and comes back:
  // neither rank sees it join x = 0 to x = nx - 1 alone. A second pore piece touches x = 0 only
  // (a dead end, outside the domain).
  auto v = makeVolume(12, 3, 8, {"pore", "solid"});
  for (auto& p : v.phase) p = 1;
  const auto open = [&](int x, int z) { v.phase[v.index(x, 1, z)] = 0; };
  for (int x = 0; x <= 3; ++x) open(x, 1);
  for (int z = 1; z <= 6; ++z) open(3, z), open(8, z);
  for (int x = 3; x <= 8; ++x) open(x, 6);
  for (int x = 8; x < v.nx; ++x) open(x, 1);
  for (int x = 0; x <= 2; ++x) v.phase[v.index(x, 0, 4)] = 0;
  Folder f;
  writeVolume(f.path / "v.tif", v);
  const auto run = measureOnTwoRanks(f, "--phases pore=0,solid=100 --voxel-size 1,1,1");
  ASSERT_EQ(run.exitCode, 0) << run.output;
  const auto m = readMetrics(f);
  // The path is a chain of L = 22 voxels (4 + 5 + 5 + 5 + 3) of unit conductance, half a voxel
  // to each fixed end: flux 1 / L through area ny nz = 24 over length nx = 12, so
  // D_eff / D = 12 / (22 * 24); eps counts all 25 pore voxels of 288, eps_percolating the 22.
  const auto& pore = m.at("phases").at("pore");
  const double relative = 12.0 / (22.0 * 24.0);
  EXPECT_NEAR(pore.at("tortuosity_factor").at("x").get<double>(), 25.0 / 288.0 / relative, 1e-6);
  EXPECT_NEAR(pore.at("tortuosity_factor_percolating").at("x").get<double>(), 22.0 / 288.0 / relative, 1e-6);
  // The linear first guess already passes the same flux through every plane normal to x (the
  // path's z legs cross none): both solvers stop on the residual too, not on the fluxes alone
  // (the serial solver's case: tests/measure/tortuosity_test.cpp).
  EXPECT_TRUE(pore.at("tortuosity_factor").at("z").is_null());
}

TEST(MeasureMpi, MoreRanksThanSlicesIsRefusedNamingBoth) {
  REQUIRE_MPI();
  auto v = makeVolume(4, 4, 1, {"pore"});
  Folder f;
  writeVolume(f.path / "v.tif", v);
  const auto run = measureOnTwoRanks(f, "--phases pore=0");
  EXPECT_NE(run.exitCode, 0);
  EXPECT_NE(run.output.find("1 slices for 2 MPI ranks"), std::string::npos) << run.output;
}

}  // namespace
