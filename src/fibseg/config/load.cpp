#include "fibseg/config/load.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <toml++/toml.h>

#include "fibseg/config/notebook_sheet.hpp"
#include "fibseg/config/toml_text.hpp"
#include "fibseg/config/xlsx_sheet.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/core/text.hpp"

namespace fibseg::config {

namespace fs = std::filesystem;

namespace {


std::string expected(const ParamSpec& spec) {
  return spec.expectation() + (spec.unit.empty() ? "" : " (" + spec.unit + ")");
}

/// Collects the values of one parameter file (or the command line) into a ParamSet, remembering
/// where each came from so duplicates and missing values can be reported with their place.
class Loader {
 public:
  explicit Loader(const std::vector<ParamSpec>& specs) : set_(ParamSet::defaults(specs)) {}

  const ParamSpec& specAt(const std::string& name, const std::string& place) {
    if (const ParamSpec* spec = findParameter(set_.specs(), name)) return *spec;
    throw Error("unknown parameter '" + name + "' at " + place + unknownParameterHint(set_.specs(), name));
  }

  /// A value from the file. An empty `text` leaves the default (and is remembered for the
  /// message if the parameter is required). Relative paths resolve against `baseFolder`.
  void fromFile(const ParamSpec& spec, const std::string& text, const std::string& place,
                const fs::path& baseFolder) {
    const std::string name = spec.name();
    if (const auto it = fileRows_.find(name); it != fileRows_.end())
      throw Error("parameter '" + name + "' is given twice: at " + it->second + " and at " + place +
                  " (keep one)");
    fileRows_[name] = place;
    if (trim(text).empty()) return;  // an empty value keeps the default (or is missing, if required)
    set_.set(name, spec.type == ParamType::Path ? resolvePath(text, baseFolder) : text, place);
  }

  void fromCommandLine(const std::string& assignment) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || trim(assignment.substr(0, eq)).empty())
      throw Error("--set '" + assignment + "': expected name=value, e.g. --set segment.method=otsu");
    const std::string name = trim(assignment.substr(0, eq));
    std::string text = trim(assignment.substr(eq + 1));
    // --set 'input.path="my data"': quotes meant for TOML are not part of the value.
    if (text.size() >= 2 && (text.front() == '"' || text.front() == '\'') && text.back() == text.front())
      text = text.substr(1, text.size() - 2);
    const std::string place = "command line (--set " + assignment + ")";
    const ParamSpec& spec = specAt(name, place);
    if (spec.required && trim(text).empty())
      throw Error("required parameter '" + name + "' at " + place + ": expected " + expected(spec) +
                  ", got nothing");
    set_.set(name, spec.type == ParamType::Path ? resolvePath(text, fs::current_path()) : text,
             "command line");
  }

  ParamSet finish(const fs::path& file, RequiredValues required) {
    if (required == RequiredValues::MayBeMissing) return std::move(set_);
    std::vector<std::string> missing;
    for (const auto& spec : set_.specs()) {
      if (set_.values().at(spec.name()).isSet) continue;
      const auto row = fileRows_.find(spec.name());
      std::string text = "'";  // appended piece by piece: GCC 12 warns falsely on "..." + string
      text += spec.name();
      text += row != fileRows_.end() ? "' has no value at " + row->second
              : file.empty()         ? std::string("' is not given")
                                     : "' is not given in " + file.string();
      text += ": expected " + expected(spec) + " (" + spec.description + ")";
      missing.push_back(std::move(text));
    }
    if (!missing.empty()) {
      std::string message = missing.size() == 1 ? "required parameter " + missing[0]
                                                : std::to_string(missing.size()) + " required parameters have no value: ";
      for (std::size_t i = 0; missing.size() > 1 && i < missing.size(); ++i) message += (i ? "; " : "") + missing[i];
      throw Error(message + (file.empty() ? "; give it with --set NAME=VALUE" : ""));
    }
    return std::move(set_);
  }

 private:
  static std::string resolvePath(const std::string& rawText, const fs::path& baseFolder) {
    std::string text = trim(rawText);
    if (text.empty()) return text;
    if (text == "~" || text.rfind("~/", 0) == 0) {
      if (const char* home = std::getenv("HOME")) text = std::string(home) + text.substr(1);
    }
    fs::path path(text);
    if (path.is_relative()) path = baseFolder / path;
    return path.lexically_normal().string();
  }

  ParamSet set_;
  std::map<std::string, std::string> fileRows_;  // parameter -> its place in the file
};

// ---- TOML ----

