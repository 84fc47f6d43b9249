// Parameters of the intensity stage: brightness equalisation between slices, shading and
// curtaining correction, light enhancement (applied in that order, each optional).
#include "fibseg/config/param_set.hpp"
#include "fibseg/config/stage_params.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/intensity/denoise.hpp"
#include "fibseg/intensity/intensity.hpp"

namespace fibseg::config {

std::vector<ParamSpec> intensityParameterSpecs() {
  std::vector<ParamSpec> specs;
  const std::string s = "intensity";
  specs.push_back({.section = s, .key = "brightness", .type = ParamType::Choice, .defaultValue = "percentiles",
                   .choices = {"none", "percentiles", "histogram"},
                   .description = "Equalise brightness between slices (beam current and detector drift make "
                                  "slices lighter or darker). percentiles: a straight-line grey map per slice "
                                  "fitted to the reference's percentiles (keeps each slice's histogram shape, "
                                  "robust to phase fractions that change from slice to slice); histogram: "
                                  "full histogram matching (every slice gets the reference's histogram "
                                  "exactly, which also forces the reference's phase fractions); none: off."});
  specs.push_back({.section = s, .key = "brightness_reference", .type = ParamType::Choice, .defaultValue = "median",
                   .choices = {"median", "first"},
                   .description = "What slices are matched to: median = the typical slice of the stack (the "
                                  "median of all slices' grey-level distributions; needs a quick first pass "
                                  "over all slices); first = the first slice."});
  specs.push_back({.section = s, .key = "brightness_low_percentile", .type = ParamType::Real, .defaultValue = "5",
                   .unit = "%", .min = 0.0, .max = 49.0,
                   .description = "Lower end of the grey-level range matched by the percentiles method: the "
                                  "darkest this % of pixels (noise, black pore centres) is not used."});
  specs.push_back({.section = s, .key = "brightness_high_percentile", .type = ParamType::Real,
                   .defaultValue = "95", .unit = "%", .min = 51.0, .max = 100.0,
                   .description = "Upper end of the grey-level range matched by the percentiles method: the "
                                  "brightest (100 - this) % of pixels (charging, bright edges) is not used."});
  specs.push_back({.section = s, .key = "shading", .type = ParamType::Choice, .defaultValue = "none",
                   .choices = {"none", "polynomial", "gaussian"},
                   .description = "Remove a smooth brightness gradient across each slice (e.g. darker towards "
                                  "the bottom of the trench). polynomial: fit a low-order surface (robust, "
                                  "for gradients across the whole image); gaussian: a very wide blur (follows "
                                  "more local unevenness, but also large clusters of one phase); none: off."});
  specs.push_back({.section = s, .key = "shading_mode", .type = ParamType::Choice, .defaultValue = "divide",
                   .choices = {"divide", "subtract"},
                   .description = "How the background is removed: divide (the gradient scales contrast, as "
                                  "detector efficiency does) or subtract (an additive haze). The slice's mean "
                                  "grey level is kept either way."});
  specs.push_back({.section = s, .key = "shading_sigma", .type = ParamType::Real, .defaultValue = "0",
                   .unit = "px", .min = 0.0,
                   .description = "Width of the Gaussian background (gaussian shading). Must be much larger "
                                  "than the particles. 0 = a quarter of the slice's shorter side."});
  specs.push_back({.section = s, .key = "shading_order", .type = ParamType::Integer, .defaultValue = "2",
                   .min = 1.0, .max = 4.0,
                   .description = "Order of the polynomial background (polynomial shading): 1 = a plane "
                                  "(linear gradient), 2 = can bend once (brighter centre), up to 4."});
  specs.push_back({.section = s, .key = "curtaining", .type = ParamType::Boolean, .defaultValue = "false",
                   .description = "Remove vertical curtaining stripes left by uneven FIB milling. Stripes are "
                                  "estimated column by column with medians, so particle edges are kept."});
  specs.push_back({.section = s, .key = "curtain_stripe_width", .type = ParamType::Real, .defaultValue = "8",
                   .unit = "px", .min = 1.0, .max = 200.0,
                   .description = "Widest stripe to remove. Structures narrower than about this are treated "
                                  "as stripes only if they run down most of a band (see curtain_band_height); "
                                  "keep it below the size of the particles."});
  specs.push_back({.section = s, .key = "curtain_band_height", .type = ParamType::Real, .defaultValue = "128",
                   .unit = "px", .min = 8.0,
                   .description = "Stripes are measured in horizontal bands this tall and may fade or change "
                                  "from band to band. Taller bands = steadier estimate that particles disturb "
                                  "less; shorter = follows stripes that change quickly down the slice."});
  specs.push_back({.section = s, .key = "clahe", .type = ParamType::Boolean, .defaultValue = "false",
                   .description = "Light enhancement by CLAHE (contrast-limited adaptive histogram "
                                  "equalisation): spreads grey levels tile by tile, bringing out detail in dark "
                                  "and bright regions. Changes grey levels locally, so thresholds become local."});
  specs.push_back({.section = s, .key = "clahe_clip_limit", .type = ParamType::Real, .defaultValue = "2",
                   .min = 0.1, .max = 100.0,
                   .description = "How strongly CLAHE may raise contrast (higher = stronger, also amplifies "
                                  "noise). 1 to 3 is typical."});
  specs.push_back({.section = s, .key = "clahe_tile_size", .type = ParamType::Integer, .defaultValue = "128",
                   .unit = "px", .min = 8.0, .max = 8192.0,
                   .description = "Side of the square tiles CLAHE equalises separately. Should hold several "
                                  "particles."});
  specs.push_back({.section = s, .key = "gamma", .type = ParamType::Real, .defaultValue = "1", .min = 0.1,
                   .max = 10.0,
                   .description = "Gamma curve applied last, on the full grey scale (0 to 255, or 0 to 65535 "
                                  "for 16-bit): 1 = off, below 1 brightens dark phases (pores, electrolyte), "
                                  "above 1 darkens them."});
  specs.push_back({.section = s, .key = "denoise", .type = ParamType::Choice, .defaultValue = "gaussian",
                   .choices = {"none", "gaussian", "median", "bilateral", "nlm"},
                   .description = "Denoise what the segmentation looks at (Otsu's threshold and the pixel "
                                  "classifier; the Gabor pore filter and aligned.tif keep the undenoised slice). "
                                  "Noise puts single pixels on the wrong side of a threshold; on real BSE slices "
                                  "(lco-fibsem) every filter here raises Otsu's CAM IoU from 0.75 to 0.80 "
                                  "(bench/README.md, Real data). gaussian: blur of denoise_sigma (cheapest); "
                                  "median: median of denoise_size (keeps edges sharp); bilateral: averages only "
                                  "similar grey levels (denoise_bilateral_grey, denoise_bilateral_px); nlm: non-local means as "
                                  "scikit-image's denoise_nl_means in fast mode, what the original notebook "
                                  "uses (denoise_nlm_h, _patch, _distance; by far the slowest); none: off."});
  specs.push_back({.section = s, .key = "denoise_sigma", .type = ParamType::Real, .defaultValue = "2",
                   .unit = "px", .min = 0.1, .max = 50.0,
                   .description = "Standard deviation of the Gaussian blur (denoise = gaussian). Keep it well "
                                  "below the smallest particle radius: edges are blurred over about this."});
  specs.push_back({.section = s, .key = "denoise_size", .type = ParamType::Integer, .defaultValue = "5",
                   .unit = "px", .min = 1.0, .max = 99.0,
                   .description = "Side of the median window (denoise = median), odd. Features thinner than "
                                  "about half of it disappear."});
  specs.push_back({.section = s, .key = "denoise_bilateral_grey", .type = ParamType::Real, .defaultValue = "50",
                   .min = 1.0, .max = 255.0,
                   .description = "Grey-level reach of the bilateral filter (denoise = bilateral), on an 8-bit "
                                  "scale (16-bit slices: times 257): pixels differing by much more than this "
                                  "are not averaged, so edges between phases that differ more are kept."});
  specs.push_back({.section = s, .key = "denoise_bilateral_px", .type = ParamType::Real, .defaultValue = "3",
                   .unit = "px", .min = 0.5, .max = 50.0,
                   .description = "Spatial reach (standard deviation) of the bilateral filter (denoise = "
                                  "bilateral)."});
  specs.push_back({.section = s, .key = "denoise_nlm_h", .type = ParamType::Real, .defaultValue = "0.04",
                   .min = 0.001, .max = 1.0,
                   .description = "Strength of non-local means (denoise = nlm) on the 0-1 grey scale "
                                  "(scikit-image's h; the original notebook uses 0.04)."});
  specs.push_back({.section = s, .key = "denoise_nlm_patch", .type = ParamType::Integer, .defaultValue = "5",
                   .unit = "px", .min = 1.0, .max = 31.0,
                   .description = "Side of the patches non-local means compares (denoise = nlm)."});
  specs.push_back({.section = s, .key = "denoise_nlm_distance", .type = ParamType::Integer, .defaultValue = "6",
                   .unit = "px", .min = 1.0, .max = 50.0,
                   .description = "How far non-local means searches for similar patches (denoise = nlm); its "
                                  "time grows with the square of it."});
  return specs;
}

intensity::DenoiseParams denoiseParamsFrom(const ParamSet& params) {
  using namespace intensity;
  DenoiseParams p;
  const std::string method = params.text("intensity.denoise");
  p.method = method == "gaussian"    ? DenoiseMethod::Gaussian
             : method == "median"    ? DenoiseMethod::Median
             : method == "bilateral" ? DenoiseMethod::Bilateral
             : method == "nlm"       ? DenoiseMethod::NonLocalMeans
                                     : DenoiseMethod::None;
  p.gaussianSigma = params.real("intensity.denoise_sigma");
  p.medianSize = int(params.integer("intensity.denoise_size"));
  if (p.medianSize % 2 == 0)
    throw Error("parameter intensity.denoise_size = " + std::to_string(p.medianSize) + " (" +
                params.resolved("intensity.denoise_size").origin + "); expected an odd number of pixels");
  p.bilateralSigmaGrey = params.real("intensity.denoise_bilateral_grey");
  p.bilateralSigmaPx = params.real("intensity.denoise_bilateral_px");
  p.nlmH = params.real("intensity.denoise_nlm_h");
  p.nlmPatchSize = int(params.integer("intensity.denoise_nlm_patch"));
  p.nlmPatchDistance = int(params.integer("intensity.denoise_nlm_distance"));
  return p;
}

intensity::IntensityParams intensityParamsFrom(const ParamSet& params) {
  using namespace intensity;
  IntensityParams p;
  const std::string brightness = params.text("intensity.brightness");
  p.brightness.method = brightness == "none"          ? BrightnessMethod::None
                        : brightness == "percentiles" ? BrightnessMethod::Percentiles
                                                      : BrightnessMethod::Histogram;
  p.brightness.reference = params.text("intensity.brightness_reference") == "first"
                               ? BrightnessReference::FirstSlice
                               : BrightnessReference::StackMedian;
  p.brightness.lowPercentile = params.real("intensity.brightness_low_percentile");
  p.brightness.highPercentile = params.real("intensity.brightness_high_percentile");

  const std::string shading = params.text("intensity.shading");
  p.shading.method = shading == "none"         ? ShadingMethod::None
                     : shading == "polynomial" ? ShadingMethod::Polynomial
                                               : ShadingMethod::Gaussian;
  p.shading.mode = params.text("intensity.shading_mode") == "subtract" ? ShadingMode::Subtract : ShadingMode::Divide;
  p.shading.sigma = params.real("intensity.shading_sigma");
  p.shading.polynomialOrder = int(params.integer("intensity.shading_order"));

  p.curtaining.enabled = params.boolean("intensity.curtaining");
  p.curtaining.stripeWidth = params.real("intensity.curtain_stripe_width");
  p.curtaining.bandHeight = params.real("intensity.curtain_band_height");

  p.enhance.clahe = params.boolean("intensity.clahe");
  p.enhance.claheClipLimit = params.real("intensity.clahe_clip_limit");
  p.enhance.claheTileSize = int(params.integer("intensity.clahe_tile_size"));
  p.enhance.gamma = params.real("intensity.gamma");
  return p;
}

}  // namespace fibseg::config
