#pragma once
// The original notebook's own parameter sheet, read as it is: one sheet "FiB-SEM segmentation"
// with columns "Parameters' name" | "Parameters' value" | "Parameters' description", section
// headings without a value, names as the sheet writes them ("Pores threshold " ends with a
// space). Its rows become fibseg parameters, each remembering its cell.
#include <filesystem>
#include <string>
#include <vector>

#include "fibseg/config/xlsx_sheet.hpp"

namespace fibseg::config {

inline const std::string kNotebookSheetName = "FiB-SEM segmentation";
/// Ends the origin of an output.folder the sheet implied (<Slices path>/Results): the one place
/// inside the input folder a run may write (the pipeline checks for it).
inline const std::string kNotebookResultsOrigin = "(Slices path/Results)";

/// One fibseg parameter value taken from (or implied by) the sheet.
struct SheetValue {
  std::string parameter;  // "segment.notebook_clip_limit"
  std::string text;       // as parseValue reads it ("2", "true", "10, 1")
  std::string place;      // "file.xlsx FiB-SEM segmentation!B7"
};

/// The sheet's values as fibseg parameters, plus what the layout implies: segment.method =
/// notebook, input.prefer_names_containing = BSE (the notebook reads the BSE images of folders
/// holding both detectors) and output.folder = <Slices path>/Results. `folder` resolves a relative
/// Slices path. Empty cells keep the notebook's defaults. Throws naming the cell for a row name the
/// notebook does not have, a value it would not read, and a sheet without its header row.
std::vector<SheetValue> notebookSheetValues(const XlsxSheet& sheet, const std::string& file,
                                            const std::filesystem::path& folder);

}  // namespace fibseg::config
