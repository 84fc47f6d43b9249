// Excel parameter files: the `fibseg init` template read back, filled in and loaded; a workbook
// written by LibreOffice (tests/data/config_libreoffice.xlsx); and every kind of mistake.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "fibseg/config/load.hpp"
#include "fibseg/config/template.hpp"
#include "fibseg/config/xlsx_sheet.hpp"
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

const fs::path kLibreOfficeFile = fs::path(FIBSEG_TEST_DATA) / "config_libreoffice.xlsx";

using fibseg::test::errorOf;


const XlsxCell* cellAt(const XlsxSheet& sheet, int row, int column) {
  for (const auto& cell : sheet.cells)
    if (cell.row == row && cell.column == column) return &cell;
  return nullptr;
}

TEST(XlsxSheet, ColumnLetters) {
  EXPECT_EQ(columnLetters(1), "A");
  EXPECT_EQ(columnLetters(26), "Z");
  EXPECT_EQ(columnLetters(28), "AB");
  EXPECT_EQ(columnLetters(703), "AAA");
}

TEST(XlsxTemplate, HasEveryParameterGroupedByStage) {
  TempFolder folder;
  const fs::path file = folder / "params.xlsx";
  writeParameterTemplate(file, false, testSpecs());
  const XlsxSheet sheet = readXlsxSheet(file, "inputs");  // sheet names compare ignoring case
  EXPECT_EQ(sheet.name, "Inputs");
  const char* headers[] = {"Parameter", "Value", "Default", "Unit", "Description"};
  for (int c = 1; c <= 5; ++c) {
    ASSERT_NE(cellAt(sheet, 1, c), nullptr);
    EXPECT_EQ(cellAt(sheet, 1, c)->text, headers[c - 1]);
  }
  // Row 2 is the heading of the first stage, then its parameters.
  EXPECT_EQ(cellAt(sheet, 2, 1)->text, "Input: the slice images");
  EXPECT_EQ(cellAt(sheet, 3, 1)->text, "input.path");
  EXPECT_EQ(cellAt(sheet, 3, 2), nullptr);  // required: left empty
  EXPECT_EQ(cellAt(sheet, 3, 3)->text, "(required)");

  const int maxShift = rowOf(file, "align.max_shift");
  EXPECT_EQ(cellAt(sheet, maxShift - 1, 1)->text, "Alignment: data bar, cropping, slice-to-slice registration");
  EXPECT_EQ(cellAt(sheet, maxShift, 2)->kind, XlsxCell::Kind::Number);
  EXPECT_EQ(cellAt(sheet, maxShift, 2)->text, "40");
  EXPECT_EQ(cellAt(sheet, maxShift, 3)->text, "40");
  EXPECT_EQ(cellAt(sheet, maxShift, 4)->text, "px");
  EXPECT_THAT(cellAt(sheet, maxShift, 5)->text,
              AllOf(HasSubstr("Largest shift between two slices."), HasSubstr("Allowed: an integer from 1 to 500.")));
  const int enabled = rowOf(file, "align.enabled");
  EXPECT_EQ(cellAt(sheet, enabled, 2)->kind, XlsxCell::Kind::Boolean);
  EXPECT_EQ(cellAt(sheet, enabled, 2)->text, "true");
  EXPECT_EQ(cellAt(sheet, rowOf(file, "segment.grey_levels"), 2)->text, "0, 128, 255");
  EXPECT_EQ(cellAt(sheet, rowOf(file, "segment.method"), 2)->text, "otsu");

  const XlsxSheet help = readXlsxSheet(file, "Help");  // instructions on a sheet of their own
  ASSERT_FALSE(help.cells.empty());
  EXPECT_EQ(help.cells[0].text, "How to use this parameter file");

  std::size_t parameterRows = 0;
  for (const auto& cell : sheet.cells) parameterRows += cell.column == 1 && findParameter(testSpecs(), cell.text);
  EXPECT_EQ(parameterRows, testSpecs().size());

  // Unfilled, every value is the default (read from the file) and the required ones are named.
  EXPECT_THAT(errorOf([&] { load(file); }),
              AllOf(HasSubstr("'input.path' has no value at " + file.string() + " Inputs!B3"),
                    HasSubstr("'output.folder' has no value at " + file.string() + " Inputs!B" +
                              std::to_string(rowOf(file, "output.folder")))));
  const ParamSet p = load(file, kRequired);
  const ParamSet defaults = ParamSet::defaults(testSpecs());
  for (const auto& spec : testSpecs()) {
    if (spec.required) continue;
    EXPECT_EQ(p.resolved(spec.name()).value, defaults.resolved(spec.name()).value) << spec.name();
    EXPECT_EQ(p.resolved(spec.name()).origin, file.string() + " Inputs!B" + std::to_string(rowOf(file, spec.name())));
  }
}

