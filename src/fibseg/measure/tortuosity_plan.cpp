#include "fibseg/measure/tortuosity_plan.hpp"

#include <cstdio>

#include "fibseg/core/error.hpp"
#include "fibseg/core/text.hpp"

namespace fibseg::measure {
namespace {

std::vector<std::string> splitOn(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::string part;
  for (char c : text + sep) {
    if (c != sep) {
      part += c;
      continue;
    }
    parts.push_back(trim(part));
    part.clear();
  }
  return parts;
}

/// "z", "xy", "x,z", "x+z" -> axes; empty = all three.
std::array<bool, 3> parseAxes(const std::string& text, const std::string& what, const std::string& whole) {
  std::array<bool, 3> axes{false, false, false};
  bool any = false;
  for (char c : toLower(text)) {
    if (c == ',' || c == '+' || c == ' ') continue;
    if (c != 'x' && c != 'y' && c != 'z')
      throw Error(what + " '" + whole + "': axis '" + std::string(1, c) + "': expected x, y or z");
    axes[c - 'x'] = true;
    any = true;
  }
  if (!any) axes = {true, true, true};
  return axes;
}

std::string fixed(double v, int digits) {
  char text[48];
  std::snprintf(text, sizeof text, "%.*f", digits, v);
  return text;
}

}  // namespace

bool TortuositySelection::asks(const std::string& phase, int axis) const {
  for (const auto& [name, axes] : entries)
    if ((name == "*" || toLower(name) == toLower(phase)) && axes[axis]) return true;
  return false;
}

TortuositySelection parseTortuositySelection(const std::string& text, const std::string& what) {
  TortuositySelection s;
  s.named = true;
  s.origin = what;
  s.entries.clear();
  const std::string t = toLower(trim(text));
  if (t == "none") return s;
  if (t.empty()) throw Error(what + ": empty; expected PHASE[:AXES],... (e.g. pore:z,se), all or none");
  for (const auto& entry : splitOn(text, ',')) {
    if (entry.empty()) throw Error(what + " '" + text + "': an empty entry; expected PHASE[:AXES],...");
    const auto colon = entry.find(':');
    std::string name = trim(entry.substr(0, colon));
    if (name.empty()) throw Error(what + " '" + text + "': an entry without a phase name");
    if (toLower(name) == "all") name = "*";
    s.entries.emplace_back(name, parseAxes(colon == std::string::npos ? "" : entry.substr(colon + 1), what, text));
  }
  return s;
}

TortuositySelection tortuositySelectionFrom(const std::string& phases, const std::string& axes, const std::string& what) {
  TortuositySelection s;
  s.origin = what;
  s.entries.clear();
  const auto a = parseAxes(axes, what, axes);
  const std::string t = toLower(trim(phases));
  if (t == "none") return s;
  if (t == "all" || t.empty()) {
    s.entries.emplace_back("*", a);
    return s;
  }
  for (const auto& name : splitOn(phases, ',')) {
    if (name.empty()) throw Error(what + " '" + phases + "': an empty phase name");
    s.entries.emplace_back(name, a);
  }
  return s;
}

std::string sizesNotRepresentative(const LabelVolume& v, const std::array<double, 3>& chord, double minChords) {
  if (minChords <= 0) return "";
  for (int b = 0; b < 3; ++b)
    if (v.size(b) < minChords * chord[b])
      return "not representative: the volume is " + std::to_string(v.size(b)) + " voxels along " + axisName(b) +
             ", fewer than " + fixed(minChords, 0) + " of the phase's mean chords along " + axisName(b) + " (" +
             fixed(chord[b], 1) + " voxels; measure.sizes_min_chords): its features are cut by the faces";
  return "";
}

double estimatedSolveSeconds(std::size_t voxels) {
  // Nine solves took 50 s on TauFactor's 256^3 electrode (2 cores): ~0.3 µs per voxel and solve.
  // A poorly connected phase needs more iterations; this is for "seconds or hours", no more.
  return 3e-7 * double(voxels);
}

TortuosityPlan planTortuosity(const LabelVolume& v, const TortuositySelection& sel, double minChords,
                              const std::vector<std::array<double, 3>>& chords, const std::vector<long long>& phaseVoxels,
                              const SolveCost& cost) {
  for (const auto& [name, axes] : sel.entries) {
    bool known = name == "*";
    for (const auto& phase : v.phaseNames) known = known || toLower(phase) == toLower(name);
    if (!known) {
      std::string names;
      for (const auto& phase : v.phaseNames) names += (names.empty() ? "" : ", ") + phase;
      throw Error(sel.origin + ": phase '" + name + "' is not one of the volume's phases (" + names + ")");
    }
  }
  TortuosityPlan plan;
  plan.phases.resize(v.phases());
  std::string solved, skipped;
  for (int p = 0; p < v.phases(); ++p)
    for (int a = 0; a < 3; ++a) {
      auto& s = plan.phases[p][a];
      const std::string label = v.phaseNames[p] + ":" + axisName(a);
      if (!sel.asks(v.phaseNames[p], a)) {
        s.reason = "not asked for (" + sel.origin + ")";
        continue;
      }
      if (phaseVoxels[p] == 0) {
        s.reason = "the phase is absent";
        continue;
      }
      if (!sel.named && minChords > 0) {
        for (int b = 0; b < 3 && s.reason.empty(); ++b) {
          const double chord = chords[p][b];
          if (v.size(b) < minChords * chord)
            s.reason = "not representative: the volume is " + std::to_string(v.size(b)) + " voxels along " +
                       axisName(b) + ", fewer than " + fixed(minChords, 0) + " of the phase's mean chords along " +
                       axisName(b) + " (" + fixed(chord, 1) + " voxels; measure.tortuosity_min_chords); solve it " +
                       "anyway with --tortuosity " + label + " (in a parameter file: measure.tortuosity_phases and _axes)";
        }
        if (!s.reason.empty()) {
          skipped += (skipped.empty() ? "" : ", ") + label;
          continue;
        }
      }
      s.solve = true;
      ++plan.solves;
      solved += (solved.empty() ? "" : ", ") + label;
    }
  const double perSolve = cost.voxels > 0 ? cost.voxels : double(v.voxels());
  plan.estimatedSeconds = plan.solves * estimatedSolveSeconds(std::size_t(perSolve));
  if (plan.solves == 0) plan.summary = "tortuosity: nothing to solve";
  else
    plan.summary = "tortuosity: " + std::to_string(plan.solves) + " solve" + (plan.solves > 1 ? "s" : "") + " (" +
                   solved + ")" + (cost.how.empty() ? "" : " " + cost.how) + ", roughly " +
                   fixed(plan.estimatedSeconds, plan.estimatedSeconds < 10 ? 1 : 0) + " s";
  if (!skipped.empty()) plan.summary += "; skipped as not representative (volume too short for the features): " + skipped;
  return plan;
}

}  // namespace fibseg::measure
