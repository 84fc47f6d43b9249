#pragma once
// The registration's registry defaults (config/params_align.cpp), for the tests that link only
// the align stage.
#include "fibseg/align/align.hpp"

namespace fibseg::align {

inline RegistrationParams registryDefaults() {
  return {.maxShiftPx = 0, .fineSigmaPx = 1.0, .coarseSigmaPx = 20, .suppressCurtaining = true,
          .minQuality = 1.5, .bridgeFlagged = true, .referenceSlices = 8, .smoothingSlices = 0, .scale = 0};
}

}  // namespace fibseg::align
