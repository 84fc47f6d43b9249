// Parameters naming the phases of a run: names, the grey values written for them and their
// colours. Defaults are the classical three, with the original notebook's colours.
#include <sstream>

#include "fibseg/config/param_set.hpp"
#include "fibseg/config/stage_params.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/core/phases.hpp"
#include "fibseg/core/text.hpp"

namespace fibseg::config {

std::vector<ParamSpec> phasesParameterSpecs() {
  std::vector<ParamSpec> specs;
  const std::string s = "phases";
  specs.push_back({.section = s, .key = "names", .type = ParamType::Text, .defaultValue = "pore, SE, CAM",
                   .description = "The phases, comma-separated, 2 to 8 of them, darkest first is customary but "
                                  "not needed. The classical path (segment.method = otsu) makes exactly pore, SE, "
                                  "CAM; the pixel classifier learns whatever phases are named here (e.g. "
                                  "'particle, rest' or 'pore, CAM, SE, carbon'), and every named phase needs "
                                  "strokes. Names head the columns of phase_fractions.csv."});
  specs.push_back({.section = s, .key = "values", .type = ParamType::RealList, .defaultValue = "0, 1, 2",
                   .min = 0.0, .max = 255.0,
                   .description = "Grey value written for each phase (same order as names) in labels.tif and "
                                  "segmented/labels_NNNN.png. Use e.g. 0, 128, 255 to see the phases in an "
                                  "ordinary image viewer."});
  specs.push_back({.section = s, .key = "colours", .type = ParamType::Text,
                   .defaultValue = "247 247 247; 239 138 98; 98 138 239",
                   .description = "Colour of each phase (same order as names) in segmented/colour_NNNN.png and "
                                  "the report, as red green blue 0-255, phases separated by ';'. Default: the "
                                  "original notebook's pores light grey, SE orange, CAM blue. Annotations for "
                                  "`fibseg train` may be painted in these colours."});
  return specs;
}

namespace {

std::vector<std::string> splitTrimmed(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, separator)) parts.push_back(trim(part));
  if (!text.empty() && text.back() == separator) parts.push_back("");
  return parts;
}

}  // namespace

PhaseSet phasesFrom(const ParamSet& params) {
  PhaseSet phases;
  const auto& namesValue = params.resolved("phases.names");
  for (auto& n : splitTrimmed(params.text("phases.names"), ',')) phases.names.push_back(n);
  for (double v : params.realList("phases.values")) {
    if (v != static_cast<int>(v))
      throw Error("parameter phases.values (" + params.resolved("phases.values").origin + "): " + formatNumber(v) +
                  " is not a whole number; expected grey values 0 to 255");
    phases.values.push_back(static_cast<std::uint8_t>(v));
  }
  const std::string colourOrigin = "parameter phases.colours (" + params.resolved("phases.colours").origin + ")";
  for (const auto& colour : splitTrimmed(params.text("phases.colours"), ';')) {
    std::string spaced = colour;
    for (auto& c : spaced)
      if (c == ',') c = ' ';
    std::stringstream in(spaced);
    std::array<std::uint8_t, 3> rgb{};
    int channels = 0;
    std::string word;
    while (in >> word) {
      std::size_t used = 0;
      int v = -1;
      try {
        v = std::stoi(word, &used);
      } catch (const std::exception&) {
      }
      if (used != word.size() || v < 0 || v > 255 || channels >= 3)
        throw Error(colourOrigin + ": '" + colour + "' is not a colour; expected three numbers 0-255 (red green "
                    "blue) per phase, phases separated by ';', e.g. 247 247 247; 239 138 98; 98 138 239");
      rgb[channels++] = static_cast<std::uint8_t>(v);
    }
    if (channels != 3)
      throw Error(colourOrigin + ": '" + colour + "' is not a colour; expected three numbers 0-255 (red green "
                  "blue) per phase, phases separated by ';'");
    phases.coloursRgb.push_back(rgb);
  }
  phases.check("parameters phases.names/values/colours (names from " + namesValue.origin + ")");
  return phases;
}

}  // namespace fibseg::config