std::string describeTomlValue(const toml::node& node) {
  if (auto s = node.as_string()) return "the text \"" + s->get() + "\"";
  if (auto b = node.as_boolean()) return std::string("the boolean ") + (b->get() ? "true" : "false");
  if (auto i = node.as_integer()) return "the integer " + std::to_string(i->get());
  if (auto f = node.as_floating_point()) return "the number " + formatNumber(f->get());
  if (node.is_array()) return "a list";
  if (node.is_table()) return "a table";
  return "a date or time";
}

/// The TOML value as parseValue's text, if its TOML type fits the parameter's type.
std::optional<std::string> tomlValueText(const toml::node& node, const ParamSpec& spec) {
  auto number = [](const toml::node& n) -> std::optional<std::string> {
    if (auto i = n.as_integer()) return std::to_string(i->get());
    if (auto f = n.as_floating_point()) return formatNumber(f->get());
    return std::nullopt;
  };
  switch (spec.type) {
    case ParamType::Integer:
    case ParamType::Real: return number(node);
    case ParamType::Boolean:
      if (auto b = node.as_boolean()) return b->get() ? "true" : "false";
      return std::nullopt;
    case ParamType::Text:
    case ParamType::Choice:
    case ParamType::Path:
      if (auto s = node.as_string()) return s->get();
      return std::nullopt;
    case ParamType::RealList: {
      if (auto single = number(node)) return single;
      const auto* array = node.as_array();
      if (!array) return std::nullopt;
      std::string text;
      for (const auto& element : *array) {
        const auto item = number(element);
        if (!item) return std::nullopt;
        text += (text.empty() ? "" : ",") + *item;
      }
      return text;
    }
  }
  return std::nullopt;
}

void loadToml(Loader& loader, const fs::path& file, const std::vector<ParamSpec>& specs) {
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    throw Error("parameter file " + file.string() + ":" + std::to_string(at.line) + ":" +
                std::to_string(at.column) + ": " + std::string(e.description()) +
                " (TOML: sections as [section], values as key = value, text in quotes; "
                "a key or section may appear only once)");
  }
  const fs::path folder = fs::absolute(file).parent_path();
  auto placeOf = [&](const toml::node& node) {
    return file.string() + ":" + std::to_string(node.source().begin.line);
  };
  std::set<std::string> sections;
  for (const auto& spec : specs) sections.insert(spec.section);

  for (const auto& [sectionKey, sectionNode] : root) {
    const std::string section(sectionKey.str());
    const auto* table = sectionNode.as_table();
    if (!table) {  // a key outside any [section]
      loader.specAt(section, placeOf(sectionNode));
      continue;
    }
    if (table->empty() && !sections.count(section)) {
      std::string known;
      for (const auto& s : sections) known += (known.empty() ? "" : ", ") + s;
      throw Error("unknown section [" + section + "] at " + placeOf(sectionNode) + " (sections: " + known + ")");
    }
    for (const auto& [key, node] : *table) {
      const std::string name = section + "." + std::string(key.str());
      const std::string place = placeOf(node);
      const ParamSpec& spec = loader.specAt(name, place);
      const auto text = tomlValueText(node, spec);
      if (!text)
        throw Error("parameter '" + name + "' at " + place + ": expected " + expected(spec) + ", got " +
                    describeTomlValue(node) +
                    (node.is_string() ? " (numbers and true/false are written without quotes)"
                     : spec.type == ParamType::Text || spec.type == ParamType::Path ||
                             spec.type == ParamType::Choice
                         ? " (text is written in quotes)"
                         : ""));
      loader.fromFile(spec, *text, place, folder);
    }
  }
}

// ---- Excel ----

/// "section.key": two identifiers joined by one dot (no spaces), as in the Parameter column.
bool looksLikeParameterName(const std::string& name) {
  const auto dot = name.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == name.size() || name.find('.', dot + 1) != std::string::npos)
    return false;
  return std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '.'; });
}

void loadNotebookSheet(Loader& loader, const fs::path& file, const XlsxSheet& sheet) {
  const fs::path folder = fs::absolute(file).parent_path();
  for (const SheetValue& value : notebookSheetValues(sheet, file.string(), folder))
    loader.fromFile(loader.specAt(value.parameter, value.place), value.text, value.place, folder);
}

