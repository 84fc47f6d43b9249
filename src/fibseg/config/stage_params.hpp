#pragma once
// Each stage's parameters are declared in config/params_<stage>.cpp: the specs (for the
// registry) and the function that fills the stage's parameter struct from a ParamSet.
#include <vector>

#include "fibseg/config/registry.hpp"

namespace fibseg::config {

std::vector<ParamSpec> inputParameterSpecs();
std::vector<ParamSpec> outputParameterSpecs();
std::vector<ParamSpec> alignParameterSpecs();
std::vector<ParamSpec> intensityParameterSpecs();
std::vector<ParamSpec> segmentParameterSpecs();
std::vector<ParamSpec> learnParameterSpecs();
std::vector<ParamSpec> phasesParameterSpecs();
std::vector<ParamSpec> measureParameterSpecs();

}  // namespace fibseg::config
