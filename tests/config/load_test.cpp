// Parameter files end to end: `fibseg init` templates filled in and loaded (TOML and Excel), an
// Excel file written by LibreOffice, command-line overrides, parameters_used.toml, and the
// message of every kind of mistake.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "fibseg/config/load.hpp"
#include "fibseg/config/template.hpp"
#include "fibseg/core/error.hpp"
#include "test_specs.hpp"
#include "xlsx_edit.hpp"
#include "test_helpers.hpp"

namespace fibseg::config {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using namespace testing;

using fibseg::test::errorOf;

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("template lacks " + from);
  return text.replace(at, from.size(), to);
}



// ---- TOML ----

TEST(TomlFile, TemplateListsEveryParameterWithItsDescription) {
  const std::string text = tomlTemplate(testSpecs());
  for (const auto& spec : testSpecs()) {
    EXPECT_THAT(text, HasSubstr(spec.description)) << spec.name();
    EXPECT_THAT(text, HasSubstr("[" + spec.section + "]"));
  }
  EXPECT_THAT(text, HasSubstr("max_shift = 40\n"));
  EXPECT_THAT(text, HasSubstr("pixel_size_nm = 0.0\n"));
  EXPECT_THAT(text, HasSubstr("grey_levels = [0.0, 128.0, 255.0]\n"));
  EXPECT_THAT(text, HasSubstr("method = \"otsu\"\n"));
  EXPECT_THAT(text, HasSubstr("# Unit: px. Allowed: an integer from 1 to 500.\n"));
  EXPECT_THAT(text, HasSubstr("# Allowed: one of: otsu, classifier.\n"));
}

TEST(TomlFile, RoundTripTemplateFillLoad) {
  TempFolder folder;
  const fs::path file = folder / "params.toml";
  writeParameterTemplate(file, false, testSpecs());

  // As written, the required values are empty: the error says which and where.
  const std::string blank = readFile(file);
  EXPECT_THAT(errorOf([&] { load(file); }),
              AllOf(HasSubstr("2 required parameters have no value: 'input.path' has no value at " + file.string() + ":" +
                              std::to_string(lineOf(blank, "path = \"\""))),
                    HasSubstr("'output.folder' has no value at "), HasSubstr("expected a file or folder path")));

  std::string filled = replaced(blank, "path = \"\"", "path = \"slices/run 1\"");
  filled = replaced(filled, "folder = \"\"", "folder = \"/results/run1\"");
  filled = replaced(filled, "max_shift = 40", "max_shift = 55");
  filled = replaced(filled, "enabled = true", "enabled = false");
  filled = replaced(filled, "method = \"otsu\"", "method = \"Classifier\"");
  filled = replaced(filled, "grey_levels = [0.0, 128.0, 255.0]", "grey_levels = [0, 100.5, 200]");
  filled = replaced(filled, "pixel_size_nm = 0.0", "pixel_size_nm = 2");  // an integer for a number
  writeText(file, filled);

  const ParamSet p = load(file);
  EXPECT_EQ(p.text("input.path"), (folder.path() / "slices/run 1").string());  // from the file's folder
  EXPECT_EQ(p.text("output.folder"), "/results/run1");
  EXPECT_EQ(p.integer("align.max_shift"), 55);
  EXPECT_FALSE(p.boolean("align.enabled"));
  EXPECT_EQ(p.text("segment.method"), "classifier");
  EXPECT_EQ(p.realList("segment.grey_levels"), (std::vector<double>{0, 100.5, 200}));
  EXPECT_EQ(p.real("input.pixel_size_nm"), 2.0);
  EXPECT_EQ(p.real("input.slice_thickness_nm"), 0.0);
  EXPECT_EQ(p.text("segment.note"), "none");
  EXPECT_EQ(p.resolved("align.max_shift").origin, file.string() + ":" + std::to_string(lineOf(filled, "max_shift = 55")));
  EXPECT_EQ(p.resolved("segment.note").origin, file.string() + ":" + std::to_string(lineOf(filled, "note = ")));
}

