// The whole intensity chain in its fixed order, with the before/after numbers of brightness.csv.
#include "fibseg/core/image.hpp"
#include "fibseg/intensity/intensity.hpp"

namespace fibseg::intensity {

CorrectedSlice correctIntensity(const cv::Mat& slice, const BrightnessStats& reference,
                                const IntensityParams& params) {
  const BrightnessStats before = measureBrightness(slice);
  cv::Mat image = equaliseBrightness(slice, before, reference, params.brightness);
  // A step that is off is skipped: each returns a copy of its input then (a slice's worth of
  // memory traffic apiece). The equalised image is already the slice's own copy.
  if (params.shading.method != ShadingMethod::None) image = correctShading(image, params.shading);
  if (params.curtaining.enabled) image = removeCurtaining(image, params.curtaining);
  if (params.enhance.clahe || params.enhance.gamma != 1.0) image = enhanceContrast(image, params.enhance);
  const BrightnessStats after = measureBrightness(image);
  CorrectedSlice result;
  result.image = image;
  result.brightness = {before.median(), before.p05(), before.p95(), after.median(), after.p05(), after.p95()};
  return result;
}

}  // namespace fibseg::intensity
