// Section "Parameters used": parameters_used.toml, the changed ones first.
#include "fibseg/report/sections/sections.hpp"

#include <fstream>
#include <regex>
#include <sstream>

namespace fibseg::report::detail {

void addParametersSection(Page& page) {
  const fs::path path = page.folder() / "parameters_used.toml";
  std::string body;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    page.add({"parameters", "Parameters used", page.missing("parameters_used.toml", "the parameters are not listed")});
    return;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  // `[section]` headers and `key = value  # origin` lines; anything else stays in the raw view.
  static const std::regex sectionLine(R"(^\s*\[([^\]]+)\]\s*(#.*)?$)");
  std::string section, rows, changedRows;
  int count = 0, changed = 0;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_match(line, m, sectionLine)) {
      section = m[1];
      continue;
    }
    const auto eq = line.find('=');
    const auto first = line.find_first_not_of(" \t");
    if (eq == std::string::npos || first == std::string::npos || line[first] == '#') continue;
    std::string key = line.substr(first, eq - first);
    key.erase(key.find_last_not_of(" \t") + 1);
    std::string rest = line.substr(eq + 1), value, origin;
    bool quoted = false;
    std::size_t i = 0;
    for (; i < rest.size(); ++i) {
      if (rest[i] == '"' && (i == 0 || rest[i - 1] != '\\')) quoted = !quoted;
      if (rest[i] == '#' && !quoted) break;
    }
    value = rest.substr(0, i);
    if (i < rest.size()) origin = rest.substr(i + 1);
    auto trim = [](std::string s) {
      const auto b = s.find_first_not_of(" \t\r");
      if (b == std::string::npos) return std::string();
      return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
    };
    value = trim(value);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    origin = trim(origin);
    const std::string row = "<tr>" + td(section.empty() ? key : section + "." + key) + td(value) + td(origin) + "</tr>";
    rows += row;
    if (origin != "default") changedRows += row, ++changed;
    ++count;
  }
  const std::string header = "<tr><th>parameter</th><th>value</th><th>from</th></tr>";
  if (count > 0) {
    // What the user chose matters most; the defaults are one click away.
    body += "<p class=\"summary\" id=\"parameters-summary\">" + std::to_string(count) + " parameters, " +
            std::to_string(changed) + " not at their default.</p>";
    if (changed > 0) body += "<table id=\"parameters-changed\">" + header + changedRows + "</table>";
    body += "<details><summary>All " + std::to_string(count) + " parameters</summary><table id=\"parameters-table\">" +
            header + rows + "</table></details>";
  } else
    body += page.note("parameters_used.toml has no 'name = value' lines; shown as written below.");
  body += "<details" + std::string(count > 0 ? "" : " open") + "><summary>parameters_used.toml as written</summary><pre>" +
          escapeHtml(text) + "</pre></details>";
  page.add({"parameters", "Parameters used", body});
}

}  // namespace fibseg::report::detail
