#include "fibseg/io/shift_table.hpp"

#include <fstream>
#include <sstream>

#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/core/text.hpp"

namespace fibseg::io {


std::vector<cv::Point2d> readShiftTable(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(path.string() + ": cannot open shift table");
  std::string line;
  if (!std::getline(in, line)) throw Error(path.string() + ": empty; expected a header slice,dx,dy");
  const auto header = splitCsvRecord(line);
  int slice = -1, dx = -1, dy = -1;
  for (int i = 0; i < int(header.size()); ++i) {
    if (header[i] == "slice") slice = i;
    if (header[i] == "dx") dx = i;
    if (header[i] == "dy") dy = i;
  }
  if (slice < 0 || dx < 0 || dy < 0)
    throw Error(path.string() + ": header must have columns slice, dx and dy");
  std::vector<cv::Point2d> shifts;
  int lineNumber = 1;
  while (std::getline(in, line)) {
    ++lineNumber;
    if (line.empty() || line == "\r") continue;
    const auto cells = splitCsvRecord(line);
    const std::string where = path.string() + ":" + std::to_string(lineNumber);
    if (int(cells.size()) <= std::max({slice, dx, dy})) throw Error(where + ": too few columns");
    try {
      if (std::stoi(cells[slice]) != int(shifts.size()))
        throw Error(where + ": slice " + cells[slice] + " out of order; expected " + std::to_string(shifts.size()));
      shifts.emplace_back(std::stod(cells[dx]), std::stod(cells[dy]));
    } catch (const std::logic_error&) {
      throw Error(where + ": expected numbers in slice, dx and dy");
    }
  }
  return shifts;
}

void writeShiftTable(const std::filesystem::path& path, const std::vector<cv::Point2d>& shifts) {
  std::ostringstream out;
  out.precision(6);
  out << std::fixed << "slice,dx,dy\n";
  for (std::size_t i = 0; i < shifts.size(); ++i) out << i << ',' << shifts[i].x << ',' << shifts[i].y << '\n';
  writeTextFile(path, out.str());
}

}  // namespace fibseg::io
