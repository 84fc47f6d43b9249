// Excel parameter workbooks: the sheet reader and the parameter loader on top of it, in both
// sheet layouts it accepts (fibseg's "Inputs" and the original notebook's "FiB-SEM segmentation").
//
// Two kinds of input. One starting with "PK" is a whole .xlsx file (the zip container and every
// part). Any other is the inside of a workbook: its first byte picks the sheet's name (even:
// "Inputs", odd: "FiB-SEM segmentation"), the rest up to the first NUL byte is the worksheet XML
// and what follows is the shared-strings XML. The target packs those into a stored (uncompressed)
// workbook, because a mutated zip almost always fails its CRC check before any XML is read, and
// so the layouts' own readers would otherwise see almost nothing but the seeds.
#include <zip.h>

#include <string>

#include "fibseg/config/load.hpp"
#include "fibseg/config/notebook_sheet.hpp"
#include "fibseg/config/xlsx_sheet.hpp"
#include "fuzz_input.hpp"

namespace {

const char* const kPackageRels =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/"
    "package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/"
    "officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>";
/// The shared-strings part is listed only when there is one: an empty part is not XML, and the
/// reader reads it before the sheet, so listing it always would hide every sheet from the fuzzer.
std::string workbookRels(bool withSharedStrings) {
  return std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/"
                     "package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/"
                     "officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>") +
         (withSharedStrings ? "<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
                              "relationships/sharedStrings\" Target=\"sharedStrings.xml\"/>"
                            : "") +
         "</Relationships>";
}

std::string workbookXml(const std::string& sheetName) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><workbook xmlns=\"http://schemas.openxmlformats.org/"
         "spreadsheetml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/"
         "relationships\"><sheets><sheet name=\"" + sheetName + "\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";
}

/// Writes a workbook of the given parts to `file` (stored, so the XML is what the reader sees).
void writeWorkbook(const std::filesystem::path& file, const std::string& sheetName, const std::string& sheetXml,
                   const std::string& sharedStringsXml) {
  int error = 0;
  zip_t* zip = zip_open(file.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  if (!zip) __builtin_trap();  // the harness's own failure, not the reader's
  const std::string workbook = workbookXml(sheetName);
  const std::string packageRels = kPackageRels, rels = workbookRels(!sharedStringsXml.empty());
  const std::pair<const char*, const std::string*> parts[] = {
      {"_rels/.rels", &packageRels}, {"xl/workbook.xml", &workbook}, {"xl/_rels/workbook.xml.rels", &rels},
      {"xl/worksheets/sheet1.xml", &sheetXml}, {"xl/sharedStrings.xml", &sharedStringsXml}};
  auto add = [&](const char* name, const std::string& text) {
    zip_source_t* source = zip_source_buffer(zip, text.data(), text.size(), 0);
    const zip_int64_t index = zip_file_add(zip, name, source, ZIP_FL_OVERWRITE);
    if (index < 0) __builtin_trap();
    zip_set_file_compression(zip, zip_uint64_t(index), ZIP_CM_STORE, 0);
  };
  for (const auto& [name, text] : parts)
    if (!text->empty()) add(name, *text);
  if (zip_close(zip) != 0) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fibseg;
  std::filesystem::path file;
  if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
    file = fuzz::inputFile(data, size, ".xlsx");
  } else {
    if (size == 0) return 0;
    const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    const auto nul = rest.find('\0');
    const std::string sheetXml = rest.substr(0, nul);
    const std::string sharedStrings = nul == std::string::npos ? "" : rest.substr(nul + 1);
    file = fuzz::inputFile(nullptr, 0, ".xlsx");
    writeWorkbook(file, data[0] % 2 ? config::kNotebookSheetName : "Inputs", sheetXml, sharedStrings);
  }
  fuzz::expectingErrors([&] { config::readXlsxSheet(file, "Inputs"); });
  fuzz::expectingErrors([&] { config::loadParameters(file, {}, config::RequiredValues::MayBeMissing); });
  return 0;
}