TEST(TomlFile, ResolvedParametersRecordOriginsAndLoadAgain) {
  TempFolder folder;
  const fs::path file = folder / "p.toml";
  writeText(file, "[input]\npath = \"slices\"\n\n[align]\nmax_shift = 7\n");
  const ParamSet p = load(file, {"output.folder=/out", "input.pixel_size_nm=0.1234567891"});
  const std::string used = formatResolvedParameters(p);
  EXPECT_THAT(used, HasSubstr("path = \"" + (folder.path() / "slices").string() + "\"  # " + file.string() + ":2\n"));
  EXPECT_THAT(used, HasSubstr("max_shift = 7  # " + file.string() + ":5\n"));
  EXPECT_THAT(used, HasSubstr("folder = \"/out\"  # command line\n"));
  EXPECT_THAT(used, HasSubstr("pixel_size_nm = 0.1234567891  # command line\n"));
  EXPECT_THAT(used, HasSubstr("slice_thickness_nm = 0.0  # default\n"));
  EXPECT_THAT(used, HasSubstr("grey_levels = [0.0, 128.0, 255.0]  # default\n"));

  const fs::path again = folder / "parameters_used.toml";
  writeText(again, used);
  const ParamSet q = load(again);
  for (const auto& spec : testSpecs()) EXPECT_EQ(q.resolved(spec.name()).value, p.resolved(spec.name()).value) << spec.name();

  EXPECT_THAT(formatResolvedParameters(ParamSet::defaults(testSpecs())), HasSubstr("# path = (required, not given)\n"));
}

TEST(TomlFile, Mistakes) {
  TempFolder folder;
  const fs::path file = folder / "p.toml";
  const std::string f = file.string();
  auto errorFor = [&](const std::string& text) {
    writeText(file, text);
    return errorOf([&] { load(file, kRequired); });
  };
  EXPECT_EQ(errorFor("[align]\nmax_shfit = 3\n"),
            "unknown parameter 'align.max_shfit' at " + f + ":2; did you mean 'align.max_shift'?");
  EXPECT_EQ(errorFor("max_shift = 3\n"), "unknown parameter 'max_shift' at " + f + ":1; did you mean 'align.max_shift'?");
  EXPECT_THAT(errorFor("[algn]\nmax_shift = 3\n"), HasSubstr("did you mean 'align.max_shift'?"));
  EXPECT_THAT(errorFor("[extras]\n"), HasSubstr("unknown section [extras] at " + f + ":1"));
  EXPECT_EQ(errorFor("[align]\nmax_shift = \"forty\"\n"),
            "parameter 'align.max_shift' at " + f + ":2: expected an integer from 1 to 500 (px), got the text "
            "\"forty\" (numbers and true/false are written without quotes)");
  EXPECT_THAT(errorFor("[segment]\nmethod = 3\n"),
              HasSubstr("at " + f + ":2: expected one of: otsu, classifier, got the integer 3 (text is written in quotes)"));
  EXPECT_THAT(errorFor("[align]\nenabled = \"yes\"\n"), HasSubstr("expected true or false, got the text \"yes\""));
  EXPECT_THAT(errorFor("[segment]\ngrey_levels = [1, \"a\"]\n"), HasSubstr("expected a comma-separated list of numbers"));
  EXPECT_EQ(errorFor("[align]\nmax_shift = 0\n"),
            "parameter 'align.max_shift' at " + f + ":2: expected an integer from 1 to 500 (px), got '0' (out of range)");
  EXPECT_THAT(errorFor("[align]\nmax_shift = 40.5\n"), HasSubstr("got '40.5'"));
  EXPECT_THAT(errorFor("[segment]\nmethod = \"kmeans\"\n"), HasSubstr("expected one of: otsu, classifier, got 'kmeans'"));
  // Given twice: TOML itself forbids it; the message keeps the line.
  EXPECT_THAT(errorFor("[align]\nmax_shift = 3\nmax_shift = 4\n"), AllOf(HasSubstr(f + ":3:"), HasSubstr("only once")));
  EXPECT_THAT(errorFor("[align]\nmax_shift = 3\n[align]\nenabled = true\n"), HasSubstr(f + ":3:"));
  EXPECT_THAT(errorFor("[segment]\nmethod = otsu\n"), AllOf(HasSubstr(f + ":2:"), HasSubstr("text in quotes")));

  writeText(file, "[align]\nmax_shift = 3\n");
  EXPECT_EQ(errorOf([&] { load(file, {"output.folder=/out"}); }),
            "required parameter 'input.path' is not given in " + f +
                ": expected a file or folder path (Folder of slice images.)");
}

// ---- command line and files ----

