// The report from a hand-written output folder: each section present with the numbers the
// fixture was built to give, missing pieces noted (never an error), images embedded intact.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <regex>
#include <sstream>

#include "fibseg/core/error.hpp"
#include "fibseg/report/csv_table.hpp"
#include "fibseg/report/html.hpp"
#include "fibseg/report/report.hpp"
#include "fibseg/report/svg_plot.hpp"
#include "output_folder_fixture.hpp"
#include "test_helpers.hpp"

namespace fibseg::report {
namespace {
namespace fs = std::filesystem;
using testing::TemporaryFolder;

using fibseg::test::readFile;

// The HTML of the <section id="id">...</section>, or "" if the page has no such section.
std::string sectionOf(const std::string& html, const std::string& id) {
  const auto begin = html.find("<section id=\"" + id + "\">");
  if (begin == std::string::npos) return "";
  return html.substr(begin, html.find("</section>", begin) - begin);
}

std::size_t countOf(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

const std::vector<std::string> kSections = {"run",       "timings", "parameters", "drift",    "ortho-alignment", "brightness",
                                            "histogram", "gabor",   "overlay",    "fractions", "ortho-labels", "summary",
                                            "metrics"};

class CompleteFolder : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    folder_ = new TemporaryFolder("complete");
    testing::writeCompleteOutputFolder(folder_->path());
    html_ = new std::string(buildReportHtml(folder_->path()));
  }
  static void TearDownTestSuite() {
    delete html_;
    delete folder_;
  }
  static TemporaryFolder* folder_;
  static std::string* html_;
};
TemporaryFolder* CompleteFolder::folder_ = nullptr;
std::string* CompleteFolder::html_ = nullptr;

TEST_F(CompleteFolder, HasEverySectionAndNothingLeftOut) {
  for (const auto& id : kSections) EXPECT_FALSE(sectionOf(*html_, id).empty()) << "section " << id;
  EXPECT_EQ(html_->find("left out of this report"), std::string::npos);
  EXPECT_EQ(html_->find("class=\"note\""), std::string::npos);
}

TEST_F(CompleteFolder, SummaryComesFirstAndRunJsonIsFoldedAway) {
  const auto first = html_->find("<section id=");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(html_->substr(first, 22), "<section id=\"summary\">");
  const std::string s = sectionOf(*html_, "summary");
  // What was done, what to worry about, the 3D views, the fractions: in that order.
  const auto done = s.find("What was done"), worry = s.find("What to worry about"), views = s.find("id=\"view3d-labels\""),
             fractions = s.find("id=\"summary-metrics\"");
  ASSERT_NE(fractions, std::string::npos);
  EXPECT_LT(done, worry);
  EXPECT_LT(worry, views);
  EXPECT_LT(views, fractions);
  EXPECT_NE(s.find("Read 5 slices of 64 &times; 48 px, 16-bit, pixel size 5.5 nm."), std::string::npos) << s.substr(0, 800);
  EXPECT_NE(s.find("<td class=\"num\">37.5 %</td>"), std::string::npos);  // SE of the whole volume
  // The fixture's run.json has no "warnings" (an older run): its bridged slice is still said.
  EXPECT_NE(s.find("<li class=\"warn\">slice 3 (slice_0003.tif) bridged"), std::string::npos) << s;
  EXPECT_NE(sectionOf(*html_, "run").find("<details><summary>Everything in run.json"), std::string::npos);
}

TEST(Report, SummaryNamesTheFinalFolderAndEveryWarning) {
  TemporaryFolder folder("summary_warnings");
  testing::writeCompleteOutputFolder(folder.path());
  std::ifstream in(folder.path() / "run.json");
  auto run = nlohmann::json::parse(in);
  in.close();
  run["output_folder"] = "/data/my run";
  run["warnings"] = {"slice 3 (slice_0003.tif) bridged: guessed", "phase <cam> not found & more"};
  std::ofstream(folder.path() / "run.json") << run.dump();
  const std::string html = buildReportHtml(folder.path());
  const std::string s = sectionOf(html, "summary");
  EXPECT_NE(s.find("<li class=\"warn\">slice 3 (slice_0003.tif) bridged: guessed</li>"), std::string::npos) << s;
  EXPECT_NE(s.find("<li class=\"warn\">phase &lt;cam&gt; not found &amp; more</li>"), std::string::npos);
  EXPECT_NE(html.find("Output folder: <code id=\"output-folder\">/data/my run</code>"), std::string::npos);
  EXPECT_NE(s.find("Outputs in <code>/data/my run</code>"), std::string::npos);
  EXPECT_EQ(html.find(folder.path().string()), std::string::npos) << "the folder the page was built in is not named";
}

TEST_F(CompleteFolder, SmallValuesKeepSignificantDigits) {
  // PyBaMM's particle radius is in metres (~1e-7): the table must not print it as 0.
  const std::string m = sectionOf(*html_, "metrics");
  const auto row = m.find("<td>Positive particle radius [m]</td>");
  ASSERT_NE(row, std::string::npos);
  const std::string cell = m.substr(row, m.find("</tr>", row) - row);
  EXPECT_NE(cell.find("<td class=\"num\">") , std::string::npos) << cell;
  EXPECT_NE(cell.find("e-"), std::string::npos) << cell;  // 1e-7 .. 1e-6 m, in significant digits
}

TEST_F(CompleteFolder, IsSelfContained) {
  // Opens offline: nothing is fetched, every image is a data URI.
  EXPECT_EQ(countOf(*html_, "http://"), countOf(*html_, "http://www.w3.org/2000/svg"));  // only the SVG namespace
  EXPECT_EQ(html_->find("https://"), std::string::npos);
  EXPECT_EQ(html_->find("<script src"), std::string::npos);
  EXPECT_EQ(html_->find("<link"), std::string::npos);
  std::regex src(R"(src="([^"]{0,30}))");
  for (auto it = std::sregex_iterator(html_->begin(), html_->end(), src); it != std::sregex_iterator(); ++it)
    EXPECT_EQ((*it)[1].str().rfind("data:image/png;base64,", 0), 0u) << (*it)[1].str();
}

TEST_F(CompleteFolder, RunSummaryAndTimings) {
  const std::string run = sectionOf(*html_, "run");
  EXPECT_NE(run.find("5 slices of 64 &times; 48 px, 16-bit, pixel size 5.5 nm"), std::string::npos) << run.substr(0, 400);
  EXPECT_NE(run.find("<td>crop.width</td><td>60</td>"), std::string::npos);
  const std::string timings = sectionOf(*html_, "timings");
  // In the order run.json lists them (the pipeline's), not alphabetical.
  EXPECT_LT(timings.find("<td>read</td>"), timings.find("<td>align</td>"));
  EXPECT_LT(timings.find("<td>align</td>"), timings.find("<td>intensity</td>"));
  // Shares of the whole run's 4.5 s; "total" is not listed as a stage.
  EXPECT_NE(timings.find("<td>align</td><td class=\"num\">1.25</td><td class=\"num\">27.8 %</td>"), std::string::npos) << timings;
  EXPECT_NE(timings.find("<th>total</th><td class=\"num\">4.5</td>"), std::string::npos);
  EXPECT_EQ(countOf(timings, "<td>total</td>"), 0u);
}

TEST_F(CompleteFolder, ParametersWithTheirOrigin) {
  const std::string s = sectionOf(*html_, "parameters");
  EXPECT_NE(s.find("<td>align.max_shift</td><td>50</td><td>default</td>"), std::string::npos) << s;
  EXPECT_NE(s.find("<td>segment.method</td><td>otsu</td><td>params.toml:4</td>"), std::string::npos);
  EXPECT_NE(s.find("2 parameters, 1 not at their default."), std::string::npos);
  const auto changed = s.find("<table id=\"parameters-changed\">");
  ASSERT_NE(changed, std::string::npos);
  const std::string changedTable = s.substr(changed, s.find("</table>", changed) - changed);
  EXPECT_NE(changedTable.find("segment.method"), std::string::npos);
  EXPECT_EQ(changedTable.find("align.max_shift"), std::string::npos);
}

TEST_F(CompleteFolder, DriftPlotMarksTheFlaggedSlice) {
  const std::string s = sectionOf(*html_, "drift");
  EXPECT_NE(s.find("Largest shift: <b>5 px</b> at slice 4"), std::string::npos) << s.substr(0, 600);
  EXPECT_NE(s.find("Last slice: dx 3 px, dy 4 px"), std::string::npos);
  EXPECT_NE(s.find("their step is guessed from the neighbours): <b>1</b>"), std::string::npos);
  EXPECT_NE(s.find("<td>slice_0003.tif</td><td class=\"num\">2</td><td class=\"num\">-1</td><td class=\"num\">0.2</td>"),
            std::string::npos);
  EXPECT_EQ(countOf(s, "<svg"), 2u);                      // shifts and peak strength
  EXPECT_EQ(countOf(s, "class=\"shaded\""), 2u);          // slice 3 shaded in both plots
  EXPECT_EQ(countOf(s, "<title>flagged: 3</title>"), 2u);
  EXPECT_EQ(countOf(s, "<circle"), 3u);                   // flagged dx, dy and peak points
}

TEST_F(CompleteFolder, OrthogonalViewsBeforeAndAfterAlignment) {
  const std::string s = sectionOf(*html_, "ortho-alignment");
  const std::string expected = readFile(folder_->path() / "preview/ortho_xz_aligned.png");
  for (const char* id : {"ortho-xz-raw", "ortho-xz-aligned", "ortho-yz-raw", "ortho-yz-aligned"})
    EXPECT_FALSE(testing::imageUriOf(s, id).empty()) << id;
  // Slices 11 nm thick, pixels 5.5 nm: each of the 5 rows drawn twice as tall as a pixel is wide.
  EXPECT_NE(s.find("Depth drawn to scale: one slice 11 nm, one pixel 5.5 nm."), std::string::npos);
  EXPECT_EQ(countOf(s, "style=\"aspect-ratio: 48 / 10\""), 4u);
  // Embedded byte for byte.
  const std::string uri = testing::imageUriOf(s, "ortho-xz-aligned");
  EXPECT_EQ(testing::decodeBase64(uri.substr(uri.find(',') + 1)), expected);
}

TEST_F(CompleteFolder, BrightnessBeforeAndAfter) {
  const std::string s = sectionOf(*html_, "brightness");
  EXPECT_NE(s.find("before <b>40</b>, after <b>2</b> grey levels"), std::string::npos) << s.substr(0, 500);
  EXPECT_EQ(countOf(s, "<svg"), 2u);
  EXPECT_NE(s.find("Brightness before correction"), std::string::npos);
  EXPECT_NE(s.find("Brightness after correction"), std::string::npos);
}

TEST_F(CompleteFolder, HistogramWithOtsuThreshold) {
  const std::string s = sectionOf(*html_, "histogram");
  EXPECT_NE(s.find("3550 pixels counted"), std::string::npos) << s.substr(0, 500);
  EXPECT_NE(s.find("Otsu threshold(s): <b>97</b>"), std::string::npos);
  EXPECT_EQ(countOf(s, "class=\"vline\""), 1u);
  EXPECT_EQ(countOf(s, "<rect x="), 256u + 1u + 1u);  // one bar per grey level, frame, legend swatch
}

TEST(Report, SixteenBitHistogramAndPerSliceThresholds) {
  TemporaryFolder folder("histogram16");
  // Sparse 16-bit histogram: 1000..1510 in steps of 10 (52 levels of 100 px) and 60000 (5 px).
  // Range 1000..60000 in at most 256 bars -> bars of 231 grey levels: 257 * 231 > 59001.
  std::string csv = "grey,count\n";
  for (int g = 1000; g <= 1510; g += 10) csv += std::to_string(g) + ",100\n";
  csv += "60000,5\n";
  fs::create_directories(folder.path() / "preview");
  std::ofstream(folder.path() / "preview/histogram.csv") << csv;
  std::ofstream(folder.path() / "run.json") << R"({"otsu_thresholds": [30000, 31000, 29000, 30500, 32000]})";
  const std::string s = sectionOf(buildReportHtml(folder.path()), "histogram");
  EXPECT_NE(s.find("5205 pixels counted (bars of 231 grey levels)"), std::string::npos) << s.substr(0, 600);
  EXPECT_NE(s.find("Otsu thresholds per slice (5): median <b>30500</b>, from <b>29000</b> to <b>32000</b>"), std::string::npos);
  EXPECT_EQ(countOf(s, "class=\"vline\""), 3u);  // min, median, max
  EXPECT_EQ(countOf(s, "<svg"), 2u);              // histogram and threshold per slice
  EXPECT_NE(s.find("Otsu threshold per slice"), std::string::npos);
  EXPECT_EQ(countOf(s, "<rect x="), 256u + 2u * 2u);  // 256 bars; frame and legend of both plots
}

TEST_F(CompleteFolder, GaborResponseAndPoreMaskOfTheChosenSlice) {
  const std::string s = sectionOf(*html_, "gabor");
  EXPECT_NE(s.find("Slice <b>2</b>"), std::string::npos);
  EXPECT_NE(s.find("Pore area in the mask: <b>25 %</b>"), std::string::npos) << s.substr(0, 600);
  EXPECT_FALSE(testing::imageUriOf(s, "gabor-response").empty());
  EXPECT_FALSE(testing::imageUriOf(s, "pore-mask").empty());
}

TEST_F(CompleteFolder, OverlayViewerCarriesEverySlice) {
  const std::string s = sectionOf(*html_, "overlay");
  EXPECT_NE(s.find("5 preview slices"), std::string::npos);
  EXPECT_NE(s.find("id=\"slice-slider\" min=\"0\" max=\"4\""), std::string::npos);
  EXPECT_NE(s.find("id=\"opacity-slider\""), std::string::npos);
  EXPECT_NE(s.find("<canvas id=\"overlay-canvas\""), std::string::npos);
  EXPECT_NE(s.find("\"slices\":[0,1,2,3,4]"), std::string::npos);
  EXPECT_EQ(countOf(s, "data:image/png;base64,"), 10u);  // grey + labels per slice
  EXPECT_NE(s.find("\"2\":[12.5,37.5,50.0]"), std::string::npos) << "per-slice fractions for the viewer";
  const std::string labels3 = base64(reinterpret_cast<const std::uint8_t*>(readFile(folder_->path() / "preview/labels_0003.png").data()),
                                     readFile(folder_->path() / "preview/labels_0003.png").size());
  EXPECT_NE(s.find(labels3), std::string::npos);
}

TEST_F(CompleteFolder, PhaseFractionsInPercent) {
  const std::string s = sectionOf(*html_, "fractions");
  EXPECT_NE(s.find("Whole volume: pore <b>12.5 %</b>, SE <b>37.5 %</b>, CAM <b>50 %</b>"), std::string::npos) << s.substr(0, 500);
  EXPECT_NE(s.find("<tr><td class=\"num\">4</td><td class=\"num\">15</td><td class=\"num\">35</td><td class=\"num\">50</td></tr>"),
            std::string::npos);
  EXPECT_EQ(countOf(s, "<polyline"), 3u);
}

TEST_F(CompleteFolder, MetricsTableProfilesAndHowEachWasComputed) {
  const std::string s = sectionOf(*html_, "metrics");
  // The fixture's volume: CAM fills rows 10-19, so of 4 slabs the last two are all CAM.
  EXPECT_NE(s.find("<tr><td>cam</td><td class=\"num\">0.5</td>"), std::string::npos) << s.substr(0, 800);
  EXPECT_NE(s.find("<tr><td class=\"num\">3</td><td class=\"num\">7.5–10</td><td class=\"num\">0 ± 0</td>"
                   "<td class=\"num\">0 ± 0</td><td class=\"num\">1 ± 0</td>"),
            std::string::npos);
  for (const char* id : {"id=\"metrics-table\"", "id=\"interfaces-table\"", "id=\"slab-table\"", "id=\"pybamm-table\""})
    EXPECT_NE(s.find(id), std::string::npos) << id;
  // Profiles of fractions (3 phases), interfaces (3 pairs), CAM surface shares (2), then histograms.
  EXPECT_GE(countOf(s, "<polyline"), 8u);
  // The areas line is the estimator's own text, carried by metrics.json.
  EXPECT_NE(s.find("marching cubes"), std::string::npos);
  EXPECT_GE(countOf(s, "class=\"how\""), 5u);
  EXPECT_NE(s.find("Positive electrode porosity"), std::string::npos);
}

TEST_F(CompleteFolder, LabelledVolumeViewsArePaintedInPhaseColours) {
  const std::string uri = testing::imageUriOf(sectionOf(*html_, "ortho-labels"), "ortho-xz-labels");
  ASSERT_FALSE(uri.empty());
  const std::string bytes = testing::decodeBase64(uri.substr(uri.find(',') + 1));
  const cv::Mat image = cv::imdecode(std::vector<uchar>(bytes.begin(), bytes.end()), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(image.type(), CV_8UC3);
  ASSERT_EQ(image.size(), cv::Size(30, testing::kFixtureSlices));
  EXPECT_EQ(image.at<cv::Vec3b>(2, 5), cv::Vec3b(247, 247, 247));   // pore light grey
  EXPECT_EQ(image.at<cv::Vec3b>(2, 15), cv::Vec3b(98, 138, 239));   // SE orange (BGR)
  EXPECT_EQ(image.at<cv::Vec3b>(2, 25), cv::Vec3b(239, 138, 98));   // CAM blue (BGR)
}

TEST(Report, MissingFolderIsAnError) {
  try {
    buildReportHtml("/nonexistent/fibseg-output");
    FAIL() << "expected fibseg::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/fibseg-output"), std::string::npos) << e.what();
  }
  EXPECT_THROW(writeReport("/nonexistent/fibseg-output"), Error);
}

TEST(Report, EmptyFolderGivesAPageWithNotes) {
  TemporaryFolder folder("empty");
  const std::string html = buildReportHtml(folder.path());
  for (const auto& id : kSections) {
    const std::string s = sectionOf(html, id);
    EXPECT_FALSE(s.empty()) << id;
    EXPECT_NE(s.find("class=\"note\""), std::string::npos) << "section " << id << " should say what is missing";
  }
  EXPECT_NE(html.find("transforms.csv is not in the output folder: the drift plot is not shown."), std::string::npos);
  EXPECT_NE(html.find("18 piece(s) left out of this report"), std::string::npos);
  EXPECT_EQ(html.find("id=\"overlay-data\""), std::string::npos);
  EXPECT_NE(sectionOf(html, "ortho-labels").find("Depth not to scale"), std::string::npos);
}

TEST(Report, PartialFolderLeavesOutOnlyWhatIsMissing) {
  TemporaryFolder folder("partial");
  testing::writeCompleteOutputFolder(folder.path());
  fs::remove(folder.path() / "brightness.csv");
  fs::remove(folder.path() / "preview/labels_0001.png");
  const std::string html = buildReportHtml(folder.path());
  EXPECT_NE(sectionOf(html, "brightness").find("brightness.csv is not in the output folder"), std::string::npos);
  const std::string overlay = sectionOf(html, "overlay");
  EXPECT_NE(overlay.find("1 preview slice(s) have no labels_NNNN.png (first: slice 1)"), std::string::npos);
  EXPECT_NE(overlay.find("\"labels\":[\"data:image/png;base64,"), std::string::npos);
  EXPECT_NE(overlay.find(",null,"), std::string::npos);
  EXPECT_NE(html.find("2 piece(s) left out of this report"), std::string::npos);
  EXPECT_EQ(sectionOf(html, "drift").find("class=\"note\""), std::string::npos);
}

TEST(Report, UnreadableCsvIsNotedWithFileAndLine) {
  TemporaryFolder folder("bad_csv");
  testing::writeCompleteOutputFolder(folder.path());
  std::ofstream(folder.path() / "transforms.csv") << "slice,name,dx,dy,peak,flagged\n0,a.tif,0,0,1,0\n1,b.tif,two,0,1,0\n";
  std::ofstream(folder.path() / "run.json") << "{ \"slices\": 5, ";  // truncated
  const std::string html = buildReportHtml(folder.path());
  const std::string drift = sectionOf(html, "drift");
  EXPECT_NE(drift.find("transforms.csv:3: column &#39;dx&#39; is &#39;two&#39;; expected a number"), std::string::npos) << drift;
  EXPECT_EQ(drift.find("<svg"), std::string::npos);
  EXPECT_NE(sectionOf(html, "run").find("run.json could not be read"), std::string::npos);
  EXPECT_NE(sectionOf(html, "histogram").find("gives no otsu_thresholds"), std::string::npos);
}

TEST(Report, ClassifierRunHasNoOtsuOrGaborAndSaysSo) {
  TemporaryFolder folder("classifier");
  testing::writeCompleteOutputFolder(folder.path());
  std::ofstream(folder.path() / "run.json") << R"({"method": "classifier", "otsu_thresholds": []})";
  fs::remove(folder.path() / "preview/gabor_response.png");
  fs::remove(folder.path() / "preview/pore_mask.png");
  const std::string html = buildReportHtml(folder.path());
  EXPECT_NE(sectionOf(html, "histogram").find("segmented by the trained classifier, which uses no Otsu threshold"), std::string::npos);
  const std::string gabor = sectionOf(html, "gabor");
  EXPECT_NE(gabor.find("there is no Gabor filter step to show"), std::string::npos) << gabor;
  EXPECT_EQ(gabor.find("class=\"note\""), std::string::npos);
  EXPECT_EQ(sectionOf(html, "histogram").find("class=\"note\""), std::string::npos);  // nothing expected is missing
}

TEST(Report, WriteReportWritesTheSamePage) {
  TemporaryFolder folder("write");
  testing::writeCompleteOutputFolder(folder.path());
  writeReport(folder.path());
  const std::string written = readFile(folder.path() / "report.html");
  EXPECT_EQ(written, buildReportHtml(folder.path()));
  EXPECT_EQ(written.rfind("<!DOCTYPE html>", 0), 0u);
}

TEST(Report, FileNamesAreEscaped) {
  TemporaryFolder folder("escape");
  std::ofstream(folder.path() / "transforms.csv") << "slice,name,dx,dy,peak,flagged\n0,<script>alert(1)</script>.tif,0,0,0.1,1\n";
  const std::string html = buildReportHtml(folder.path());
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;.tif"), std::string::npos);
}

TEST(Html, Base64KnownVectors) {  // RFC 4648 section 10
  auto b64 = [](const std::string& s) { return base64(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()); };
  EXPECT_EQ(b64(""), "");
  EXPECT_EQ(b64("f"), "Zg==");
  EXPECT_EQ(b64("fo"), "Zm8=");
  EXPECT_EQ(b64("foo"), "Zm9v");
  EXPECT_EQ(b64("foob"), "Zm9vYg==");
  EXPECT_EQ(b64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(b64("foobar"), "Zm9vYmFy");
  const std::string binary = std::string("\x00\xff\x10\x80", 4);
  EXPECT_EQ(testing::decodeBase64(b64(binary)), binary);
}

TEST(Html, NumbersAsPeopleWriteThem) {
  EXPECT_EQ(formatNumber(1.5), "1.5");
  EXPECT_EQ(formatNumber(2.0), "2");
  EXPECT_EQ(formatNumber(-0.0001), "-0.0001");  // small values keep significant digits, never 0
  EXPECT_EQ(formatNumber(0.000123456), "0.000123");
  EXPECT_EQ(formatNumber(2.25e-7, 4), "2.25e-7");  // PyBaMM's particle radius in metres
  EXPECT_EQ(formatNumber(0.0, 4), "0");
  EXPECT_EQ(formatNumber(0.0004, 4), "0.0004");
  EXPECT_EQ(formatNumber(31.25, 1), "31.3");  // half away from zero, not printf's "31.2"
  EXPECT_EQ(formatNumber(1234567.0, 0), "1234567");
  EXPECT_EQ(formatNumber(-0.25), "-0.25");
}

TEST(Csv, ColumnsByNameAndQuotedFields) {
  const CsvTable t = CsvTable::parse("Slice, Name ,dx\n0,\"a,b.tif\",1.5\n1,\"say \"\"hi\"\"\",nan\n", "t.csv");
  ASSERT_EQ(t.rows(), 2u);
  EXPECT_EQ(t.text(0, "name"), "a,b.tif");
  EXPECT_EQ(t.text(1, "name"), "say \"hi\"");
  EXPECT_EQ(t.number(0, "dx"), 1.5);
  EXPECT_TRUE(std::isnan(t.number(1, "dx")));
  EXPECT_THROW(t.requireColumns({"slice", "dy"}), Error);
  EXPECT_THROW(CsvTable::parse("a,b\n1\n", "short.csv"), Error);
  EXPECT_THROW(CsvTable::parse("", "empty.csv"), Error);
}

TEST(Svg, NiceTicks) {
  EXPECT_EQ(niceTicks(0, 10, 5), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(niceTicks(-3.2, 4.9, 4), (std::vector<double>{-2, 0, 2, 4}));
  const auto ticks = niceTicks(0.05, 0.2, 3);
  const std::vector<double> expected{0.05, 0.1, 0.15, 0.2};
  ASSERT_EQ(ticks.size(), expected.size());
  for (std::size_t i = 0; i < ticks.size(); ++i) EXPECT_NEAR(ticks[i], expected[i], 1e-12);
  EXPECT_EQ(niceTicks(0, 4, 8, 1.0), (std::vector<double>{0, 1, 2, 3, 4}));  // slices: no 0.5
}

TEST(Svg, NanLeavesAGapInTheLine) {
  Plot p{"t", "x", "y"};
  p.series = {{"a", "#000", {0, 1, 2, 3, 4}, {1, 2, std::nan(""), 3, 4}}};
  EXPECT_EQ(countOf(renderSvg(p), "<polyline"), 2u);
}

}  // namespace
}  // namespace fibseg::report

namespace fibseg::report {
namespace {

// output.uncertainty_pngs: the section shows each listed slice's outlined map (embedded as
// written) and its windows; a run without uncertainty_regions.csv has no such section; a broken
// CSV is a note, not an error.
TEST(Report, UncertaintySectionShowsTheLeastCertainRegionsOfEachListedSlice) {
  TemporaryFolder folder("uncertainty");
  testing::writeCompleteOutputFolder(folder.path());
  EXPECT_EQ(sectionOf(buildReportHtml(folder.path()), "uncertainty"), "");
  std::ofstream(folder.path() / "uncertainty_regions.csv")
      << "slice,rank,x,y,width,height,mean_uncertainty,slice_mean_uncertainty\n"
      << "0,1,16,8,32,32,0.8125,0.2500\n0,2,96,40,32,32,0.5000,0.2500\n4,1,0,0,32,32,0.3750,0.1250\n";
  cv::Mat map(testing::kPreviewHeight, testing::kPreviewWidth, CV_8UC3, cv::Scalar(20, 20, 20));
  map(cv::Rect(4, 2, 8, 8)).setTo(cv::Scalar(0, 0, 255));
  ASSERT_TRUE(cv::imwrite((folder.path() / "preview/uncertainty_0000.png").string(), map));
  const std::string section = sectionOf(buildReportHtml(folder.path()), "uncertainty");
  ASSERT_NE(section, "");
  EXPECT_NE(section.find("Where the classifier is least sure"), std::string::npos);
  EXPECT_NE(section.find("2 slice(s)"), std::string::npos) << section;
  EXPECT_NE(section.find("Slice 0, mean uncertainty 0.25"), std::string::npos) << section;
  EXPECT_NE(section.find("<td>0</td><td>1</td><td>16</td><td>8</td><td>32</td><td>32</td><td>0.813</td>"),
            std::string::npos) << section;
  EXPECT_EQ(countOf(section, "<tr><td>"), 3u);
  // The image is the file as written; slice 4's is missing, which the section says.
  const std::string uri = testing::imageUriOf(section, "uncertainty-0");
  ASSERT_FALSE(uri.empty());
  EXPECT_EQ(testing::decodeBase64(uri.substr(uri.find(',') + 1)), readFile(folder.path() / "preview/uncertainty_0000.png"));
  EXPECT_NE(section.find("uncertainty map of slice 4 is not shown"), std::string::npos) << section;

  std::ofstream(folder.path() / "uncertainty_regions.csv") << "slice,rank\n0,1\n";
  const std::string broken = sectionOf(buildReportHtml(folder.path()), "uncertainty");
  EXPECT_NE(broken.find("uncertainty_regions.csv could not be read"), std::string::npos) << broken;
}

}  // namespace
}  // namespace fibseg::report