TEST(XlsxTemplate, RoundTripTemplateFillLoad) {
  TempFolder folder;
  const fs::path file = folder / "params.xlsx";
  writeParameterTemplate(file, false, testSpecs());
  auto B = [&](const std::string& name) { return std::string("B").append(std::to_string(rowOf(file, name))); };
  const std::string thickness = B("input.slice_thickness_nm");
  editCells(file, {
                      // rich text: two runs, one bold, read as one string
                      {B("input.path"), {"inlineStr", "<is><r><t>sli</t></r><r><rPr><b/></rPr><t>ces</t></r></is>"}},
                      {B("output.folder"), inlineText("/results/run 1")},
                      {B("align.max_shift"), number("55")},
                      {B("align.enabled"), boolean(false)},
                      {B("segment.method"), inlineText("Classifier")},
                      {B("segment.grey_levels"), number("7")},  // one number is a list of one
                      {B("input.pixel_size_nm"), number("0.10000000000000001")},  // as Excel stores 0.1
                      {thickness, emptyCell()},
                      {B("segment.note"), {"str", "<f>\"a\"&amp;\"b\"</f><v>ab</v>"}},  // a text formula
                  });
  const ParamSet p = load(file);
  EXPECT_EQ(p.text("input.path"), (folder.path() / "slices").string());
  EXPECT_EQ(p.text("output.folder"), "/results/run 1");
  EXPECT_EQ(p.integer("align.max_shift"), 55);
  EXPECT_FALSE(p.boolean("align.enabled"));
  EXPECT_EQ(p.text("segment.method"), "classifier");
  EXPECT_EQ(p.realList("segment.grey_levels"), std::vector<double>{7});
  EXPECT_EQ(p.real("input.pixel_size_nm"), 0.1);
  EXPECT_EQ(p.real("input.slice_thickness_nm"), 0.0);
  EXPECT_EQ(p.resolved("input.slice_thickness_nm").origin, "default");  // empty Value = default
  EXPECT_EQ(p.text("segment.note"), "ab");
  EXPECT_EQ(p.resolved("align.max_shift").origin, file.string() + " Inputs!" + B("align.max_shift"));

  // parameters_used.toml from an Excel run loads as TOML with the same values.
  const fs::path used = folder / "parameters_used.toml";
  writeText(used, formatResolvedParameters(p));
  const ParamSet q = load(used);
  for (const auto& spec : testSpecs()) EXPECT_EQ(q.resolved(spec.name()).value, p.resolved(spec.name()).value) << spec.name();
}

TEST(XlsxSheet, RichTextPhoneticHintsAndEscapes) {
  TempFolder folder;
  const fs::path file = folder / "p.xlsx";
  writeParameterTemplate(file, false, testSpecs());
  // The shared string "otsu" (segment.method's value) becomes rich text in two runs, with a
  // phonetic hint that is not part of the value.
  editPart(file, "xl/sharedStrings.xml", [](std::string xml) {
    const std::string plain = "<si><t>otsu</t></si>";
    const auto at = xml.find(plain);
    if (at == std::string::npos) throw std::runtime_error("template has no shared string otsu");
    return xml.replace(at, plain.size(),
                       "<si><r><t>clas</t></r><r><rPr><i/></rPr><t>sifier</t></r><rPh sb=\"0\" eb=\"1\"><t>x</t></rPh></si>");
  });
  editCells(file, {{"B" + std::to_string(rowOf(file, "segment.note")), inlineText("line_x000A_two")}});
  const ParamSet p = load(file, kRequired);
  EXPECT_EQ(p.text("segment.method"), "classifier");
  EXPECT_EQ(p.text("segment.note"), "line\ntwo");  // Excel's _xHHHH_ escape for characters XML cannot hold
}