TEST(Overrides, ComeLastAndResolvePathsFromTheCurrentFolder) {
  TempFolder folder;
  const fs::path file = folder / "p.toml";
  writeText(file, "[align]\nmax_shift = 3\n");
  const ParamSet p = load(file, {"input.path=slices", "output.folder=\"/my out\"", "align.max_shift=12",
                                 "segment.note=a=b", "segment.grey_levels=[0, 128.5, 255]"});
  EXPECT_EQ(p.text("output.folder"), "/my out");
  EXPECT_EQ(p.realList("segment.grey_levels"), (std::vector<double>{0, 128.5, 255}));
  EXPECT_EQ(p.integer("align.max_shift"), 12);
  EXPECT_EQ(p.resolved("align.max_shift").origin, "command line");
  EXPECT_EQ(p.text("input.path"), (fs::current_path() / "slices").string());
  EXPECT_EQ(p.text("segment.note"), "a=b");

  const ParamSet noFile = load("", kRequired);
  EXPECT_EQ(noFile.text("input.path"), "/data/slices");
  EXPECT_EQ(noFile.integer("align.max_shift"), 40);
}

TEST(Overrides, RequiredValuesMayBeLeftMissingOnRequest) {
  // `fibseg train` needs no input/output folders: they stay unset and only reading them fails.
  const ParamSet p = loadParameters("", {"align.max_shift=9"}, testSpecs(), RequiredValues::MayBeMissing);
  EXPECT_EQ(p.integer("align.max_shift"), 9);
  EXPECT_FALSE(p.resolved("input.path").isSet);
  EXPECT_THAT(errorOf([&] { p.text("input.path"); }), HasSubstr("required parameter not given: 'input.path'"));
}

TEST(Overrides, Mistakes) {
  EXPECT_THAT(errorOf([] { load("", {"align.max_shift"}); }), HasSubstr("--set 'align.max_shift': expected name=value"));
  EXPECT_EQ(errorOf([] { load("", {"align.maxshift=3"}); }),
            "unknown parameter 'align.maxshift' at command line (--set align.maxshift=3); did you mean "
            "'align.max_shift'?");
  EXPECT_EQ(errorOf([] { load("", {"align.max_shift=abc"}); }),
            "parameter 'align.max_shift' at command line: expected an integer from 1 to 500 (px), got 'abc'");
  EXPECT_EQ(errorOf([] { load("", {"output.folder=/o"}); }),
            "required parameter 'input.path' is not given: expected a file or folder path (Folder of slice "
            "images.); give it with --set NAME=VALUE");
  EXPECT_THAT(errorOf([] { load("", {"input.path=", "output.folder=/o"}); }),
              HasSubstr("required parameter 'input.path' at command line (--set input.path=): expected a file or folder path, got nothing"));
}

TEST(ParameterFiles, MissingOrOfUnknownKind) {
  TempFolder folder;
  EXPECT_THAT(errorOf([&] { load(folder / "nope.toml"); }),
              AllOf(HasSubstr("does not exist"), HasSubstr("fibseg init")));
  writeText(folder / "p.ini", "x");
  EXPECT_THAT(errorOf([&] { load(folder / "p.ini"); }), HasSubstr("expected an Excel workbook (.xlsx) or a TOML file (.toml), got '.ini'"));
}

TEST(Templates, RefuseToOverwriteUnlessForced) {
  TempFolder folder;
  for (const std::string name : {"p.toml", "p.xlsx"}) {
    const fs::path file = folder / name;
    writeText(file, "mine");
    EXPECT_THAT(errorOf([&] { writeParameterTemplate(file, false, testSpecs()); }),
                HasSubstr("exists already; choose another name or use --force"));
    EXPECT_EQ(readFile(file), "mine");
    writeParameterTemplate(file, true, testSpecs());
    EXPECT_NE(readFile(file), "mine");
  }
  EXPECT_THAT(errorOf([&] { writeParameterTemplate(folder / "p.csv", false, testSpecs()); }),
              HasSubstr("expected a name ending in .xlsx (Excel) or .toml (text)"));
  // Every stage's registered parameters make templates that load back at their defaults (once
  // the required values are given).
  std::vector<std::string> required;
  for (const auto& spec : allParameters())
    if (spec.required) required.push_back(spec.name() + "=/x");
  const ParamSet defaults = ParamSet::defaults();
  for (const std::string name : {"all.toml", "all.xlsx"}) {
    writeParameterTemplate(folder / name, false);
    const ParamSet p = loadParameters(folder / name, required);
    for (const auto& spec : allParameters()) {
      if (spec.required) continue;
      EXPECT_EQ(p.resolved(spec.name()).value, defaults.resolved(spec.name()).value) << name << " " << spec.name();
      // An empty value (an optional path) keeps the default; everything else is read from the file.
      EXPECT_THAT(p.resolved(spec.name()).origin, HasSubstr(spec.defaultValue.empty() ? "default" : name))
          << spec.name();
    }
  }
}

}  // namespace
}  // namespace fibseg::config
