// report.html in a real browser: Debian's headless Chromium opens the page from disk with the
// #selftest hash; the page's own script moves the slice and opacity sliders, compares canvas
// pixels before/after, collects every error and writes PASS/FAIL into #selftest-result, which
// --dump-dom hands back to us. Chromium's console log (stderr) must stay empty too. A screenshot
// is saved as report_browser_screenshot.png beside the test executable (or $FIBSEG_REPORT_SCREENSHOT).
//
// Chromium is required, not optional: without it these tests fail and say how to install it
// (FIBSEG_CHROMIUM=/nonexistent shows that failure).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fibseg/report/report.hpp"
#include "output_folder_fixture.hpp"
#include "test_helpers.hpp"

extern char** environ;

namespace fibseg::report {
namespace {
namespace fs = std::filesystem;
using testing::TemporaryFolder;

// Debian's chromium package; FIBSEG_CHROMIUM may name another binary (e.g. to check the failure).
std::string chromiumPath() {
  const char* chosen = std::getenv("FIBSEG_CHROMIUM");
  return chosen ? chosen : "/usr/bin/chromium";
}

using fibseg::test::readFile;

struct BrowserRun {
  int status = -1;
  std::string out, err;
};

// Runs Chromium headless on `page` (with `hash`), stdout and stderr captured. `timeout` stops a
// hung browser so the test fails instead of hanging.
BrowserRun runChromium(const fs::path& work, const fs::path& page, const std::string& hash,
                       const std::vector<std::string>& extra) {
  const fs::path profile = work / "chromium-profile";
  fs::create_directories(profile);
  std::vector<std::string> args = {"timeout", "120", chromiumPath(), "--headless", "--no-sandbox", "--disable-gpu",
                                   "--disable-quic", "--no-first-run", "--disable-background-networking",
                                   "--disable-component-update", "--disable-sync",
                                   "--user-data-dir=" + profile.string(),
                                   // Lets the page's promises (image decoding, self-test) finish
                                   // before the DOM is dumped or the screenshot taken.
                                   "--virtual-time-budget=10000", "--enable-logging=stderr", "--v=0"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back("file://" + fs::absolute(page).string() + hash);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const fs::path out = work / "chromium.out", err = work / "chromium.err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  BrowserRun run;
  if (posix_spawnp(&pid, "timeout", &actions, nullptr, argv.data(), environ) == 0) {
    int status = 0;
    waitpid(pid, &status, 0);
    run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  run.out = readFile(out);
  run.err = readFile(err);
  fs::remove_all(profile);
  return run;
}

// Chromium's log lines carrying page console messages and uncaught exceptions.
std::vector<std::string> consoleLines(const std::string& log) {
  std::vector<std::string> lines;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line))
    if (line.find(":CONSOLE") != std::string::npos) lines.push_back(line);
  return lines;
}

// The text of <pre id="selftest-result" data-verdict="...">...</pre> in the dumped DOM.
std::string selfTestResult(const std::string& dom) {
  const auto at = dom.find("<pre id=\"selftest-result\"");
  if (at == std::string::npos) return "";
  const auto end = dom.find("</pre>", at);
  return dom.substr(at, end - at);
}

void requireChromium() {
  ASSERT_TRUE(fs::exists(chromiumPath()))
      << "headless Chromium is needed to test report.html but " << chromiumPath()
      << " does not exist. Install Debian's chromium package: `scripts/install-deps --browser` "
         "(or `sudo apt-get install chromium`).";
}

TEST(ReportInBrowser, SlidersChangeTheCanvasWithNoConsoleErrors) {
  requireChromium();
  if (HasFatalFailure()) return;
  TemporaryFolder folder("browser");
  testing::writeCompleteOutputFolder(folder.path());
  writeReport(folder.path());
  const BrowserRun run = runChromium(folder.path(), folder.path() / "report.html", "#selftest", {"--dump-dom"});
  ASSERT_EQ(run.status, 0) << "chromium failed; its log:\n" << run.err;
  const std::string result = selfTestResult(run.out);
  ASSERT_FALSE(result.empty()) << "no #selftest-result in the dumped page:\n" << run.out.substr(0, 2000);
  EXPECT_NE(result.find("data-verdict=\"PASS\""), std::string::npos) << result;
  EXPECT_NE(result.find("shown slice 0 -&gt; 4"), std::string::npos) << result;
  EXPECT_NE(result.find("errors: 0"), std::string::npos) << result;
  const auto console = consoleLines(run.err);
  EXPECT_TRUE(console.empty()) << "the page wrote to the console:\n" << console.front();
}

TEST(ReportInBrowser, ScreenshotShowsTheColouredSegmentation) {
  requireChromium();
  if (HasFatalFailure()) return;
  TemporaryFolder folder("screenshot");
  testing::writeCompleteOutputFolder(folder.path());
  writeReport(folder.path());
  // Beside the test executable (the build folder), never in the source tree the test runs from.
  const char* chosen = std::getenv("FIBSEG_REPORT_SCREENSHOT");
  const fs::path screenshot =
      chosen ? fs::absolute(chosen) : fs::read_symlink("/proc/self/exe").parent_path() / "report_browser_screenshot.png";
  fs::remove(screenshot);
  const BrowserRun run = runChromium(folder.path(), folder.path() / "report.html", "#selftest",
                                     {"--window-size=1200,900", "--screenshot=" + screenshot.string()});
  ASSERT_EQ(run.status, 0) << "chromium failed; its log:\n" << run.err;
  const cv::Mat image = cv::imread(screenshot.string(), cv::IMREAD_COLOR);
  ASSERT_FALSE(image.empty()) << "no screenshot at " << screenshot;
  EXPECT_EQ(image.size(), cv::Size(1200, 900));
  // In #selftest mode the viewer sits at the top: its canvas shows the labels blended over the
  // grey slice, so the first screen must hold orange-tinted (SE) and blue-tinted (CAM) pixels
  // (the default phases.colours; at the default 45 % opacity their red-blue difference is ~63).
  int orange = 0, blue = 0;
  for (int y = 0; y < image.rows; ++y)
    for (int x = 0; x < image.cols; ++x) {
      const cv::Vec3b p = image.at<cv::Vec3b>(y, x);  // BGR
      if (p[2] > p[0] + 40) ++orange;
      if (p[0] > p[2] + 40) ++blue;
    }
  EXPECT_GT(orange, 5000) << "SE overlay not visible in " << screenshot;
  EXPECT_GT(blue, 5000) << "CAM overlay not visible in " << screenshot;
  std::cout << "screenshot saved: " << screenshot.string() << "\n";
}

// The text Chromium serialises for a text node: &, < and > escaped.
std::string asDomText(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}

TEST(ReportInBrowser, TheFirstScreenIsTheSummaryWithEveryWarningOfRunJson) {
  requireChromium();
  if (HasFatalFailure()) return;
  TemporaryFolder folder("first_screen");
  testing::writeCompleteOutputFolder(folder.path());
  // The warnings a run writes (run_outcome.cpp), one with characters HTML must escape.
  std::ifstream in(folder.path() / "run.json");
  auto runJson = nlohmann::json::parse(in);
  in.close();
  const std::vector<std::string> warnings = {
      "slice 3 (slice_0003.tif) bridged: no trusted comparison measured its step; it is guessed from its neighbours",
      "phase cam not found: no pixel of any slice was given it",
      "the measure stage failed (measure.slabs = 100 > 88 rows <here> & there): no metrics; the segmentation and "
      "every other output are kept"};
  runJson["warnings"] = warnings;
  runJson["output_folder"] = "/where/the/run/ends";
  std::ofstream(folder.path() / "run.json") << runJson.dump(2);
  writeReport(folder.path());
  const BrowserRun run = runChromium(folder.path(), folder.path() / "report.html", "", {"--dump-dom"});
  ASSERT_EQ(run.status, 0) << "chromium failed; its log:\n" << run.err;
  const std::string& dom = run.out;
  // The first section of the page as the browser built it is the summary.
  const auto first = dom.find("<section");
  ASSERT_NE(first, std::string::npos) << dom.substr(0, 2000);
  ASSERT_EQ(dom.substr(first, 21), "<section id=\"summary\"") << dom.substr(first, 80);
  const std::string summary = dom.substr(first, dom.find("</section>", first) - first);
  for (const auto& w : warnings) EXPECT_NE(summary.find(asDomText(w)), std::string::npos) << "not in the summary: " << w;
  // What was done, what to worry about, the 3D views, the fractions and headline metrics, in order.
  const auto done = summary.find("What was done"), worry = summary.find("What to worry about"),
             views = summary.find("id=\"view3d-labels\""), metrics = summary.find("id=\"summary-metrics\"");
  EXPECT_LT(done, worry);
  EXPECT_LT(worry, views);
  EXPECT_LT(views, metrics);
  EXPECT_NE(metrics, std::string::npos);
  // The folder the run ends in, not the one the page was written in; run.json folded away.
  EXPECT_NE(dom.find("/where/the/run/ends"), std::string::npos);
  EXPECT_EQ(dom.find("<details open=\"\"><summary>Everything in run.json"), std::string::npos);
  const auto console = consoleLines(run.err);
  EXPECT_TRUE(console.empty()) << "the page wrote to the console:\n" << console.front();
}

TEST(ReportInBrowser, SelfTestFailsOnABrokenSliceImage) {
  // The verdict can say FAIL: a labels PNG that passes the signature check but cannot be decoded.
  requireChromium();
  if (HasFatalFailure()) return;
  TemporaryFolder folder("broken");
  testing::writeCompleteOutputFolder(folder.path());
  std::ofstream(folder.path() / "preview/labels_0004.png", std::ios::binary) << "\x89PNG\r\n\x1a\n not really a PNG";
  writeReport(folder.path());
  const BrowserRun run = runChromium(folder.path(), folder.path() / "report.html", "#selftest", {"--dump-dom"});
  ASSERT_EQ(run.status, 0) << "chromium failed; its log:\n" << run.err;
  const std::string result = selfTestResult(run.out);
  EXPECT_NE(result.find("data-verdict=\"FAIL\""), std::string::npos) << result;
  EXPECT_NE(result.find("cannot decode labels of slice 4"), std::string::npos) << result;
}

}  // namespace
}  // namespace fibseg::report