TEST(XlsxSheet, PrefixedElementsAndCellsWithoutReferences) {
  // Some writers (e.g. the .NET Open XML SDK) prefix every element, and references are optional.
  TempFolder folder;
  const fs::path file = folder / "p.xlsx";
  writeParameterTemplate(file, false, testSpecs());
  editPart(file, "xl/worksheets/sheet1.xml", [](const std::string&) {
    return std::string(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
        "<x:worksheet xmlns:x=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><x:sheetData>"
        "<x:row><x:c t=\"inlineStr\"><x:is><x:t>Parameter</x:t></x:is></x:c>"
        "<x:c t=\"inlineStr\"><x:is><x:t>Value</x:t></x:is></x:c></x:row>"
        "<x:row><x:c t=\"inlineStr\"><x:is><x:t>align.max_shift</x:t></x:is></x:c><x:c><x:v>12</x:v></x:c></x:row>"
        "<x:row r=\"5\"><x:c r=\"A5\" t=\"inlineStr\"><x:is><x:t>align.enabled</x:t></x:is></x:c>"
        "<x:c t=\"b\"><x:v>0</x:v></x:c></x:row>"
        "</x:sheetData></x:worksheet>");
  });
  const ParamSet p = load(file, kRequired);
  EXPECT_EQ(p.integer("align.max_shift"), 12);
  EXPECT_EQ(p.resolved("align.max_shift").origin, file.string() + " Inputs!B2");
  EXPECT_FALSE(p.boolean("align.enabled"));
  EXPECT_EQ(p.resolved("align.enabled").origin, file.string() + " Inputs!B5");
}

TEST(XlsxSheet, ReferencesOutsideTheSheetAreRefusedAndTheLastCellIsRead) {
  // Seen reading the reader, then confirmed by xlsx_fuzz under UBSan (the inputs are in
  // fuzz/regression/xlsx/): a long column or row in a reference, or a row r = 2147483647 followed
  // by a row without one, overflowed int. Excel's limits are XFD1048576; a reference beyond them
  // is refused naming it, and the last cell itself is read.
  TempFolder folder;
  const fs::path file = folder / "p.xlsx";
  auto sheetWith = [&](const std::string& rows) {
    fs::remove(file);
    writeParameterTemplate(file, false, testSpecs());
    editPart(file, "xl/worksheets/sheet1.xml", [&](const std::string&) {
      return "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>" + rows +
             "</sheetData></worksheet>";
    });
    return file;
  };
  const std::string x = "<is><t>x</t></is>";
  const std::string where = "Excel file " + file.string() + ", sheet Inputs: ";
  EXPECT_EQ(errorOf([&] { readXlsxSheet(sheetWith("<row r=\"1\"><c r=\"AAAAAAAAAAAAAAAA1\" t=\"inlineStr\">" + x + "</c></row>"), "Inputs"); }),
            where + "bad cell reference 'AAAAAAAAAAAAAAAA1' (expected a column and a row, columns A to XFD, rows 1 to 1048576)");
  EXPECT_THAT(errorOf([&] { readXlsxSheet(sheetWith("<row r=\"1\"><c r=\"XFE1\" t=\"inlineStr\">" + x + "</c></row>"), "Inputs"); }),
              HasSubstr("bad cell reference 'XFE1'"));
  EXPECT_THAT(errorOf([&] { readXlsxSheet(sheetWith("<row r=\"1\"><c r=\"A99999999999\" t=\"inlineStr\">" + x + "</c></row>"), "Inputs"); }),
              HasSubstr("bad cell reference 'A99999999999'"));
  EXPECT_EQ(errorOf([&] { readXlsxSheet(sheetWith("<row r=\"2147483647\"><c t=\"inlineStr\">" + x + "</c></row><row/>"), "Inputs"); }),
            where + "row number '2147483647' is outside the sheet (columns A to XFD, rows 1 to 1048576)");
  EXPECT_EQ(errorOf([&] { readXlsxSheet(sheetWith("<row r=\"1048576\"><c><v>1</v></c></row><row/>"), "Inputs"); }),
            where + "row number 1048577 is outside the sheet (columns A to XFD, rows 1 to 1048576)");

  const XlsxSheet last = readXlsxSheet(sheetWith("<row r=\"1048576\"><c r=\"XFD1048576\"><v>7</v></c></row>"), "Inputs");
  ASSERT_EQ(last.cells.size(), 1u);
  EXPECT_EQ(last.cells[0].row, 1048576);
  EXPECT_EQ(last.cells[0].column, 16384);
  EXPECT_EQ(last.cells[0].reference(), "XFD1048576");
}

