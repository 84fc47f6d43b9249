// An .xlsx file is a zip of XML parts (ECMA-376). The path to one sheet: _rels/.rels names the
// workbook part; the workbook lists sheets by name with a relationship id; the workbook's rels
// map that id to the worksheet part. Strings usually live once in the shared-strings part and
// cells refer to them by index. Element names are matched without their namespace prefix, since
// producers differ ("sheet" from Excel and LibreOffice, "x:sheet" from some .NET writers).
#include "fibseg/config/xlsx_sheet.hpp"

#include <zip.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <pugixml.hpp>

#include "fibseg/core/error.hpp"

namespace fibseg::config {

namespace {

const char* localName(const char* name) {
  const char* colon = std::strrchr(name, ':');
  return colon ? colon + 1 : name;
}

bool is(const pugi::xml_node& node, const char* name) {
  return node.type() == pugi::node_element && std::strcmp(localName(node.name()), name) == 0;
}

pugi::xml_node child(const pugi::xml_node& node, const char* name) {
  for (auto c : node.children())
    if (is(c, name)) return c;
  return {};
}

/// An attribute by local name ("id" finds "r:id" whatever the prefix).
pugi::xml_attribute attribute(const pugi::xml_node& node, const char* name) {
  for (auto a : node.attributes())
    if (std::strcmp(localName(a.name()), name) == 0) return a;
  return {};
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

class Zip {
 public:
  explicit Zip(const std::filesystem::path& file) : file_(file) {
    int error = 0;
    archive_ = zip_open(file.c_str(), ZIP_RDONLY, &error);
    if (!archive_) {
      zip_error_t z;
      zip_error_init_with_code(&z, error);
      const std::string why = zip_error_strerror(&z);
      zip_error_fini(&z);
      throw Error("cannot read Excel file " + file.string() + ": " + why +
                  " (expected an .xlsx workbook, which is a zip archive)");
    }
  }
  ~Zip() { zip_discard(archive_); }
  Zip(const Zip&) = delete;
  Zip& operator=(const Zip&) = delete;

  std::optional<std::string> read(const std::string& name) const {
    zip_stat_t stat;
    zip_stat_init(&stat);
    if (zip_stat(archive_, name.c_str(), 0, &stat) != 0) return std::nullopt;
    zip_file_t* entry = zip_fopen(archive_, name.c_str(), 0);
    if (!entry) throw Error("cannot read part " + name + " of Excel file " + file_.string());
    std::string data;
    char buffer[65536];
    zip_int64_t n = 0;
    while ((n = zip_fread(entry, buffer, sizeof buffer)) > 0) data.append(buffer, std::size_t(n));
    zip_fclose(entry);
    if (n < 0) throw Error("cannot read part " + name + " of Excel file " + file_.string() + " (damaged?)");
    return data;
  }

  pugi::xml_document xml(const std::string& name) const {
    const auto data = read(name);
    if (!data)
      throw Error("Excel file " + file_.string() + " has no part " + name + " (not an .xlsx workbook?)");
    pugi::xml_document doc;
    const auto result = doc.load_buffer(data->data(), data->size());
    if (!result)
      throw Error("Excel file " + file_.string() + ": part " + name + " is not valid XML (" +
                  result.description() + ")");
    return doc;
  }

  bool has(const std::string& name) const {
    zip_stat_t stat;
    zip_stat_init(&stat);
    return zip_stat(archive_, name.c_str(), 0, &stat) == 0;
  }

 private:
  std::filesystem::path file_;
  zip_t* archive_ = nullptr;
};

/// Resolves a relationship target against the folder of the part that owns the rels file.
std::string resolveTarget(const std::string& ownerFolder, const std::string& target) {
  if (!target.empty() && target[0] == '/') return target.substr(1);
  return (std::filesystem::path(ownerFolder) / target).lexically_normal().generic_string();
}

std::string folderOf(const std::string& part) {
  const auto slash = part.rfind('/');
  return slash == std::string::npos ? "" : part.substr(0, slash);
}

std::string relsOf(const std::string& part) {
  const std::string folder = folderOf(part);
  const std::string name = part.substr(folder.empty() ? 0 : folder.size() + 1);
  return (folder.empty() ? "" : folder + "/") + "_rels/" + name + ".rels";
}

struct Relationship {
  std::string type;    // last path segment of the Type URI: "officeDocument", "worksheet", ...
  std::string target;  // resolved part name
};

std::map<std::string, Relationship> readRelationships(const Zip& zip, const std::string& ownerPart) {
  std::map<std::string, Relationship> rels;
  const std::string relsPart = relsOf(ownerPart);
  if (!zip.has(relsPart)) return rels;
  const auto doc = zip.xml(relsPart);
  for (auto r : child(doc, "Relationships").children()) {
    if (!is(r, "Relationship")) continue;
    std::string type = r.attribute("Type").as_string();
    type = type.substr(type.rfind('/') + 1);
    rels[r.attribute("Id").as_string()] = {type, resolveTarget(folderOf(ownerPart), r.attribute("Target").as_string())};
  }
  return rels;
}

/// The text of a string item (<si> or <is>): plain <t>, or the <t> of every rich-text run <r>.
/// Phonetic hints (<rPh>) are not part of the value.
std::string stringItemText(const pugi::xml_node& item) {
  std::string text;
  for (auto c : item.children()) {
    if (is(c, "t")) text += c.text().get();
    else if (is(c, "r"))
      for (auto t : c.children())
        if (is(t, "t")) text += t.text().get();
  }
  return text;
}

/// Excel escapes characters XML cannot hold as _xHHHH_ (e.g. _x000D_ for a carriage return).
std::string unescapeOoxml(const std::string& s) {
  if (s.find("_x") == std::string::npos) return s;
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_' && i + 6 < s.size() && s[i + 1] == 'x' && s[i + 6] == '_' &&
        std::all_of(s.begin() + long(i) + 2, s.begin() + long(i) + 6, [](unsigned char c) { return std::isxdigit(c); })) {
      const unsigned code = std::stoul(s.substr(i + 2, 4), nullptr, 16);
      if (code < 0x80) out += char(code);
      else if (code < 0x800) out += char(0xC0 | (code >> 6)), out += char(0x80 | (code & 0x3F));
      else out += char(0xE0 | (code >> 12)), out += char(0x80 | ((code >> 6) & 0x3F)), out += char(0x80 | (code & 0x3F));
      i += 6;
    } else {
      out += s[i];
    }
  }
  return out;
}

// A worksheet's size limits (Excel's, since 2007: A1 to XFD1048576). References beyond them are
// refused, which also keeps the arithmetic on them far from int overflow (found by xlsx_fuzz).
constexpr int kMaxRows = 1048576;
constexpr int kMaxColumns = 16384;
const std::string kSheetLimits = "columns A to XFD, rows 1 to 1048576";

/// "B12" -> (12, 2); false if it is not a cell reference inside the sheet's limits.
bool parseReference(const std::string& ref, int& row, int& column) {
  std::size_t i = 0;
  column = 0;
  while (i < ref.size() && std::isalpha(static_cast<unsigned char>(ref[i]))) {
    column = column * 26 + (std::toupper(static_cast<unsigned char>(ref[i])) - 'A' + 1);
    if (column > kMaxColumns) return false;
    ++i;
  }
  if (i == 0 || i == ref.size()) return false;
  row = 0;
  for (; i < ref.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(ref[i]))) return false;
    row = row * 10 + (ref[i] - '0');
    if (row > kMaxRows) return false;
  }
  return row > 0;
}

}  // namespace

