// Parameters of the classical segmentation: Otsu for the active material, Gabor filter and a
// threshold for the pores, island cleanup, and how labels are written.
#include "fibseg/config/param_set.hpp"
#include "fibseg/config/stage_params.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/segment/notebook.hpp"
#include "fibseg/segment/segment.hpp"

#include <cmath>

namespace fibseg::config {

std::vector<ParamSpec> segmentParameterSpecs() {
  std::vector<ParamSpec> specs;
  const std::string s = "segment";
  specs.push_back({.section = s, .key = "method", .type = ParamType::Choice, .defaultValue = "otsu",
                   .choices = {"otsu", "classifier", "notebook"},
                   .description = "How slices are segmented. otsu: the classical path (Otsu threshold for the "
                                  "active material, Gabor filter and threshold for the pores, the rest is solid "
                                  "electrolyte); classifier: a trained pixel classifier (see the learn section); "
                                  "notebook: the original Python notebook's method step for step (CLAHE, "
                                  "non-local means + Otsu, optional vertical-line removal, its fixed 91 x 91 "
                                  "Gabor filter, notebook_pore_threshold; the segment.notebook_* values), the "
                                  "default when the notebook's own Excel sheet is read."});
  specs.push_back({.section = s, .key = "otsu_scope", .type = ParamType::Choice, .defaultValue = "slice",
                   .choices = {"slice", "stack"},
                   .description = "Where the Otsu threshold between active material (brightest) and the rest "
                                  "comes from: slice = each slice its own (follows brightness changes between "
                                  "slices); stack = one threshold from the grey-level histogram of the whole "
                                  "stack (steadier when slices are brightness-equalised, or some slices hold "
                                  "little active material)."});
  specs.push_back({.section = s, .key = "otsu_offset", .type = ParamType::Integer, .defaultValue = "0",
                   .unit = "grey levels", .min = -65535.0, .max = 65535.0,
                   .description = "Added to the Otsu threshold (slice's or stack's) before it splits active "
                                  "material from the rest: positive = less active material. For a boundary "
                                  "Otsu places a little off, judged by eye (the studio's Otsu slider)."});
  specs.push_back({.section = s, .key = "gabor_kernel_size", .type = ParamType::Integer, .defaultValue = "15",
                   .unit = "px", .min = 1.0, .max = 401.0,
                   .description = "Side of the square Gabor filter window (odd). About 3 to 4 times "
                                  "gabor_sigma holds the whole filter; larger only costs time."});
  specs.push_back({.section = s, .key = "gabor_sigma", .type = ParamType::Real, .defaultValue = "2", .unit = "px",
                   .min = 0.1, .max = 200.0,
                   .description = "Width (standard deviation) of the Gabor filter's Gaussian envelope: the "
                                  "scale over which grey levels are averaged before deciding 'pore'. Larger "
                                  "smooths noise and the electrolyte's texture but rounds off small pores."});
  specs.push_back({.section = s, .key = "gabor_theta", .type = ParamType::Real, .defaultValue = "135",
                   .unit = "deg", .min = -360.0, .max = 360.0,
                   .description = "Orientation of the Gabor filter's stripes (OpenCV getGaborKernel theta, "
                                  "here in degrees: 0 = stripes vertical). Matters for elongated pores or "
                                  "curtaining; with gabor_gamma = 1 and a long wavelength it hardly matters."});
  specs.push_back({.section = s, .key = "gabor_lambda", .type = ParamType::Real, .defaultValue = "8", .unit = "px",
                   .min = 0.5, .max = 10000.0,
                   .description = "Wavelength of the Gabor filter's cosine stripes (OpenCV lambd). About twice "
                                  "the pore diameter picks out pores of that size; much longer than the "
                                  "window turns the filter into a plain smoothing."});
  specs.push_back({.section = s, .key = "gabor_gamma", .type = ParamType::Real, .defaultValue = "1",
                   .min = 0.01, .max = 100.0,
                   .description = "Aspect ratio of the Gabor envelope (OpenCV gamma): 1 = round, below 1 = "
                                  "elongated along the stripes."});
  specs.push_back({.section = s, .key = "gabor_psi", .type = ParamType::Real, .defaultValue = "0", .unit = "deg",
                   .min = -360.0, .max = 360.0,
                   .description = "Phase offset of the cosine (OpenCV psi, here in degrees): 0 = symmetric "
                                  "filter that responds to bright blobs (pores in the inverted image); 90 = "
                                  "responds to edges instead."});
  specs.push_back({.section = s, .key = "pore_threshold", .type = ParamType::Real, .defaultValue = "1330",
                   .description = "Gabor filter response above which a pixel is pore. The filter runs on the "
                                  "inverted slice (255 - grey on an 8-bit scale; 16-bit slices divided by 257) "
                                  "with active material set to 0, so pores give the highest response. Same "
                                  "scale as the original Python method (8-bit OpenCV filter2D + threshold), so "
                                  "its thresholds carry over, but the response is not clipped at 255. Depends "
                                  "on all gabor_* values: find it with `fibseg tune` (the default suits the "
                                  "phantom)."});
  specs.push_back({.section = s, .key = "convolution", .type = ParamType::Choice, .defaultValue = "auto",
                   .choices = {"auto", "opencv", "spatial", "dft"},
                   .description = "How the Gabor filter is computed; results are the same, only speed differs. "
                                  "auto: spatial when the filter is one row-times-column filter (theta a "
                                  "multiple of 90) or two of them (gabor_gamma = 1) with a window of 11 px or "
                                  "more, otherwise opencv (the fastest choice in bench/README.md); "
                                  "opencv: OpenCV filter2D (direct up to 11 px windows, Fourier transform "
                                  "from 13 px); spatial: direct, as a sum of row-times-column filters; dft: "
                                  "Fourier transform of the whole slice. Timings in bench/README.md."});
  specs.push_back({.section = s, .key = "min_island_pore", .type = ParamType::Integer, .defaultValue = "0",
                   .unit = "px", .min = 0.0,
                   .description = "Pore islands smaller than this many pixels are merged into the phase "
                                  "around them (noise specks). 0 = keep all."});
  specs.push_back({.section = s, .key = "min_island_se", .type = ParamType::Integer, .defaultValue = "0",
                   .unit = "px", .min = 0.0,
                   .description = "Solid-electrolyte islands smaller than this many pixels are merged into the "
                                  "phase around them. 0 = keep all."});
  specs.push_back({.section = s, .key = "min_island_cam", .type = ParamType::Integer, .defaultValue = "0",
                   .unit = "px", .min = 0.0,
                   .description = "Active-material islands smaller than this many pixels are merged into the "
                                  "phase around them. 0 = keep all."});
  // The notebook's own parameters, named after its sheet's rows (segment.method = notebook).
  specs.push_back({.section = s, .key = "notebook_light_adjustment", .type = ParamType::Boolean, .defaultValue = "true",
                   .description = "Notebook method: CLAHE on each slice on its own before anything else (sheet: "
                                  "Light adjustment)."});
  specs.push_back({.section = s, .key = "notebook_clip_limit", .type = ParamType::Real, .defaultValue = "2",
                   .min = 0.01, .max = 1000.0,
                   .description = "Notebook method: CLAHE clip limit, OpenCV's meaning (sheet: clip_lim)."});
  specs.push_back({.section = s, .key = "notebook_grid_size", .type = ParamType::Integer, .defaultValue = "4",
                   .min = 1.0, .max = 256.0,
                   .description = "Notebook method: CLAHE tiles per side, the slice is cut into grid x grid tiles "
                                  "(sheet: Grid size)."});
  specs.push_back({.section = s, .key = "notebook_remove_vertical_lines", .type = ParamType::Boolean,
                   .defaultValue = "false",
                   .description = "Notebook method: open the active-material mask with a flat rectangle and "
                                  "median-filter it, removing thin vertical curtaining lines (sheet: Removing "
                                  "vertical lines)."});
  specs.push_back({.section = s, .key = "notebook_horizontal_kernel", .type = ParamType::RealList,
                   .defaultValue = "10, 1", .unit = "px", .min = 1.0, .max = 1000.0,
                   .description = "Notebook method: width, height of the opening rectangle (sheet: Horizontal "
                                  "kernel size; \"10, 1\" = 10 px wide, 1 px high)."});
  specs.push_back({.section = s, .key = "notebook_median_smoothing", .type = ParamType::Integer, .defaultValue = "5",
                   .unit = "px", .min = 1.0, .max = 255.0,
                   .description = "Notebook method: odd size of the median filter after the opening (sheet: "
                                  "Median smoothing)."});
  specs.push_back({.section = s, .key = "notebook_pore_threshold", .type = ParamType::Real, .defaultValue = "140",
                   .min = 0.0, .max = 256.0,
                   .description = "Notebook method: pixels whose Gabor result (saturated to 0..255) is below this "
                                  "are pore (sheet: Pores threshold)."});
  return specs;
}

segment::NotebookParams notebookParamsFrom(const ParamSet& params) {
  segment::NotebookParams p;
  p.lightAdjustment = params.boolean("segment.notebook_light_adjustment");
  p.clipLimit = params.real("segment.notebook_clip_limit");
  p.gridSize = int(params.integer("segment.notebook_grid_size"));
  p.removeVerticalLines = params.boolean("segment.notebook_remove_vertical_lines");
  const auto kernel = params.realList("segment.notebook_horizontal_kernel");
  if (kernel.size() != 2 || kernel[0] != std::floor(kernel[0]) || kernel[1] != std::floor(kernel[1]))
    throw Error("segment.notebook_horizontal_kernel (" + params.resolved("segment.notebook_horizontal_kernel").origin +
                "): expected two whole numbers of pixels, width and height, e.g. \"10, 1\"");
  p.horizontalKernel = cv::Size(int(kernel[0]), int(kernel[1]));
  p.medianSmoothing = int(params.integer("segment.notebook_median_smoothing"));
  if (p.medianSmoothing % 2 == 0)
    throw Error("segment.notebook_median_smoothing = " + std::to_string(p.medianSmoothing) + " (" +
                params.resolved("segment.notebook_median_smoothing").origin + "): expected an odd number of pixels");
  p.poreThreshold = params.real("segment.notebook_pore_threshold");
  return p;
}

segment::SegmentParams segmentParamsFrom(const ParamSet& params) {
  using namespace segment;
  SegmentParams p;
  p.otsuScope = params.text("segment.otsu_scope") == "stack" ? OtsuScope::Stack : OtsuScope::PerSlice;
  p.gabor.kernelSize = int(params.integer("segment.gabor_kernel_size"));
  if (p.gabor.kernelSize % 2 == 0)
    throw Error("parameter segment.gabor_kernel_size = " + std::to_string(p.gabor.kernelSize) + " (" +
                params.resolved("segment.gabor_kernel_size").origin + "); expected an odd number of pixels");
  p.gabor.sigma = params.real("segment.gabor_sigma");
  p.gabor.thetaDeg = params.real("segment.gabor_theta");
  p.gabor.lambda = params.real("segment.gabor_lambda");
  p.gabor.gamma = params.real("segment.gabor_gamma");
  p.gabor.psiDeg = params.real("segment.gabor_psi");
  p.poreThreshold = params.real("segment.pore_threshold");
  p.otsuOffset = int(params.integer("segment.otsu_offset"));
  const std::string convolution = params.text("segment.convolution");
  p.convolution = convolution == "spatial"  ? Convolution::Spatial
                  : convolution == "dft"    ? Convolution::Dft
                  : convolution == "opencv" ? Convolution::OpenCv
                                            : Convolution::Auto;
  p.minIslandPx = {int(params.integer("segment.min_island_pore")), int(params.integer("segment.min_island_se")),
                   int(params.integer("segment.min_island_cam"))};
  return p;
}

}  // namespace fibseg::config
