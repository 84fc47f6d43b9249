#pragma once
// Particle sizes by particle: touching particles of one phase are split by a distance-transform
// watershed, as PoreSpy's SNOW (Gostick, Phys. Rev. E 96, 023307, 2017): the distance transform
// is smoothed (Gaussian, sigma 0.4 voxel), its local maxima within a cube of +-4 voxels are the
// markers, plateaus of equal maxima are one marker, and a marker lying inside the inscribed
// sphere of a larger one is dropped (SNOW's trimming of nearby peaks; saddle trimming is not
// done); the phase is then flooded from the markers down the distance transform. Each particle's
// volume, equivalent-sphere diameter (6 V / pi)^(1/3), surface area and sphericity follow;
// particles touching the volume's faces are cut by it and can be left out (TauFactor's
// remove_boundary_features), with the share removed reported.
#include <array>
#include <cstdint>
#include <vector>

#include "fibseg/measure/volume.hpp"

namespace fibseg::measure {

struct Particle {
  std::uint32_t label = 0;                 // in the label field (1 ..)
  long long voxels = 0;
  double volumeUm3 = 0, equivalentDiameterUm = 0, surfaceAreaUm2 = 0, sphericity = 0;
  std::array<double, 3> centroidUm{};
  bool touchesBoundary = false;
};

struct ParticleSizes {
  std::vector<Particle> particles;  // the kept ones, by label
  int initialCount = 0, keptCount = 0;
  double removedCountFraction = 0, removedVolumeFraction = 0;  // of the particles before removal
};

/// The watershed's particle labels of `phase` (0 outside the phase), 1 .. count.
std::vector<std::uint32_t> splitParticles(const LabelVolume& volume, int phase);

/// Measures labelled particles (any labelling: the watershed's, or another tool's). The surface
/// area counts the voxel faces between a particle and anything else (the volume's faces
/// excluded), each face of area A_a weighted by 2/3, the mean of 1 / (|n_x| + |n_y| + |n_z|)
/// over isotropic orientations, so that a sphere's area is unbiased (raw face counting
/// overestimates it by ~50 %). Sphericity = pi^(1/3) (6 V)^(2/3) / area.
ParticleSizes measureParticles(const LabelVolume& volume, const std::vector<std::uint32_t>& labels,
                               bool removeBoundaryParticles);

/// splitParticles then measureParticles.
ParticleSizes particleSizes(const LabelVolume& volume, int phase, bool removeBoundaryParticles);

}  // namespace fibseg::measure
