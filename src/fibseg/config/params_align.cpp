// Parameters of cropping (data bar, region of interest) and aligning the slices.
#include "fibseg/align/align.hpp"
#include "fibseg/config/param_set.hpp"
#include "fibseg/config/stage_params.hpp"
#include "fibseg/core/error.hpp"

namespace fibseg::config {

std::vector<ParamSpec> alignParameterSpecs() {
  std::vector<ParamSpec> specs;
  auto add = [&](ParamSpec spec) {
    spec.section = "align";
    specs.push_back(std::move(spec));
  };
  add({.key = "data_bar", .type = ParamType::Choice, .defaultValue = "auto", .choices = {"auto", "rows", "none"},
       .description = "The microscope's information strip (data bar: dark band with text and scale bar) at the "
                      "bottom of each image, which is cut off. auto = find it on the first slice; rows = cut "
                      "align.data_bar_rows rows; none = the images have no bar."});
  add({.key = "data_bar_rows", .type = ParamType::Integer, .defaultValue = "0", .unit = "px", .min = 0.0,
       .description = "Height of the data bar in pixel rows, used when align.data_bar = rows."});
  add({.key = "roi_x", .type = ParamType::Integer, .defaultValue = "0", .unit = "px", .min = 0.0,
       .description = "Region of interest: left edge, in pixels of the image as recorded."});
  add({.key = "roi_y", .type = ParamType::Integer, .defaultValue = "0", .unit = "px", .min = 0.0,
       .description = "Region of interest: top edge, in pixels of the image as recorded."});
  add({.key = "roi_width", .type = ParamType::Integer, .defaultValue = "0", .unit = "px", .min = 0.0,
       .description = "Region of interest: width. 0 = up to the right edge of the image."});
  add({.key = "roi_height", .type = ParamType::Integer, .defaultValue = "0", .unit = "px", .min = 0.0,
       .description = "Region of interest: height. 0 = down to the data bar (or the bottom edge). The "
                      "region must lie inside the image above the data bar."});
  for (const auto& [key, what] : std::vector<std::pair<std::string, std::string>>{
           {"register_x", "left edge"}, {"register_y", "top edge"}, {"register_width", "width (0 = to the right edge)"},
           {"register_height", "height (0 = down to the data bar)"}})
    add({.key = key, .type = ParamType::Integer, .defaultValue = "0", .unit = "px", .min = 0.0,
         .description = "Registration region: " + what + ", in pixels of the image as recorded. All four 0 "
                        "(default) = drift is measured on the region of interest. Otherwise it is measured "
                        "on this region only, which may lie outside the region of interest: use a part of "
                        "the image that stays the same from slice to slice (a fiducial mark, the protective "
                        "cap above the sample) when the structure itself changes fast through the depth "
                        "(large grains): registration follows what it sees, and changing structure also "
                        "seems to move."});
  add({.key = "max_shift", .type = ParamType::Integer, .defaultValue = "0", .unit = "px", .min = 0.0,
       .description = "Largest drift expected between two consecutive slices. 0 = up to a quarter of the "
                      "image. A tighter limit avoids false matches on very repetitive structures."});
  add({.key = "bandpass_fine", .type = ParamType::Real, .defaultValue = "1", .unit = "px", .min = 0.0,
       .max = 50.0,
       .description = "Registration looks at structures between this size and align.bandpass_coarse. "
                      "Detail finer than this (detector noise, fine texture that changes from slice to "
                      "slice) counts less. Raise it for noisy images."});
  add({.key = "bandpass_coarse", .type = ParamType::Real, .defaultValue = "20", .unit = "px", .min = 1.0,
       .max = 10000.0,
       .description = "Variation coarser than this (shading, brightness changes between slices) is ignored "
                      "when registering. Must be larger than align.bandpass_fine."});
  add({.key = "suppress_curtaining", .type = ParamType::Boolean, .defaultValue = "true",
       .description = "Ignore vertical stripes (curtaining from FIB milling) when registering. The stripes "
                      "stay fixed in the image while the sample drifts, so they would hold the alignment "
                      "at zero shift."});
  add({.key = "min_quality", .type = ParamType::Real, .defaultValue = "1.5", .min = 0.0, .max = 100.0,
       .description = "How far a comparison's correlation peak must stand above the rest of the correlation "
                      "surface to be trusted, in units of the highest peak chance alone gives (two slices "
                      "of pure noise score 0.7-1.0; matching slices 3 or more, however noisy). A slice "
                      "that no trusted comparison ties to the ones before it is bridged (its step is "
                      "guessed from its neighbours), listed as a warning and flagged in transforms.csv."});
  add({.key = "bridge_flagged", .type = ParamType::Boolean, .defaultValue = "true",
       .description = "For a flagged pair, do not trust its measured shift: take it from the comparison with "
                      "the average of earlier slices, or, failing that, the drift of the neighbouring slices."});
  add({.key = "reference_slices", .type = ParamType::Integer, .defaultValue = "8", .min = 1.0, .max = 16.0,
       .description = "Each slice is compared with up to this many earlier slices, one by one and as "
                      "their average (already aligned); all comparisons are combined. 1 = previous slice "
                      "only. Comparing with several keeps small errors from adding up along the stack, and "
                      "a slice that matches nothing (a beam blank) is bridged by a real measurement. The "
                      "average holds only the earlier slices this one matched, and counts only when its "
                      "peak stands out more than the best single slice's (it does not where the structure "
                      "changes fast from slice to slice: large steps, every n-th slice kept)."});
  add({.key = "chain_slices", .type = ParamType::Integer, .defaultValue = "32", .unit = "slices", .min = 0.0,
       .description = "The stack is registered in chains of this many slices, fixed by the stack alone (not by "
                      "the machine, so every run gives the same shifts): each chain starts with the last "
                      "align.reference_slices slices of the one before (read and compared again, to fill its "
                      "running reference and tie it to that chain), and all chains' comparisons are solved "
                      "together. Chains run in parallel (on several dask workers in a distributed run). "
                      "0 = the whole stack is one chain (compared strictly in order)."});
  add({.key = "register_scale", .type = ParamType::Integer, .defaultValue = "0", .min = 0.0, .max = 16.0,
       .description = "Registration works on a copy of each slice shrunk by this factor (each pixel the "
                      "mean of factor x factor pixels); shifts are still sub-pixel in full-size pixels. "
                      "0 = automatic: halve while the smaller side stays at least 512 px (2048 x 1536 "
                      "slices are registered at 1024 x 768). 1 = full size (slower, for fine "
                      "structure only a few pixels across)."});
  add({.key = "smoothing_slices", .type = ParamType::Integer, .defaultValue = "0", .unit = "slices",
       .min = 0.0, .max = 1000.0,
       .description = "0 = off. Otherwise the drift curve is smoothed over this many slices: use it when "
                      "the drift is known to be slow and steady and the measured shifts jitter."});
  add({.key = "crop", .type = ParamType::Choice, .defaultValue = "common", .choices = {"common", "pad"},
       .description = "common = keep only the area present in every aligned slice; pad = keep every pixel, "
                      "the frame grows and areas a slice does not cover are black (0)."});
  add({.key = "write_aligned", .type = ParamType::Boolean, .defaultValue = "true",
       .description = "Write the aligned greyscale slices as one multi-page TIFF (aligned.tif)."});
  return specs;
}

align::AlignParams alignParamsFrom(const ParamSet& p) {
  align::AlignParams a;
  const std::string bar = p.text("align.data_bar");
  a.dataBarMode = bar == "rows" ? align::DataBarMode::Rows
                  : bar == "none" ? align::DataBarMode::None
                                  : align::DataBarMode::Auto;
  a.dataBarRows = int(p.integer("align.data_bar_rows"));
  a.roi = {int(p.integer("align.roi_x")), int(p.integer("align.roi_y")), int(p.integer("align.roi_width")),
           int(p.integer("align.roi_height"))};
  a.registrationRegion = {int(p.integer("align.register_x")), int(p.integer("align.register_y")),
                          int(p.integer("align.register_width")), int(p.integer("align.register_height"))};
  auto& r = a.registration;
  r.maxShiftPx = int(p.integer("align.max_shift"));
  r.fineSigmaPx = p.real("align.bandpass_fine");
  r.coarseSigmaPx = p.real("align.bandpass_coarse");
  if (r.coarseSigmaPx <= r.fineSigmaPx)
    throw Error("parameters align.bandpass_coarse (" + formatValue(r.coarseSigmaPx) + " px, from " +
                p.resolved("align.bandpass_coarse").origin + ") and align.bandpass_fine (" +
                formatValue(r.fineSigmaPx) + " px, from " + p.resolved("align.bandpass_fine").origin +
                "): expected coarse larger than fine");
  r.suppressCurtaining = p.boolean("align.suppress_curtaining");
  r.minQuality = p.real("align.min_quality");
  r.bridgeFlagged = p.boolean("align.bridge_flagged");
  r.referenceSlices = int(p.integer("align.reference_slices"));
  r.smoothingSlices = int(p.integer("align.smoothing_slices"));
  r.scale = int(p.integer("align.register_scale"));
  a.chainSlices = int(p.integer("align.chain_slices"));
  a.crop = p.text("align.crop") == "pad" ? align::CropMode::Pad : align::CropMode::Common;
  a.writeAlignedStack = p.boolean("align.write_aligned");
  return a;
}

}  // namespace fibseg::config
