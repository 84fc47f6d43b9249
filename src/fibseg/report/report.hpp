#pragma once
// The visual check of every step: one offline HTML page (report.html) built from the files
// `fibseg run` leaves in its output folder (DEVELOPING.md, "Output folder of fibseg run").
// Images are embedded as base64 data URIs and plots are inline SVG plus a small inline script,
// so the page opens from disk with no network and can be mailed as one file.
//
// Every piece except the folder itself is optional: a missing or unreadable file leaves its
// section out of the page with a visible note saying which file and why; it is never an error.
//
// run.json keys the page reads (any other keys are listed in the "Run" table as they are):
//   slices, image_width, image_height, bit_depth, pixel_size_nm, data_bar_rows,
//   crop {x, y, width, height}, timings_s {stage: seconds, ...},
//   otsu_thresholds [grey, ...] (or otsu_threshold: grey) -> vertical lines on the histogram,
//   phase_fractions {pore, se, cam}, preview_slice (the slice shown in gabor_response.png and
//   pore_mask.png). Keys are found at any nesting depth (e.g. segment.otsu_thresholds).
// preview/labels_NNNN.png hold 0 pore, 1 SE, 2 CAM (0/128/255 style spreads are accepted too).
#include <filesystem>
#include <string>

namespace fibseg::report {

/// The complete page for `outputFolder`. Throws fibseg::Error if the folder does not exist.
std::string buildReportHtml(const std::filesystem::path& outputFolder);

/// Writes `outputFolder/report.html` (atomically). Throws fibseg::Error if the folder does not
/// exist or cannot be written.
void writeReport(const std::filesystem::path& outputFolder);

}  // namespace fibseg::report
