#pragma once
// Edits cells of an .xlsx in place, as a user filling in the template would, so tests can go
// template -> fill -> load. Written cells use inline strings (the template itself uses shared
// strings), so both kinds of string cell are read in every round trip.
#include <zip.h>

#include <map>
#include <sstream>
#include <pugixml.hpp>
#include <stdexcept>
#include <string>

#include "fibseg/config/xlsx_sheet.hpp"

namespace fibseg::config::testing {

struct CellContent {
  std::string type;   // the cell's t attribute: "inlineStr", "b", "n", "e", "str", "" (none)
  std::string inner;  // the XML inside <c>: "<is><t>x</t></is>", "<v>55</v>", "<f>1+1</f>"
};

inline CellContent inlineText(const std::string& text) {
  pugi::xml_document doc;
  doc.append_child("t").text().set(text.c_str());
  std::ostringstream out;
  doc.first_child().print(out, "", pugi::format_raw);
  return {"inlineStr", "<is>" + out.str() + "</is>"};
}
inline CellContent number(const std::string& v) { return {"n", "<v>" + v + "</v>"}; }
inline CellContent boolean(bool v) { return {"b", std::string("<v>") + (v ? "1" : "0") + "</v>"}; }
inline CellContent emptyCell() { return {"", ""}; }

/// The row whose column A holds `text` in sheet Inputs (throws if there is none).
inline int rowOf(const std::filesystem::path& file, const std::string& text) {
  for (const auto& cell : readXlsxSheet(file, "Inputs").cells)
    if (cell.column == 1 && cell.text == text) return cell.row;
  throw std::runtime_error("no row " + text);
}

/// Replaces the text of one part of the zip (e.g. "xl/sharedStrings.xml") by edit(text).
template <typename Edit>
void editPart(const std::filesystem::path& file, const char* part, Edit edit) {
  int error = 0;
  zip_t* zip = zip_open(file.c_str(), 0, &error);
  if (!zip) throw std::runtime_error("cannot open " + file.string());
  zip_stat_t stat;
  zip_stat_init(&stat);
  if (zip_stat(zip, part, 0, &stat) != 0) throw std::runtime_error(std::string("no part ") + part);
  std::string xml(stat.size, '\0');
  zip_file_t* entry = zip_fopen(zip, part, 0);
  zip_fread(entry, xml.data(), stat.size);
  zip_fclose(entry);
  static thread_local std::string saved;  // must outlive zip_close
  saved = edit(xml);
  zip_source_t* source = zip_source_buffer(zip, saved.data(), saved.size(), 0);
  if (zip_file_add(zip, part, source, ZIP_FL_OVERWRITE) < 0 || zip_close(zip) != 0)
    throw std::runtime_error("cannot write " + file.string());
}

/// Replaces the listed cells ("B5" -> content) of xl/worksheets/sheet1.xml.
inline void editCells(const std::filesystem::path& file, const std::map<std::string, CellContent>& edits) {
  editPart(file, "xl/worksheets/sheet1.xml", [&](const std::string& xml) {
    pugi::xml_document doc;
    doc.load_string(xml.c_str());
    auto sheetData = doc.child("worksheet").child("sheetData");
    for (const auto& [ref, content] : edits) {
      const std::string rowNumber = ref.substr(ref.find_first_of("0123456789"));
      auto row = sheetData.find_child_by_attribute("row", "r", rowNumber.c_str());
      if (!row) {
        row = sheetData.append_child("row");
        row.append_attribute("r") = rowNumber.c_str();
      }
      auto cell = row.find_child_by_attribute("c", "r", ref.c_str());
      if (!cell) {
        cell = row.append_child("c");
        cell.append_attribute("r") = ref.c_str();
      }
      while (cell.first_child()) cell.remove_child(cell.first_child());
      cell.remove_attribute("t");
      if (!content.type.empty()) cell.append_attribute("t") = content.type.c_str();
      if (!content.inner.empty()) cell.append_buffer(content.inner.data(), content.inner.size());
    }
    std::ostringstream out;
    doc.save(out, "", pugi::format_raw);
    return out.str();
  });
}

}  // namespace fibseg::config::testing
