#pragma once
// A synthetic FIB-SEM backscatter (BSE) slice series with known truth, deterministic from a seed.
// The sample is a 3D packing of overlapping spheres: active-material grains (CAM, brightest, each
// grain its own grey level), pores carved out of the rest, solid electrolyte (SE, mid grey with a
// fine texture) in between. Each slice is the sample's cross-section at depth z as the microscope
// would show it: pores reveal blurred material from deeper slices (the pore-back effect), the
// content drifts (random walk plus steady drift), and the detector adds per-slice gain/offset,
// top-to-bottom shading, vertical curtaining stripes, blur, noise and a data bar at the bottom.
// Optionally the top rows show a protective cap: a textured band that is the same in every slice
// (the deposited platinum layer seen edge-on) and drifts with the sample, a reference for
// registration that, unlike grains, does not change through depth.
#include <opencv2/core.hpp>

#include <vector>

namespace fibseg::phantom {

struct PhantomParams {
  int width = 512;          // full image width, px
  int height = 384;         // full image height including the data bar, px
  int slices = 32;
  unsigned seed = 1;
  int bitDepth = 8;         // 8 or 16
  int dataBarRows = -1;     // -1: about 7% of the height; 0: no bar
  double camFraction = 0.5;   // volume fraction of active material
  double poreFraction = 0.1;  // volume fraction of pores
  double camRadius = 0;       // mean CAM grain radius, px; 0: 6% of the smaller side
  double poreRadius = 0;      // mean pore radius, px; 0: 40% of camRadius
  double steadyDriftX = 0.35;  // px per slice
  double steadyDriftY = -0.25;
  double randomWalk = 0.5;     // px (standard deviation) per slice, each axis
  double gainJitter = 0.05;    // relative standard deviation of per-slice gain
  double offsetJitter = 5;     // grey levels (8-bit scale) standard deviation of per-slice offset
  double brightnessTrend = 0.12;  // relative gain change from first to last slice (beam drift)
  double shading = 0.15;       // relative darkening from top to bottom
  double curtaining = 10;      // stripe amplitude, grey levels (8-bit scale)
  double poreBack = 0.45;      // fraction of the material contrast seen through a pore
  double blur = 0.8;           // point-spread function sigma, px
  double noise = 5;            // Gaussian noise sigma, grey levels (8-bit scale)
  int capRows = 0;             // rows of protective cap at the top of the content (at slice 0); 0 = none
  double pixelSizeNm = 10;
  double sliceThicknessNm = 10;
};

class Phantom {
 public:
  explicit Phantom(const PhantomParams& params);

  const PhantomParams& params() const { return params_; }
  int dataBarRows() const { return barRows_; }
  int contentHeight() const { return params_.height - barRows_; }

  /// What the microscope records for slice z: width x height, CV_8U or CV_16U.
  cv::Mat rawSlice(int z) const;
  /// True phase labels of slice z (0 pore, 1 SE, 2 CAM), CV_8U, in slice 0's frame, without
  /// the data bar: width x contentHeight.
  cv::Mat truthLabels(int z) const;
  /// Displacement of slice z's content relative to slice 0's, px (image = sample + shift).
  cv::Point2d shift(int z) const { return shifts_.at(z); }

 private:
  struct Sphere {
    double x, y, z, r;
    float grey;  // CAM grains: own grey level (8-bit scale); pores: unused
  };
  cv::Mat worldLabels(int z, cv::Mat* camGrey) const;
  cv::Mat worldIntensity(int z) const;

  PhantomParams params_;
  int barRows_ = 0;
  int margin_ = 0;  // world is larger than the frame by this on every side (drift room)
  std::vector<Sphere> cam_, pores_;  // sorted by z
  double maxCamRadius_ = 0, maxPoreRadius_ = 0;
  std::vector<cv::Point2d> shifts_;
  cv::Mat curtainProfile_;  // 1 x width, stripe amplitude per column
};

}  // namespace fibseg::phantom
