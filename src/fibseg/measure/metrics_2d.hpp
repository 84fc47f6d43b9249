#pragma once
// Metrics of a single slice (a 2D label image: a LabelVolume with nz = 1), for users of one SEM
// image or a one-slice run: area fractions, boundary length per area of each phase and of each
// interface, the specific perimeter, and the profiles across the image in slabs. Lengths are
// marching squares on the raw labels, each cell's length divided by marching squares' exact
// over-read of a straight line at the local normal: the 2D counterpart of the 3D areas
// (surface_area.hpp), right for curved and straight boundaries alike, thin features kept.
// Tortuosity, connectivity and local thickness need the depth: metrics.json lists them as not
// computed, with the reason.
#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "fibseg/measure/metrics.hpp"
#include "fibseg/measure/volume.hpp"

namespace fibseg::measure {

/// How boundaryLengths estimates, in one sentence for the reader (metrics.json, the report).
extern const char* const kBoundaryLengthMethod;

struct LengthSums {
  std::vector<std::pair<int, int>> pairs;        // interfaces (a < b)
  std::vector<double> phaseTotalUm;              // [phase] boundary length, µm
  std::vector<double> interfaceTotalUm;          // [pair]
  std::vector<std::vector<double>> phasePerSlab;      // [slab][phase]; adds up to the totals
  std::vector<std::vector<double>> interfacePerSlab;  // [slab][pair]
};

/// Mean marching-squares length per unit length of a straight line of unit normal (nx, ny), with
/// cells of dx by dy µm: 1 on axis lines and on the cell diagonals, about 1.08 at 26.6 degrees.
double marchingSquaresLineOverRead(double nx, double ny, double dx, double dy);

/// Boundary lengths of a one-slice volume (nz must be 1). `smoothingUm` = sigma of the Gaussian
/// whose gradient orients the correction (two pixels is right; it never moves a boundary). The
/// image's own edges are not boundaries. Slabs along x or y (z: one slab).
LengthSums boundaryLengths(const LabelVolume& slice, double smoothingUm, int slabAxis, int slabs);

/// The metrics object of a one-slice volume ("dimensions": 2; keys in README "fibseg measure").
/// Throws fibseg::Error when nz != 1, for slabs outside 1 .. the size along the slab axis, and for
/// a slab axis z with more than one slab.
nlohmann::ordered_json measureMetrics2d(const LabelVolume& slice, const MetricsOptions& options);

/// True for the object measureMetrics2d makes.
bool isMetrics2d(const nlohmann::ordered_json& metrics);

/// slab_fractions.csv of a slice: slab,from_um,to_um,<phase>,... (area fractions).
std::string slabFractionsCsv2d(const nlohmann::ordered_json& metrics);
/// slab_interfaces.csv of a slice: slab,from_um,to_um,<a>-<b>_per_um,...,<am>_boundary_share_<phase>,...
std::string slabInterfacesCsv2d(const nlohmann::ordered_json& metrics);
/// metrics_pybamm.json of a slice: porosity and active material fraction from the area fractions
/// (Delesse: an area fraction estimates the volume fraction); the rest not available, with why.
nlohmann::ordered_json pybammParameters2d(const nlohmann::ordered_json& metrics);
/// One console line: fractions and interface lengths per area.
std::string metrics2dSummaryLine(const nlohmann::ordered_json& metrics);

}  // namespace fibseg::measure
