#include "fibseg/config/template.hpp"

#include <xlsxwriter.h>

#include <algorithm>
#include <map>

#include "fibseg/config/toml_text.hpp"
#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/error.hpp"

namespace fibseg::config {

namespace fs = std::filesystem;

namespace {

/// Headings for the stages a user meets in order; a section not listed is headed by its name.
std::string sectionTitle(const std::string& section) {
  static const std::map<std::string, std::string> titles = {
      {"input", "Input: the slice images"},
      {"output", "Output: where results are written"},
      {"align", "Alignment: data bar, cropping, slice-to-slice registration"},
      {"intensity", "Intensity: brightness equalisation, contrast, shading and curtaining"},
      {"segment", "Segmentation: pores, solid electrolyte, cathode active material"},
      {"learn", "Machine-learning segmentation (trained classifier)"},
      {"phases", "Phases: names, label values and colours"},
      {"measure", "Measurement: fractions, areas, connectivity, tortuosity, sizes, profiles along the thickness"},
      {"report", "Report"},
  };
  const auto it = titles.find(section);
  return it == titles.end() ? section : it->second;
}

std::string allowedText(const ParamSpec& spec, bool withUnit) {
  std::string s = "Allowed: " + spec.expectation() + ".";
  if (withUnit && spec.unit.size()) s = "Unit: " + spec.unit + ". " + s;
  if (spec.required) s += " Required: there is no default.";
  return s;
}

/// Wraps `text` into comment lines of at most `width` characters.
std::string commentLines(const std::string& text, std::size_t width = 96) {
  std::string out, line;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t space = text.find(' ', i);
    const std::string word = text.substr(i, space == std::string::npos ? std::string::npos : space - i);
    i = space == std::string::npos ? text.size() : space + 1;
    if (!line.empty() && line.size() + 1 + word.size() > width - 2) {
      out += "# " + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) out += "# " + line + "\n";
  return out;
}

bool isTextType(ParamType type) {
  return type == ParamType::Text || type == ParamType::Choice || type == ParamType::Path;
}

void check(lxw_error error, const fs::path& file, const char* what) {
  if (error != LXW_NO_ERROR)
    throw Error("cannot write Excel template " + file.string() + " (" + what + "): " + lxw_strerror(error));
}

}  // namespace

std::string tomlTemplate(const std::vector<ParamSpec>& specs) {
  std::string out =
      "# fibseg parameter file. Written by `fibseg init`; fill in the values, then run\n"
      "#   fibseg run THIS_FILE\n"
      "# Every parameter is listed at its default. A value left empty (\"\") keeps the default;\n"
      "# required parameters must be filled in. Text and paths go in quotes, numbers and true/false\n"
      "# without. Relative paths are taken from this file's folder. Any value can also be given on\n"
      "# the command line: fibseg run THIS_FILE --set section.key=value\n";
  std::string section;
  for (const auto& spec : specs) {
    if (spec.section != section) {
      section = spec.section;
      const std::string title = sectionTitle(section);
      out += "\n# " + std::string(std::max<std::size_t>(title.size(), 20), '=') + "\n# " + title + "\n[" +
             section + "]\n";
    }
    out += '\n';
    out += commentLines(spec.description);
    out += commentLines(allowedText(spec, true));
    if (!spec.required) {
      out += spec.key + " = " + tomlValue(spec, parseValue(spec, spec.defaultValue, "default")) + "\n";
    } else if (isTextType(spec.type)) {
      out += spec.key + " = \"\"\n";
    } else {  // no TOML way to write "empty number": leave the line for the user to complete
      out += "# " + spec.key + " =   <- fill in and remove the '#'\n";
    }
  }
  return out;
}

void writeXlsxTemplate(const fs::path& file, const std::vector<ParamSpec>& specs) {
  lxw_workbook_options options = {};
  options.constant_memory = LXW_FALSE;
  lxw_workbook* workbook = workbook_new_opt(file.c_str(), &options);
  if (!workbook) throw Error("cannot create Excel template " + file.string());
  lxw_worksheet* sheet = workbook_add_worksheet(workbook, "Inputs");

  lxw_format* header = workbook_add_format(workbook);
  format_set_bold(header);
  format_set_bottom(header, LXW_BORDER_THIN);
  format_set_bg_color(header, 0xD9D9D9);
  lxw_format* heading = workbook_add_format(workbook);
  format_set_bold(heading);
  format_set_bg_color(heading, 0xDDEBF7);
  lxw_format* name = workbook_add_format(workbook);
  format_set_align(name, LXW_ALIGN_VERTICAL_TOP);
  lxw_format* value = workbook_add_format(workbook);  // the column to fill in
  format_set_bg_color(value, 0xFFF2CC);
  format_set_align(value, LXW_ALIGN_VERTICAL_TOP);
  format_set_align(value, LXW_ALIGN_LEFT);
  lxw_format* plain = workbook_add_format(workbook);
  format_set_align(plain, LXW_ALIGN_VERTICAL_TOP);
  format_set_align(plain, LXW_ALIGN_LEFT);
  lxw_format* wrapped = workbook_add_format(workbook);
  format_set_text_wrap(wrapped);
  format_set_align(wrapped, LXW_ALIGN_VERTICAL_TOP);

  worksheet_set_column(sheet, 0, 0, 34, nullptr);
  worksheet_set_column(sheet, 1, 1, 26, nullptr);
  worksheet_set_column(sheet, 2, 2, 14, nullptr);
  worksheet_set_column(sheet, 3, 3, 8, nullptr);
  worksheet_set_column(sheet, 4, 4, 100, nullptr);
  worksheet_freeze_panes(sheet, 1, 0);
  const char* headers[] = {"Parameter", "Value", "Default", "Unit", "Description"};
  for (lxw_col_t c = 0; c < 5; ++c) worksheet_write_string(sheet, 0, c, headers[c], header);

  // Writes a value as the cell type a spreadsheet user would type: numbers as numbers, etc.
  auto writeValue = [&](lxw_row_t row, lxw_col_t column, const ParamSpec& spec, lxw_format* format) {
    if (spec.required) return worksheet_write_blank(sheet, row, column, format);
    const Value v = parseValue(spec, spec.defaultValue, "default");
    if (const auto* i = std::get_if<long long>(&v)) return worksheet_write_number(sheet, row, column, double(*i), format);
    if (const auto* d = std::get_if<double>(&v)) return worksheet_write_number(sheet, row, column, *d, format);
    if (const auto* b = std::get_if<bool>(&v)) return worksheet_write_boolean(sheet, row, column, *b, format);
    const std::string text = formatValue(v);
    if (text.empty()) return worksheet_write_blank(sheet, row, column, format);
    return worksheet_write_string(sheet, row, column, text.c_str(), format);
  };

  lxw_row_t row = 1;
  std::string section;
  for (const auto& spec : specs) {
    if (spec.section != section) {
      section = spec.section;
      // A heading row has no "section.key" name and an empty Value: the loader skips it.
      const std::string title = sectionTitle(section);
      worksheet_write_string(sheet, row, 0, title.c_str(), heading);
      for (lxw_col_t c = 1; c < 5; ++c) worksheet_write_blank(sheet, row, c, heading);
      ++row;
    }
    check(worksheet_write_string(sheet, row, 0, spec.name().c_str(), name), file, spec.name().c_str());
    check(writeValue(row, 1, spec, value), file, spec.name().c_str());
    if (spec.required) worksheet_write_string(sheet, row, 2, "(required)", plain);
    else check(writeValue(row, 2, spec, plain), file, spec.name().c_str());
    if (!spec.unit.empty()) worksheet_write_string(sheet, row, 3, spec.unit.c_str(), plain);
    const std::string description = spec.description + "\n" + allowedText(spec, false);
    worksheet_write_string(sheet, row, 4, description.c_str(), wrapped);

    // Excel and LibreOffice check typed values against the same limits as the loader.
    lxw_data_validation validation = {};
    std::vector<std::string> choices = spec.choices;
    std::vector<char*> list;
    std::string message = "Expected " + spec.expectation() + ".";
    if (message.size() > 250) message = message.substr(0, 247) + "...";
    std::size_t listLength = 0;
    for (const auto& c : choices) listLength += c.size() + 1;
    if (spec.type == ParamType::Choice && listLength < 255) {
      for (auto& c : choices) list.push_back(c.data());
      list.push_back(nullptr);
      validation.validate = LXW_VALIDATION_TYPE_LIST;
      validation.value_list = list.data();
    } else if ((spec.type == ParamType::Integer || spec.type == ParamType::Real) && (spec.min || spec.max)) {
      validation.validate =
          spec.type == ParamType::Integer ? LXW_VALIDATION_TYPE_INTEGER : LXW_VALIDATION_TYPE_DECIMAL;
      if (spec.min && spec.max) {
        validation.criteria = LXW_VALIDATION_CRITERIA_BETWEEN;
        validation.minimum_number = *spec.min;
        validation.maximum_number = *spec.max;
      } else if (spec.min) {
        validation.criteria = LXW_VALIDATION_CRITERIA_GREATER_THAN_OR_EQUAL_TO;
        validation.value_number = *spec.min;
      } else {
        validation.criteria = LXW_VALIDATION_CRITERIA_LESS_THAN_OR_EQUAL_TO;
        validation.value_number = *spec.max;
      }
    }
    if (validation.validate != LXW_VALIDATION_TYPE_NONE) {
      validation.error_title = const_cast<char*>("fibseg");
      validation.error_message = message.data();
      check(worksheet_data_validation_cell(sheet, row, 1, &validation), file, spec.name().c_str());
    }
    ++row;
  }

  // A second sheet says how to fill the first; the loader reads only "Inputs".
  lxw_worksheet* help = workbook_add_worksheet(workbook, "Help");
  worksheet_set_column(help, 0, 0, 110, nullptr);
  const char* lines[] = {
      "How to use this parameter file",
      "1. On the sheet Inputs, type values in the yellow Value column. Column Default shows what an empty Value means.",
      "2. Parameters marked (required) have no default and must be filled in (e.g. the folder of slice images).",
      "3. Relative paths are taken from the folder of this file. Lists of numbers: separate them by commas, e.g. 0, 128, 255.",
      "4. Run: fibseg run THIS_FILE.xlsx   (any value can be overridden: --set section.key=value)",
      "Rows may be moved; heading rows and notes without a section.key name are ignored. Do not rename the Parameter cells",
      "or the sheet Inputs. Formulas are allowed in Value cells: their saved result is used. Each parameter may appear once.",
      "fibseg writes the values it used, with where each came from, to parameters_used.toml in the output folder.",
  };
  for (lxw_row_t r = 0; r < sizeof lines / sizeof *lines; ++r)
    worksheet_write_string(help, r, 0, lines[r], r == 0 ? header : nullptr);
  worksheet_activate(sheet);

  check(workbook_close(workbook), file, "saving");
}

void writeParameterTemplate(const fs::path& file, bool overwrite, const std::vector<ParamSpec>& specs) {
  std::string extension = file.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (extension != ".xlsx" && extension != ".toml")
    throw Error("cannot write a parameter template to " + file.string() +
                ": expected a name ending in .xlsx (Excel) or .toml (text)");
  if (fs::exists(file) && !overwrite)
    throw Error(file.string() + " exists already; choose another name or use --force to replace it");
  if (fs::is_directory(file)) throw Error(file.string() + " is a folder; expected a file name");
  if (!file.parent_path().empty() && !fs::is_directory(file.parent_path()))
    throw Error("cannot write " + file.string() + ": folder " + file.parent_path().string() + " does not exist");
  if (extension == ".toml") {
    writeTextFile(file, tomlTemplate(specs));
    return;
  }
  AtomicFile out(file);
  writeXlsxTemplate(out.temporaryPath(), specs);
  out.commit();
}

}  // namespace fibseg::config
