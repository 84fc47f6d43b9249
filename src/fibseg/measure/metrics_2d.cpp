#include "fibseg/measure/metrics_2d.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <opencv2/imgproc.hpp>

#include "fibseg/core/error.hpp"
#include "fibseg/core/text.hpp"
#include "fibseg/measure/fractions.hpp"
#include "fibseg/measure/metrics_table.hpp"

namespace fibseg::measure {

const char* const kBoundaryLengthMethod =
    "marching squares on the raw labels, each cell's length divided by marching squares' exact over-read of a "
    "straight line at the local normal (from the indicator smoothed by two pixels), so straight lines read "
    "within 0.5 % and digitised discs (radius >= 6 px) within 1 %, thin features kept; interface a|b = (L_a + L_b - L_(a u b)) / 2; the "
    "image's own edges are not boundaries";

namespace {
using json = nlohmann::ordered_json;
using detail::csvCell;
using detail::phaseIndex;

// Cell corners: bit 0 = (x0, y0), bit 1 = (x1, y0), bit 2 = (x0, y1), bit 3 = (x1, y1). A pattern
// is the set of corners inside the phase; its contour joins the midpoints of the cell's edges.
struct PatternLengths {
  double length[16];
  PatternLengths(double dx, double dy) {
    const double diagonal = std::hypot(dx / 2, dy / 2);
    for (int p = 0; p < 16; ++p) {
      const int n = std::popcount(unsigned(p));
      if (n == 0 || n == 4) length[p] = 0;
      else if (n != 2) length[p] = diagonal;                // one corner cut off
      else if (p == 0b0011 || p == 0b1100) length[p] = dx;  // a row in: across the cell
      else if (p == 0b0101 || p == 0b1010) length[p] = dy;  // a column in
      else length[p] = 2 * diagonal;                        // saddle: two corners cut off
    }
  }
};

double overRead(const PatternLengths& lengths, double nx, double ny, double dx, double dy) {
  // Sweep the line across the cell: the pattern changes only where it passes a corner, so the
  // mean length per unit of line is sum_j length(pattern_j) * (p_(j+1) - p_j) / cell area.
  struct Corner {
    double p;
    int bit;
  } c[4] = {{0, 1}, {nx * dx, 2}, {ny * dy, 4}, {nx * dx + ny * dy, 8}};
  std::sort(std::begin(c), std::end(c), [](const Corner& a, const Corner& b) { return a.p < b.p; });
  int pattern = 0;
  double sum = 0;
  for (int j = 0; j < 3; ++j) {
    pattern |= c[j].bit;
    sum += lengths.length[pattern] * (c[j + 1].p - c[j].p);
  }
  return sum / (dx * dy);
}

/// Over-read at the normal given by a gradient; 1 where the gradient vanishes (no orientation).
double overReadAt(const PatternLengths& lengths, double gx, double gy, double dx, double dy) {
  const double g = std::hypot(gx, gy);
  if (!(g > 1e-12)) return 1.0;
  return overRead(lengths, gx / g, gy / g, dx, dy);
}

}  // namespace

double marchingSquaresLineOverRead(double nx, double ny, double dx, double dy) {
  const double n = std::hypot(nx, ny);
  return overRead(PatternLengths(dx, dy), nx / n, ny / n, dx, dy);
}

LengthSums boundaryLengths(const LabelVolume& v, double smoothingUm, int slabAxis, int slabs) {
  if (v.nz != 1) throw Error("boundaryLengths: expected one slice, got " + std::to_string(v.nz));
  const int W = v.nx, H = v.ny, K = v.phases();
  const double dx = v.voxelUm[0], dy = v.voxelUm[1];
  const PatternLengths lengths(dx, dy);
  const cv::Mat labels(H, W, CV_8U, const_cast<std::uint8_t*>(v.phase.data()));
  std::vector<cv::Mat> smooth(K);
  for (int p = 0; p < K; ++p) {
    cv::Mat indicator;
    cv::Mat(labels == p).convertTo(indicator, CV_32F, 1.0 / 255);
    if (smoothingUm > 0)
      cv::GaussianBlur(indicator, smooth[p], cv::Size(), smoothingUm / dx, smoothingUm / dy, cv::BORDER_REPLICATE);
    else
      smooth[p] = indicator;
  }
  LengthSums s;
  for (int a = 0; a < K; ++a)
    for (int b = a + 1; b < K; ++b) s.pairs.emplace_back(a, b);
  const int P = int(s.pairs.size());
  const int along = slabAxis == X ? W : slabAxis == Y ? H : 1;
  const int slabCount = slabAxis == Z ? 1 : slabs;
  s.phaseTotalUm.assign(K, 0);
  s.interfaceTotalUm.assign(P, 0);
  s.phasePerSlab.assign(slabCount, std::vector<double>(K, 0));
  s.interfacePerSlab.assign(slabCount, std::vector<double>(P, 0));
  std::vector<int> slabOfCoord(along);
  for (int i = 0; i < along; ++i) slabOfCoord[i] = slabAxis == Z ? 0 : slabOf(i, along, slabCount);

  std::vector<double> phaseLength(K), pairLength(P);
  // Cells join pixel centres; the row and column of cells half a pixel outside read the nearest
  // pixel (the boundary extruded straight to the edge) and count for the share of their corners
  // inside, so a line crossing the image is measured over the image's full width.
  for (int cy = -1; cy < H; ++cy) {
    const int y0 = std::max(cy, 0), y1 = std::min(cy + 1, H - 1);
    const int insideY = (cy >= 0) + (cy + 1 < H);
    const std::uint8_t* row0 = labels.ptr<std::uint8_t>(y0);
    const std::uint8_t* row1 = labels.ptr<std::uint8_t>(y1);
    for (int cx = -1; cx < W; ++cx) {
      const int x0 = std::max(cx, 0), x1 = std::min(cx + 1, W - 1);
      const int l00 = row0[x0], l10 = row0[x1], l01 = row1[x0], l11 = row1[x1];
      if (l00 == l10 && l00 == l01 && l00 == l11) continue;  // no boundary in this cell
      const int insideX = (cx >= 0) + (cx + 1 < W);
      const double weight = insideX * insideY / 4.0;
      auto patternOf = [&](int p) { return (l00 == p) | (l10 == p) << 1 | (l01 == p) << 2 | (l11 == p) << 3; };
      // Gradient of a smoothed field at the cell centre (zero across a border cell's clamped side).
      auto gradient = [&](const auto& field, double& gx, double& gy) {
        const double f00 = field(y0, x0), f10 = field(y0, x1), f01 = field(y1, x0), f11 = field(y1, x1);
        gx = x1 > x0 ? (f10 + f11 - f00 - f01) / (2 * dx) : 0.0;
        gy = y1 > y0 ? (f01 + f11 - f00 - f10) / (2 * dy) : 0.0;
      };
      for (int p = 0; p < K; ++p) {
        const int pattern = patternOf(p);
        phaseLength[p] = 0;
        if (pattern == 0 || pattern == 15) continue;
        double gx, gy;
        gradient([&](int y, int x) { return double(smooth[p].at<float>(y, x)); }, gx, gy);
        phaseLength[p] = weight * lengths.length[pattern] / overReadAt(lengths, gx, gy, dx, dy);
      }
      for (int k = 0; k < P; ++k) {
        const int a = s.pairs[k].first, b = s.pairs[k].second;  // not a structured binding: lambdas capture them
        pairLength[k] = 0;
        if (phaseLength[a] == 0 && phaseLength[b] == 0) continue;
        const int pattern = patternOf(a) | patternOf(b);
        double joint = 0;
        if (pattern != 0 && pattern != 15) {
          double gx, gy;
          gradient([&](int y, int x) { return double(smooth[a].at<float>(y, x)) + smooth[b].at<float>(y, x); }, gx, gy);
          joint = weight * lengths.length[pattern] / overReadAt(lengths, gx, gy, dx, dy);
        }
        pairLength[k] = (phaseLength[a] + phaseLength[b] - joint) / 2;
      }
      // The cell's lengths go in equal shares to its corners inside the image, hence to their slabs.
      const int xs[2] = {cx, cx + 1}, ys[2] = {cy, cy + 1};
      const int inside = insideX * insideY;
      for (int j = 0; j < 2; ++j)
        for (int i = 0; i < 2; ++i) {
          const int x = xs[i], y = ys[j];
          if (x < 0 || x >= W || y < 0 || y >= H) continue;
          const int slab = slabOfCoord[slabAxis == X ? x : slabAxis == Y ? y : 0];
          for (int p = 0; p < K; ++p) s.phasePerSlab[slab][p] += phaseLength[p] / inside;
          for (int k = 0; k < P; ++k) s.interfacePerSlab[slab][k] += pairLength[k] / inside;
        }
      for (int p = 0; p < K; ++p) s.phaseTotalUm[p] += phaseLength[p];
      for (int k = 0; k < P; ++k) s.interfaceTotalUm[k] += pairLength[k];
    }
  }
  return s;
}

bool isMetrics2d(const json& m) { return m.is_object() && m.value("dimensions", 3) == 2; }

json measureMetrics2d(const LabelVolume& v, const MetricsOptions& o) {
  if (v.nz != 1)
    throw Error("measureMetrics2d: expected a single slice, got " + std::to_string(v.nz) + " slices");
  if (o.electrode != "positive" && o.electrode != "negative")
    throw Error("measure.electrode = '" + o.electrode + "': expected positive or negative");
  if (o.slabAxis < 0 || o.slabAxis > 2) throw Error("measure.slab_axis: expected x, y or z");
  if (o.slabAxis == Z && o.slabs != 1)
    throw Error("measure.slab_axis = z with measure.slabs = " + std::to_string(o.slabs) +
                ": a single slice is one pixel deep along z; expected measure.slab_axis = x or y (or measure.slabs = 1)");
  const auto counts = countPhases(v, o.slabAxis, o.slabs);  // throws naming measure.slabs
  const auto fractions = volumeFractions(counts, v.voxels());
  const double dx = v.voxelUm[0], dy = v.voxelUm[1];
  // Two pixels orient the correction on shallow staircases (a 10-degree line's steps are ~6 px
  // long) where one pixel leaves +1.1 %: lines within 0.5 %, discs within 1 % (metrics_2d_test).
  const double smoothing = o.areaSmoothingUm > 0 ? o.areaSmoothingUm : 2 * std::min(dx, dy);
  const auto lengths = boundaryLengths(v, smoothing, o.slabAxis, o.slabs);
  const double pixelUm2 = dx * dy, areaUm2 = double(v.voxels()) * pixelUm2;
  const int activeMaterial = phaseIndex(v, o.activeMaterialPhase);
  const double isotropic = 4 / M_PI;  // S_V = (4 / pi) L_A for an isotropic structure (Saltykov)

  json j;
  j["dimensions"] = 2;
  j["voxel_size_um"] = v.voxelUm;
  j["pixel_size_um"] = {dx, dy};
  j["size_pixels"] = {v.nx, v.ny};
  j["options"] = {{"slabs", o.slabs},
                  {"slab_axis", axisName(o.slabAxis)},
                  {"electrolyte_phase", o.electrolytePhase},
                  {"active_material_phase", o.activeMaterialPhase},
                  {"electrode", o.electrode}};
  j["phases"] = json::object();
  for (int p = 0; p < v.phases(); ++p) {
    const double phaseArea = double(counts.total[p]) * pixelUm2;
    const double perArea = areaUm2 > 0 ? lengths.phaseTotalUm[p] / areaUm2 : 0.0;
    json ph;
    ph["area_fraction"] = fractions[p];
    ph["boundary_length_per_area_per_um"] = perArea;
    ph["specific_perimeter_per_um"] = phaseArea > 0 ? json(lengths.phaseTotalUm[p] / phaseArea) : json(nullptr);
    ph["surface_area_per_volume_if_isotropic_per_um"] = isotropic * perArea;
    j["phases"][v.phaseNames[p]] = ph;
  }
  j["interfaces"] = json::object();
  for (std::size_t k = 0; k < lengths.pairs.size(); ++k) {
    const auto [a, b] = lengths.pairs[k];
    const double perArea = areaUm2 > 0 ? lengths.interfaceTotalUm[k] / areaUm2 : 0.0;
    j["interfaces"][v.phaseNames[a] + "|" + v.phaseNames[b]] = {
        {"length_per_area_per_um", perArea}, {"surface_area_per_volume_if_isotropic_per_um", isotropic * perArea}};
  }

  const int n = v.size(o.slabAxis);
  const double step = v.voxelUm[o.slabAxis];
  json rows = json::array();
  for (int s = 0; s < o.slabs; ++s) {
    int from = n, to = 0;
    for (int c = 0; c < n; ++c)
      if (slabOf(c, n, o.slabs) == s) from = std::min(from, c), to = std::max(to, c + 1);
    const auto& cellCounts = counts.perSlabSlice[s][0];
    long long pixels = 0;
    for (long long c : cellCounts) pixels += c;
    json row = {{"slab", s}, {"from_voxel", from}, {"to_voxel", to}, {"from_um", from * step}, {"to_um", to * step}};
    for (int p = 0; p < v.phases(); ++p)
      row["area_fraction"][v.phaseNames[p]] = pixels ? double(cellCounts[p]) / pixels : 0.0;
    for (std::size_t k = 0; k < lengths.pairs.size(); ++k) {
      const auto [a, b] = lengths.pairs[k];
      row["interface_length_per_area_per_um"][v.phaseNames[a] + "|" + v.phaseNames[b]] =
          pixels ? lengths.interfacePerSlab[s][k] / (pixels * pixelUm2) : 0.0;
    }
    if (activeMaterial >= 0) {
      double total = 0;
      std::vector<double> touching(v.phases(), 0);
      for (std::size_t k = 0; k < lengths.pairs.size(); ++k) {
        const auto [a, b] = lengths.pairs[k];
        if (a != activeMaterial && b != activeMaterial) continue;
        const double x = std::max(0.0, lengths.interfacePerSlab[s][k]);
        touching[a == activeMaterial ? b : a] += x;
        total += x;
      }
      for (int p = 0; p < v.phases(); ++p)
        if (p != activeMaterial)
          row["active_material_boundary_share"][v.phaseNames[p]] = total > 0 ? json(touching[p] / total) : json(nullptr);
    }
    rows.push_back(row);
  }
  j["slabs"] = {{"axis", axisName(o.slabAxis)},
                {"count", o.slabs},
                {"statistics", "a single slice: each slab is a disjoint band across the image, its value measured "
                               "on that band (no spread over slices)"},
                {"active_material_boundary_share",
                 "share of the active material's boundary touching each other phase: length(AM|phase) / sum of "
                 "length(AM|every other phase); with pore, SE, CAM the SE share is CAM-SE / (CAM-SE + CAM-pore)"},
                {"rows", rows}};
  const std::string why = "not computed for a single slice: ";
  j["not_computed"] = {
      {"tortuosity_factor", why + "transport through the electrode runs in 3D; a section cannot tell whether "
                                  "two regions that look apart connect above or below it"},
      {"connectivity", why + "percolation and dead ends depend on paths out of the plane"},
      {"local_thickness", why + "the largest inscribed sphere needs the depth; a circle in a section "
                                "underestimates particle sizes (a section rarely cuts a particle through its centre)"}};
  j["method"] = {
      {"lengths", kBoundaryLengthMethod},
      {"area_fraction", "pixels of the phase / pixels of the region; by Delesse's principle it estimates the volume "
                        "fraction of a structure without preferred orientation along the cut"},
      {"specific_perimeter", "boundary length of the phase / area of the phase"},
      {"surface_area_per_volume_if_isotropic", "(4 / pi) x boundary length per area: the stereological surface "
                                               "area per volume of an isotropic structure (Saltykov)"}};
  return j;
}

std::string slabFractionsCsv2d(const json& m) {
  std::string csv = "slab,from_um,to_um";
  for (const auto& [name, ph] : m.at("phases").items()) csv += "," + csvField(name);
  csv += "\n";
  for (const auto& r : m.at("slabs").at("rows")) {
    csv += std::to_string(r.at("slab").get<int>()) + "," + csvCell(r.at("from_um")) + "," + csvCell(r.at("to_um"));
    for (const auto& [name, ph] : m.at("phases").items()) csv += "," + csvCell(r.at("area_fraction").at(name));
    csv += "\n";
  }
  return csv;
}

std::string slabInterfacesCsv2d(const json& m) {
  const auto& rows = m.at("slabs").at("rows");
  const std::string am = m.at("options").at("active_material_phase");
  std::vector<std::string> interfaces, shares;
  if (!rows.empty()) {
    for (const auto& [name, v] : rows[0].at("interface_length_per_area_per_um").items()) interfaces.push_back(name);
    if (rows[0].contains("active_material_boundary_share"))
      for (const auto& [name, v] : rows[0].at("active_material_boundary_share").items()) shares.push_back(name);
  }
  auto dashed = [](std::string name) {
    std::replace(name.begin(), name.end(), '|', '-');
    return name;
  };
  std::string csv = "slab,from_um,to_um";
  for (const auto& i : interfaces) csv += "," + csvField(dashed(i) + "_per_um");
  for (const auto& s : shares) csv += "," + csvField(am + "_boundary_share_" + s);
  csv += "\n";
  for (const auto& r : rows) {
    csv += std::to_string(r.at("slab").get<int>()) + "," + csvCell(r.at("from_um")) + "," + csvCell(r.at("to_um"));
    for (const auto& i : interfaces) csv += "," + csvCell(r.at("interface_length_per_area_per_um").at(i));
    for (const auto& s : shares) csv += "," + csvCell(r.at("active_material_boundary_share").at(s));
    csv += "\n";
  }
  return csv;
}

json pybammParameters2d(const json& m) {
  const auto& o = m.at("options");
  const std::string electrode = o.at("electrode");
  const std::string prefix = electrode == "negative" ? "Negative" : "Positive";
  const std::string electrolyte = o.at("electrolyte_phase"), am = o.at("active_material_phase");
  auto fraction = [&](const std::string& name) -> json {
    for (const auto& [key, ph] : m.at("phases").items())
      if (toLower(key) == toLower(name)) return ph.at("area_fraction");
    return nullptr;
  };
  json out, sources, missing;
  auto put = [&](const std::string& name, const json& value, const std::string& source) {
    if (value.is_number()) out[name] = value, sources[name] = source;
    else missing[name] = source;
  };
  const std::string delesse = " of a single slice (Delesse: the area fraction of a section estimates the volume fraction)";
  put(prefix + " electrode porosity", fraction(electrolyte),
      "area fraction of phase '" + electrolyte + "' (measure.electrolyte_phase)" + delesse);
  put(prefix + " electrode active material volume fraction", fraction(am),
      "area fraction of phase '" + am + "' (measure.active_material_phase)" + delesse);
  const std::string slice = "not available from a single slice: ";
  missing[prefix + " particle radius [m]"] = slice + "the local thickness needs a 3D volume";
  for (const char* what : {" electrode tortuosity factor (electrolyte)", " electrode Bruggeman coefficient (electrolyte)",
                           " electrode tortuosity factor (electrode)", " electrode Bruggeman coefficient (electrode)"})
    missing[prefix + what] = slice + "tortuosity needs a 3D volume";
  out["fibseg"] = {{"electrode", electrode},
                   {"electrolyte_phase", electrolyte},
                   {"active_material_phase", am},
                   {"voxel_size_um", m.at("voxel_size_um")},
                   {"dimensions", 2},
                   {"sources", sources},
                   {"not_available", missing}};
  return out;
}

std::string metrics2dSummaryLine(const json& m) {
  std::string line = "measure (one slice, 2D):";
  char text[160];
  bool first = true;
  for (const auto& [name, ph] : m.at("phases").items()) {
    std::snprintf(text, sizeof text, "%s %s %.3f", first ? "" : ",", name.c_str(), ph.at("area_fraction").get<double>());
    line += text;
    first = false;
  }
  line += ";";
  first = true;
  for (const auto& [name, in] : m.at("interfaces").items()) {
    std::snprintf(text, sizeof text, "%s %s %.3f", first ? "" : ",", name.c_str(),
                  in.at("length_per_area_per_um").get<double>());
    line += text;
    first = false;
  }
  return line + " µm^-1 (interface length per area; tortuosity, connectivity, local thickness need 3D)";
}

}  // namespace fibseg::measure
