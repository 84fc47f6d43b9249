// Parameters of reading the slice series and of where outputs go.
#include "fibseg/config/stage_params.hpp"

namespace fibseg::config {

std::vector<ParamSpec> inputParameterSpecs() {
  std::vector<ParamSpec> specs;
  specs.push_back({.section = "input", .key = "path", .type = ParamType::Path, .defaultValue = "",
                   .description = "Folder of slice images (TIFF or PNG, 8- or 16-bit, sorted naturally: "
                                  "slice_2 before slice_10) or one multi-page TIFF. Relative paths are "
                                  "taken from the parameter file's folder.",
                   .required = true});
  specs.push_back({.section = "input", .key = "pixel_size_nm", .type = ParamType::Real, .defaultValue = "0",
                   .unit = "nm", .min = 0.0,
                   .description = "Size of one pixel in the slice plane. 0 = read it from the TIFF "
                                  "metadata (FEI/Thermo, Zeiss or resolution tags)."});
  specs.push_back({.section = "input", .key = "slice_thickness_nm", .type = ParamType::Real,
                   .defaultValue = "0", .unit = "nm", .min = 0.0,
                   .description = "Distance between consecutive slices (FIB milling step). 0 = same as "
                                  "the pixel size."});
  specs.push_back({.section = "input", .key = "format", .type = ParamType::Choice, .defaultValue = "any",
                   .choices = {"any", "png", "tif"},
                   .description = "Which files of the input folder are slices: any = .tif, .tiff and .png; "
                                  "png or tif = only those (the notebook sheet's Data format)."});
  specs.push_back({.section = "input", .key = "prefer_names_containing", .type = ParamType::Text,
                   .defaultValue = "",
                   .description = "When some file names in the input folder contain this text, only those are "
                                  "slices (a folder holding both detectors' images: BSE). Empty = every file. "
                                  "Reading the notebook's sheet sets it to BSE, as the notebook does."});
  return specs;
}

std::vector<ParamSpec> outputParameterSpecs() {
  std::vector<ParamSpec> specs;
  specs.push_back({.section = "output", .key = "folder", .type = ParamType::Path, .defaultValue = "",
                   .description = "Folder for all results (created if missing). Relative paths are "
                                  "taken from the parameter file's folder.",
                   .required = true});
  specs.push_back({.section = "output", .key = "slice_pngs", .type = ParamType::Boolean,
                   .defaultValue = "true",
                   .description = "Write every segmented slice as PNG: labels (segmented/labels_NNNN.png) "
                                  "and colours (segmented/colour_NNNN.png, in phases.colours: default blue CAM, orange SE, light grey "
                                  "pores). The 3D labels.tif is always written."});
  specs.push_back({.section = "output", .key = "uncertainty_pngs", .type = ParamType::Boolean,
                   .defaultValue = "false",
                   .description = "With segment.method = classifier: write how unsure the classifier is of each "
                                  "pixel (segmented/uncertainty_NNNN.png: the entropy of its phase probabilities "
                                  "over log(phases), 0 = sure, 255 = every phase equally likely), and list the "
                                  "least certain regions of the first, middle and last slice in "
                                  "uncertainty_regions.csv and the report: where more strokes help most."});
  specs.push_back({.section = "output", .key = "preview_width", .type = ParamType::Integer,
                   .defaultValue = "512", .unit = "px", .min = 64.0, .max = 4096.0,
                   .description = "Width of the downsampled slices embedded in report.html (larger = "
                                  "sharper report, bigger file)."});
  specs.push_back({.section = "output", .key = "report", .type = ParamType::Boolean, .defaultValue = "true",
                   .description = "Write report.html: every step shown for a visual check, opens offline."});
  specs.push_back({.section = "output", .key = "threads", .type = ParamType::Integer, .defaultValue = "0",
                   .min = 0.0, .max = 256.0,
                   .description = "Processor cores to use; 0 = all."});
  specs.push_back({.section = "output", .key = "format", .type = ParamType::Choice, .defaultValue = "tiff",
                   .choices = {"tiff", "ome-zarr"},
                   .description = "Volumes written: tiff = labels.tif (and aligned.tif); ome-zarr = labels.zarr "
                                  "(and aligned.zarr): chunked OME-NGFF 0.4 Zarr v2 stores with 3 resolution "
                                  "levels, read by napari, zarr-python and Fiji (MoBIE)."});
  specs.push_back({.section = "output", .key = "block_slices", .type = ParamType::Integer, .defaultValue = "16",
                   .unit = "slices", .min = 1.0, .max = 4096.0,
                   .description = "Slices per block at most: the unit of work of a distributed run "
                                  "(fibseg.distributed) and the chunk depth of the Zarr volumes. The stack is cut "
                                  "into as few blocks as this allows, made as equal as the chunks allow (60 slices "
                                  "at 16: 4 blocks of 15). Larger blocks: fewer tasks, more memory per task."});
  return specs;
}

}  // namespace fibseg::config