std::string columnLetters(int column) {
  std::string letters;
  for (; column > 0; column = (column - 1) / 26) letters.insert(letters.begin(), char('A' + (column - 1) % 26));
  return letters;
}

std::string XlsxCell::reference() const { return columnLetters(column) + std::to_string(row); }

XlsxSheet readXlsxSheet(const std::filesystem::path& file, const std::string& sheetName) {
  return readXlsxSheet(file, std::vector<std::string>{sheetName}, "");
}

XlsxSheet readXlsxSheet(const std::filesystem::path& file, const std::vector<std::string>& sheetNames,
                        const std::string& expectedLayouts) {
  if (!std::filesystem::exists(file)) throw Error("Excel file " + file.string() + " does not exist");
  const Zip zip(file);
  const std::string where = "Excel file " + file.string();

  std::string workbookPart;
  for (const auto& [id, rel] : readRelationships(zip, ""))  // the package's own rels: _rels/.rels
    if (rel.type == "officeDocument") workbookPart = rel.target;
  if (workbookPart.empty()) throw Error(where + " names no workbook part (is it an .xlsx spreadsheet?)");

  const auto workbook = zip.xml(workbookPart);
  const auto rels = readRelationships(zip, workbookPart);
  std::string sheetPart, foundName, names;
  std::size_t foundRank = sheetNames.size();  // the earliest of sheetNames present wins
  for (auto sheet : child(child(workbook, "workbook"), "sheets").children()) {
    if (!is(sheet, "sheet")) continue;
    const std::string name = sheet.attribute("name").as_string();
    names += (names.empty() ? "" : ", ") + std::string("\"") + name + "\"";
    std::size_t rank = 0;
    while (rank < sheetNames.size() && lower(name) != lower(sheetNames[rank])) ++rank;
    if (rank >= foundRank) continue;
    const auto rel = rels.find(attribute(sheet, "id").as_string());
    if (rel == rels.end())
      throw Error(where + ": sheet \"" + name + "\" has no worksheet part (damaged workbook?)");
    sheetPart = rel->second.target, foundName = name, foundRank = rank;
  }
  if (sheetPart.empty()) {
    std::string wanted;
    for (std::size_t i = 0; i < sheetNames.size(); ++i)
      wanted += (i ? i + 1 == sheetNames.size() ? " or " : ", " : "") + std::string("\"") + sheetNames[i] + "\"";
    throw Error(where + " has no sheet named " + wanted + " (sheets: " + (names.empty() ? "none" : names) + ")" +
                (expectedLayouts.empty() ? "" : "; expected " + expectedLayouts));
  }

  std::vector<std::string> sharedStrings;
  for (const auto& [id, rel] : rels) {
    if (rel.type != "sharedStrings") continue;
    const auto doc = zip.xml(rel.target);
    for (auto si : child(doc, "sst").children())
      if (is(si, "si")) sharedStrings.push_back(unescapeOoxml(stringItemText(si)));
  }

  XlsxSheet sheet;
  sheet.name = foundName;
  const auto doc = zip.xml(sheetPart);
  int rowNumber = 0;
  for (auto row : child(child(doc, "worksheet"), "sheetData").children()) {
    if (!is(row, "row")) continue;
    // Row and cell references are optional in the format: missing ones continue from the last.
    const long long r = row.attribute("r") ? row.attribute("r").as_llong() : rowNumber + 1LL;
    if (r < 1 || r > kMaxRows)
      throw Error(where + ", sheet " + foundName + ": row number " +
                  (row.attribute("r") ? "'" + std::string(row.attribute("r").as_string()) + "'" : std::to_string(r)) +
                  " is outside the sheet (" + kSheetLimits + ")");
    rowNumber = int(r);
    int columnNumber = 0;
    for (auto c : row.children()) {
      if (!is(c, "c")) continue;
      XlsxCell cell;
      cell.row = rowNumber;
      cell.column = columnNumber + 1;
      if (const char* ref = c.attribute("r").as_string(); *ref) {
        if (!parseReference(ref, cell.row, cell.column))
          throw Error(where + ", sheet " + foundName + ": bad cell reference '" + ref + "' (expected a column and a row, " +
                      kSheetLimits + ")");
      } else if (cell.column > kMaxColumns) {
        throw Error(where + ", sheet " + foundName + ": row " + std::to_string(rowNumber) + " has more than " +
                    std::to_string(kMaxColumns) + " cells (" + kSheetLimits + ")");
      }
      columnNumber = cell.column;
      const std::string type = c.attribute("t").as_string();
      const auto v = child(c, "v");
      const bool hasFormula = bool(child(c, "f"));
      const std::string at = where + " " + foundName + "!" + cell.reference();
      if (type == "inlineStr") {
        cell.kind = XlsxCell::Kind::Text;
        cell.text = unescapeOoxml(stringItemText(child(c, "is")));
      } else if (!v) {
        if (!hasFormula) continue;  // an empty, merely formatted cell
        cell.kind = XlsxCell::Kind::FormulaWithoutValue;
      } else if (type == "s") {
        const int index = v.text().as_int(-1);
        if (index < 0 || std::size_t(index) >= sharedStrings.size())
          throw Error(at + " refers to shared string " + v.text().get() + ", which the file does not have");
        cell.kind = XlsxCell::Kind::Text;
        cell.text = sharedStrings[std::size_t(index)];
      } else if (type == "str") {  // a formula's cached text result
        cell.kind = XlsxCell::Kind::Text;
        cell.text = unescapeOoxml(v.text().get());
      } else if (type == "b") {
        cell.kind = XlsxCell::Kind::Boolean;
        cell.text = std::string(v.text().get()) == "1" ? "true" : "false";
      } else if (type == "e") {
        cell.kind = XlsxCell::Kind::Error;
        cell.text = v.text().get();
      } else if (type.empty() || type == "n") {
        cell.kind = XlsxCell::Kind::Number;
        cell.text = v.text().get();
      } else {  // "d" (ISO 8601 date) and anything newer: keep the text, the caller decides
        cell.kind = XlsxCell::Kind::Text;
        cell.text = v.text().get();
      }
      sheet.cells.push_back(std::move(cell));
    }
  }
  std::stable_sort(sheet.cells.begin(), sheet.cells.end(), [](const XlsxCell& a, const XlsxCell& b) {
    return a.row != b.row ? a.row < b.row : a.column < b.column;
  });
  return sheet;
}

}  // namespace fibseg::config