TEST(XlsxFromLibreOffice, CellsReadAsWritten) {
  // Made by LibreOffice Calc from a CSV (see tests/data/README.md): shared strings, a formula
  // with its cached result, a boolean, numbers, an empty Value cell, heading rows.
  const XlsxSheet sheet = readXlsxSheet(kLibreOfficeFile, "Inputs");
  ASSERT_NE(cellAt(sheet, 7, 2), nullptr);
  EXPECT_EQ(cellAt(sheet, 7, 2)->kind, XlsxCell::Kind::Number);  // =20*2
  EXPECT_EQ(cellAt(sheet, 7, 2)->text, "40");
  EXPECT_EQ(cellAt(sheet, 8, 2)->kind, XlsxCell::Kind::Boolean);
  EXPECT_EQ(cellAt(sheet, 8, 2)->text, "false");
  EXPECT_EQ(cellAt(sheet, 4, 2)->text, "2.5");
  EXPECT_EQ(cellAt(sheet, 5, 2), nullptr);
  EXPECT_EQ(cellAt(sheet, 12, 2)->text, "\xC3\x9Cn\xC3\xAF" "code & <xml> \"quotes\"");
}

TEST(XlsxFromLibreOffice, LoadsEveryValue) {
  const ParamSet p = load(kLibreOfficeFile);
  const std::string at = kLibreOfficeFile.string() + " Inputs!";
  EXPECT_EQ(p.text("input.path"), (fs::path(FIBSEG_TEST_DATA) / "slices/run 1").lexically_normal().string());
  EXPECT_EQ(p.resolved("input.path").origin, at + "B3");
  EXPECT_EQ(p.real("input.pixel_size_nm"), 2.5);
  EXPECT_EQ(p.real("input.slice_thickness_nm"), 0.0);
  EXPECT_EQ(p.resolved("input.slice_thickness_nm").origin, "default");
  EXPECT_EQ(p.integer("align.max_shift"), 40);
  EXPECT_EQ(p.resolved("align.max_shift").origin, at + "B7");
  EXPECT_FALSE(p.boolean("align.enabled"));
  EXPECT_EQ(p.text("segment.method"), "classifier");
  EXPECT_EQ(p.realList("segment.grey_levels"), (std::vector<double>{0, 100, 200}));
  EXPECT_EQ(p.text("segment.note"), "\xC3\x9Cn\xC3\xAF" "code & <xml> \"quotes\"");
  EXPECT_EQ(p.text("output.folder"), "/tmp/fibseg out");
}

