// Section "Orthogonal views of the labelled volume", and the 3D views the summary shows.
#include "fibseg/report/sections/sections.hpp"



namespace fibseg::report::detail {

void addOrthoLabelsSection(Page& page, const std::optional<json>& run, const ReportPhases& phases) {
  std::string scaleText;
  const double z = depthScale(run, scaleText);
  std::string body = "<p>Re-slices of the labelled volume (slice number runs downwards): phases should continue "
                     "smoothly from slice to slice. " + escapeHtml(scaleText) + "</p>" + legend(phases) + "<div class=\"figures\">";
  body += figure(page, "preview/ortho_xz_labels.png", "XZ of the labels", "ortho-xz-labels", "the XZ view of the labels is not shown", [&](const fs::path& path) { return colouredLabelsUri(path, phases); }, z);
  body += figure(page, "preview/ortho_yz_labels.png", "YZ of the labels", "ortho-yz-labels", "the YZ view of the labels is not shown", [&](const fs::path& path) { return colouredLabelsUri(path, phases); }, z);
  body += "</div>";
  page.add({"ortho-labels", "Orthogonal views of the labelled volume", body});
}

std::string view3dFigures(Page& page, const std::optional<json>& run) {
  std::string depth = "one slice spacing drawn as one pixel (pixel size or slice thickness unknown)";
  if (run && run->value("pixel_size_nm", 0.0) > 0 && run->value("slice_thickness_nm", 0.0) > 0)
    depth = "depth drawn to scale: slice spacing " + formatNumber(run->value("slice_thickness_nm", 0.0), 4) +
            " nm, pixel " + formatNumber(run->value("pixel_size_nm", 0.0), 4) + " nm";
  std::string body = "<p>The volume as a block seen from the front, above and right: the first slice in front, the "
                     "top row of every slice on top, the right-hand column of every slice on the side (depth "
                     "recedes up and to the right; " + escapeHtml(depth) + ").</p><div class=\"figures\">";
  body += figure(page, "view3d_labels.png", "3D view of the labelled volume", "view3d-labels", "the 3D view of the labels is not shown");
  body += figure(page, "view3d_grey.png", "3D view of the aligned greyscale stack", "view3d-grey", "the 3D view of the greyscale stack is not shown");
  return body + "</div>";
}

}  // namespace fibseg::report::detail
