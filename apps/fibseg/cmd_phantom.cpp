// `fibseg phantom OUT`: a synthetic FIB-SEM slice series with ground truth (phantom/phantom.hpp).
#include <iostream>

#include "commands.hpp"
#include "fibseg/phantom/write_phantom.hpp"

namespace fibseg::cli {

void addPhantomCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("phantom", "Write a synthetic slice series with known truth");
  auto params = std::make_shared<phantom::PhantomParams>();
  auto folder = std::make_shared<std::string>();
  auto multiPage = std::make_shared<bool>(false);
  cmd->add_option("OUT", *folder, "Output folder")->required();
  cmd->add_option("--width", params->width, "Image width, px")->capture_default_str()->check(CLI::Range(32, 1 << 15));
  cmd->add_option("--height", params->height, "Image height including the data bar, px")->capture_default_str()->check(CLI::Range(32, 1 << 15));
  cmd->add_option("--slices", params->slices, "Number of slices")->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--seed", params->seed, "Random seed (same seed, same phantom)")->capture_default_str();
  cmd->add_option("--bit-depth", params->bitDepth, "8 or 16")->capture_default_str()->check(CLI::IsMember({8, 16}));
  cmd->add_option("--data-bar-rows", params->dataBarRows, "Rows of the data bar (-1: about 7% of the height)")->capture_default_str();
  cmd->add_option("--cam-fraction", params->camFraction, "Volume fraction of active material")->capture_default_str();
  cmd->add_option("--pore-fraction", params->poreFraction, "Volume fraction of pores")->capture_default_str();
  cmd->add_option("--cam-radius", params->camRadius, "Mean active-material grain radius, px (0: 6% of the smaller side)")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--random-walk", params->randomWalk, "Drift random walk per slice, px")->capture_default_str();
  cmd->add_option("--drift-x", params->steadyDriftX, "Steady drift per slice in x, px")->capture_default_str();
  cmd->add_option("--drift-y", params->steadyDriftY, "Steady drift per slice in y, px")->capture_default_str();
  cmd->add_option("--curtaining", params->curtaining, "Curtaining stripe amplitude, grey levels")->capture_default_str();
  cmd->add_option("--shading", params->shading, "Top-to-bottom shading, relative")->capture_default_str();
  cmd->add_option("--gain-jitter", params->gainJitter, "Per-slice brightness gain, relative standard deviation")->capture_default_str();
  cmd->add_option("--brightness-trend", params->brightnessTrend, "Gain change from first to last slice, relative")->capture_default_str();
  cmd->add_option("--noise", params->noise, "Noise sigma, grey levels (8-bit scale)")->capture_default_str();
  cmd->add_option("--cap-rows", params->capRows, "Protective cap at the top: rows of a band that is the same in every slice and drifts with the sample (0: none)")->capture_default_str();
  cmd->add_option("--pixel-size-nm", params->pixelSizeNm, "Pixel size written to the TIFFs, nm")->capture_default_str();
  cmd->add_flag("--multi-page", *multiPage, "Write raw.tif (one multi-page TIFF) instead of raw/slice_NNNN.tif");
  cmd->callback([=] {
    phantom::writePhantom(*params, *folder, *multiPage);
    std::cout << "phantom: " << params->slices << " slices of " << params->width << "x" << params->height
              << " (" << params->bitDepth << "-bit) in " << *folder << "\n";
  });
}

}  // namespace fibseg::cli
