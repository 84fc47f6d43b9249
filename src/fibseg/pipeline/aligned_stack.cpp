#include "fibseg/pipeline/aligned_stack.hpp"

namespace fibseg::pipeline {
using nlohmann::json;

json toJson(const AlignedStack& s, const std::string& fingerprint, const std::string& parameters) {
  json transforms = json::array();
  for (const auto& t : s.transforms) transforms.push_back({t.shift.x, t.shift.y, t.peak, t.flagged, t.quality});
  json brightness = json::array();
  for (const auto& b : s.brightness)
    brightness.push_back({b.medianBefore, b.p05Before, b.p95Before, b.medianAfter, b.p05After, b.p95After});
  return {{"fingerprint", fingerprint},
          {"parameters", parameters},
          {"output_rect", {s.outputRect.x, s.outputRect.y, s.outputRect.width, s.outputRect.height}},
          {"bit_depth", s.bitDepth},
          {"stack_otsu_threshold", s.stackOtsuThreshold},
          {"transforms", transforms},
          {"comparison_offset", {s.comparisonOffset.x, s.comparisonOffset.y}},
          {"brightness", brightness},
          {"histogram", s.histogram},
          {"reference", {{"quantiles", s.reference.quantiles}, {"bit_depth", s.reference.bitDepth}}}};
}

AlignedStack alignedStackFromJson(const json& j) {
  AlignedStack s;
  for (const auto& t : j.at("transforms"))
    s.transforms.push_back({{t[0].get<double>(), t[1].get<double>()}, t[2].get<double>(), t[3].get<bool>(),
                            t.size() > 4 ? t[4].get<double>() : 0.0});
  if (j.contains("comparison_offset"))
    s.comparisonOffset = {j["comparison_offset"][0].get<double>(), j["comparison_offset"][1].get<double>()};
  for (const auto& b : j.at("brightness"))
    s.brightness.push_back({b[0], b[1], b[2], b[3], b[4], b[5]});
  const auto& r = j.at("output_rect");
  s.outputRect = cv::Rect(r[0], r[1], r[2], r[3]);
  s.bitDepth = j.at("bit_depth");
  s.stackOtsuThreshold = j.at("stack_otsu_threshold");
  s.histogram = j.at("histogram").get<std::vector<std::uint64_t>>();
  if (j.contains("reference")) {  // doubles round-trip exactly through JSON
    s.reference.quantiles = j["reference"].at("quantiles").get<std::vector<double>>();
    s.reference.bitDepth = j["reference"].at("bit_depth").get<int>();
    s.hasReference = true;
  }
  return s;
}

}  // namespace fibseg::pipeline