void loadXlsx(Loader& loader, const fs::path& file) {
  const XlsxSheet sheet =
      readXlsxSheet(file, {"Inputs", kNotebookSheetName},
                    "fibseg's layout (a sheet \"Inputs\" with the columns Parameter | Value, as `fibseg init` "
                    "writes it) or the original notebook's (a sheet \"" + kNotebookSheetName +
                    "\" with the columns \"Parameters' name\" | \"Parameters' value\")");
  if (toLower(sheet.name) == toLower(kNotebookSheetName)) return loadNotebookSheet(loader, file, sheet);
  const std::string where = file.string() + " " + sheet.name + "!";

  std::map<int, std::map<int, const XlsxCell*>> rows;
  for (const auto& cell : sheet.cells) rows[cell.row][cell.column] = &cell;

  int headerRow = 0, parameterColumn = 0, valueColumn = 0;
  for (const auto& [row, cells] : rows) {
    int p = 0, v = 0;
    for (const auto& [column, cell] : cells) {
      if (cell->kind != XlsxCell::Kind::Text) continue;
      const std::string t = toLower(trim(cell->text));
      if (t == "parameter" && !p) p = column;
      if (t == "value" && !v) v = column;
    }
    if (p && v) {
      headerRow = row, parameterColumn = p, valueColumn = v;
      break;
    }
  }
  if (!headerRow)
    throw Error("sheet " + sheet.name + " of " + file.string() +
                " has no header row with the columns 'Parameter' and 'Value' (expected Parameter | Value "
                "| Default | Unit | Description, as written by `fibseg init`)");

  const fs::path folder = fs::absolute(file).parent_path();
  for (const auto& [row, cells] : rows) {
    if (row <= headerRow) continue;
    const auto p = cells.find(parameterColumn);
    const auto v = cells.find(valueColumn);
    const XlsxCell* nameCell = p == cells.end() ? nullptr : p->second;
    const XlsxCell* valueCell = v == cells.end() ? nullptr : v->second;
    const std::string name = nameCell ? trim(nameCell->text) : "";
    if (name.empty()) continue;
    const bool valueEmpty = !valueCell || (valueCell->kind == XlsxCell::Kind::Text && trim(valueCell->text).empty());
    // A heading ("Alignment: data bar, ...") or a note: not a section.key name, nothing in Value.
    if (!looksLikeParameterName(name) && valueEmpty) continue;

    const ParamSpec& spec = loader.specAt(name, where + nameCell->reference());
    const std::string place = where + columnLetters(valueColumn) + std::to_string(row);
    std::string text;
    if (valueCell) {
      switch (valueCell->kind) {
        case XlsxCell::Kind::Error:
          throw Error("parameter '" + name + "' at " + place + ": the cell holds the spreadsheet error " +
                      valueCell->text + "; expected " + expected(spec));
        case XlsxCell::Kind::FormulaWithoutValue:
          throw Error("parameter '" + name + "' at " + place +
                      ": the cell holds a formula whose result was never saved (open and save the file "
                      "in Excel or LibreOffice, or type the value); expected " + expected(spec));
        default: text = valueCell->text;
      }
    }
    loader.fromFile(spec, text, place, folder);
  }
}

}  // namespace

ParamSet loadParameters(const fs::path& file, const std::vector<std::string>& overrides,
                        RequiredValues required) {
  return loadParameters(file, overrides, allParameters(), required);
}

ParamSet loadParameters(const fs::path& file, const std::vector<std::string>& overrides,
                        const std::vector<ParamSpec>& specs, RequiredValues required) {
  Loader loader(specs);
  if (!file.empty()) {
    if (!fs::is_regular_file(file))
      throw Error("parameter file " + file.string() + " does not exist (create one with `fibseg init " +
                  file.string() + "`)");
    const std::string extension = toLower(file.extension().string());
    if (extension == ".xlsx" || extension == ".xlsm") loadXlsx(loader, file);
    else if (extension == ".toml") loadToml(loader, file, specs);
    else
      throw Error("parameter file " + file.string() + ": expected an Excel workbook (.xlsx) or a TOML file "
                  "(.toml), got '" + file.extension().string() + "'");
  }
  for (const auto& assignment : overrides) loader.fromCommandLine(assignment);
  return loader.finish(file, required);
}

std::string formatResolvedParameters(const ParamSet& parameters) {
  std::string out =
      "# Parameters used by fibseg: every value and where it came from (default, a parameter file and\n"
      "# its place, or the command line). This file is itself a valid parameter file.\n";
  std::string section;
  for (const auto& spec : parameters.specs()) {
    if (spec.section != section) {
      section = spec.section;
      out += "\n[" + section + "]\n";
    }
    const ResolvedValue& r = parameters.values().at(spec.name());
    if (!r.isSet) {
      out += "# " + spec.key + " = (required, not given)\n";
      continue;
    }
    out += spec.key + " = " + tomlValue(spec, r.value) + "  # " + r.origin + "\n";
  }
  return out;
}

}  // namespace fibseg::config