TEST(XlsxFile, Mistakes) {
  TempFolder folder;
  const fs::path file = folder / "p.xlsx";
  writeParameterTemplate(file, false, testSpecs());
  const int maxShift = rowOf(file, "align.max_shift");
  const std::string at = file.string() + " Inputs!";
  const std::string B = "B" + std::to_string(maxShift);
  auto errorWith = [&](const std::map<std::string, CellContent>& edits) {
    const fs::path copy = folder / "copy.xlsx";
    fs::copy_file(file, copy, fs::copy_options::overwrite_existing);
    editCells(copy, edits);
    return errorOf([&] { load(copy, kRequired); });
  };
  const std::string copyAt = (folder / "copy.xlsx").string() + " Inputs!";

  EXPECT_EQ(errorWith({{"A" + std::to_string(maxShift), inlineText("align.max_shfit")}}),
            "unknown parameter 'align.max_shfit' at " + copyAt + "A" + std::to_string(maxShift) +
                "; did you mean 'align.max_shift'?");
  EXPECT_THAT(errorWith({{"A" + std::to_string(maxShift), inlineText("max_shift")}}),
              HasSubstr("unknown parameter 'max_shift' at " + copyAt + "A" + std::to_string(maxShift) +
                        "; did you mean 'align.max_shift'?"));
  EXPECT_EQ(errorWith({{B, inlineText("forty")}}),
            "parameter 'align.max_shift' at " + copyAt + B + ": expected an integer from 1 to 500 (px), got 'forty'");
  EXPECT_EQ(errorWith({{B, number("501")}}),
            "parameter 'align.max_shift' at " + copyAt + B +
                ": expected an integer from 1 to 500 (px), got '501' (out of range)");
  EXPECT_THAT(errorWith({{"B" + std::to_string(rowOf(file, "align.enabled")), number("2")}}),
              HasSubstr("expected true or false, got '2'"));
  EXPECT_THAT(errorWith({{B, {"e", "<f>1/0</f><v>#DIV/0!</v>"}}}),
              HasSubstr("at " + copyAt + B + ": the cell holds the spreadsheet error #DIV/0!; expected an integer"));
  EXPECT_THAT(errorWith({{B, {"", "<f>20*2</f>"}}}),
              HasSubstr("at " + copyAt + B + ": the cell holds a formula whose result was never saved"));
  // The same parameter on two rows.
  const int note = rowOf(file, "segment.note");
  EXPECT_EQ(errorWith({{"A" + std::to_string(note), inlineText("align.max_shift")}}),
            "parameter 'align.max_shift' is given twice: at " + copyAt + B + " and at " + copyAt + "B" +
                std::to_string(note) + " (keep one)");
  // A required value left empty is named with its cell even when given nowhere else.
  EXPECT_EQ(errorOf([&] { load(file, {"output.folder=/o"}); }),
            "required parameter 'input.path' has no value at " + at +
                "B3: expected a file or folder path (Folder of slice images.)");
  // Not what the loader needs.
  EXPECT_THAT(errorWith({{"A1", inlineText("Name")}}),
              HasSubstr("has no header row with the columns 'Parameter' and 'Value'"));
}

TEST(XlsxFile, HeadingsAndNotesAreSkippedButNotValuesWithoutAName) {
  TempFolder folder;
  const fs::path file = folder / "p.xlsx";
  writeParameterTemplate(file, false, testSpecs());
  editCells(file, {{"A50", inlineText("Step 2. Alignment")},
                   {"A51", inlineText("Notes")},
                   {"C51", inlineText("sizes are in nm")},
                   {"B52", inlineText("a value with no parameter name is ignored like a note")}});
  EXPECT_EQ(load(file, kRequired).integer("align.max_shift"), 40);
  editCells(file, {{"B50", number("3")}});
  EXPECT_THAT(errorOf([&] { load(file, kRequired); }),
              HasSubstr("unknown parameter 'Step 2. Alignment' at " + file.string() + " Inputs!A50"));
}

TEST(XlsxFile, NotAWorkbookOrNoInputsSheet) {
  TempFolder folder;
  const fs::path notZip = folder / "p.xlsx";
  writeText(notZip, "Parameter,Value\n");
  EXPECT_THAT(errorOf([&] { load(notZip); }),
              AllOf(HasSubstr("cannot read Excel file " + notZip.string()), HasSubstr("zip archive")));
  EXPECT_THAT(errorOf([&] { readXlsxSheet(kLibreOfficeFile, "Parameters"); }),
              HasSubstr("has no sheet named \"Parameters\" (sheets: \"Inputs\")"));
}

}  // namespace
}  // namespace fibseg::config
