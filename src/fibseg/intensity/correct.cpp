// The whole intensity chain in its fixed order, with the before/after numbers of brightness.csv.
#include "fibseg/core/image.hpp"
#include "fibseg/intensity/intensity.hpp"

namespace fibseg::intensity {

CorrectedSlice correctIntensity(const cv::Mat& slice, const BrightnessStats& reference,
                                const IntensityParams& params) {
  const BrightnessStats before = measureBrightness(slice);
  cv::Mat image = equaliseBrightness(slice, before, reference, params.brightness);
  image = correctShading(image, params.shading);
  image = removeCurtaining(image, params.curtaining);
  image = enhanceContrast(image, params.enhance);
  const BrightnessStats after = measureBrightness(image);
  CorrectedSlice result;
  result.image = image;
  result.brightness = {before.median(), before.p05(), before.p95(), after.median(), after.p05(), after.p95()};
  return result;
}

}  // namespace fibseg::intensity
