// The phases and denoising parameters: defaults, parsing and the errors a user can meet.
#include <gtest/gtest.h>

#include "fibseg/config/param_set.hpp"
#include "fibseg/core/error.hpp"
#include "fibseg/core/phases.hpp"
#include "fibseg/intensity/denoise.hpp"

using namespace fibseg;

namespace {
std::string errorOf(const config::ParamSet& set) {
  try {
    config::phasesFrom(set);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(PhasesParams, DefaultsAreTheClassicalThreeInTheNotebookColours) {
  const PhaseSet p = config::phasesFrom(config::ParamSet::defaults());
  EXPECT_EQ(p.names, (std::vector<std::string>{"pore", "SE", "CAM"}));
  EXPECT_EQ(p.values, (std::vector<std::uint8_t>{0, 1, 2}));
  ASSERT_EQ(p.coloursRgb.size(), 3u);
  EXPECT_EQ(p.coloursRgb[0], (std::array<std::uint8_t, 3>{247, 247, 247}));
  EXPECT_EQ(p.coloursRgb[1], (std::array<std::uint8_t, 3>{239, 138, 98}));
  EXPECT_EQ(p.coloursRgb[2], (std::array<std::uint8_t, 3>{98, 138, 239}));
  EXPECT_TRUE(p.isClassicalThree());
  EXPECT_EQ(p.key(1), "se");
}

TEST(PhasesParams, FourNamedPhasesAndTheirErrors) {
  auto set = config::ParamSet::defaults();
  set.set("phases.names", "pore, CAM, SE, carbon black", "test");
  set.set("phases.values", "0, 85, 170, 255", "test");
  set.set("phases.colours", "247 247 247; 98,138,239; 239 138 98; 20 20 20", "test");
  const PhaseSet p = config::phasesFrom(set);
  EXPECT_EQ(p.count(), 4);
  EXPECT_FALSE(p.isClassicalThree());
  EXPECT_EQ(p.key(3), "carbon_black");
  EXPECT_EQ(p.coloursRgb[1], (std::array<std::uint8_t, 3>{98, 138, 239}));

  set.set("phases.values", "0, 85, 170", "test");
  EXPECT_NE(errorOf(set).find("3 label values for 4 phases"), std::string::npos) << errorOf(set);
  set.set("phases.values", "0, 85, 85, 255", "test");
  EXPECT_NE(errorOf(set).find("same label value 85"), std::string::npos) << errorOf(set);
  set.set("phases.values", "0, 85, 170, 255", "test");
  set.set("phases.colours", "247 247 247; 98 138; 1 2 3; 4 5 6", "test");
  EXPECT_NE(errorOf(set).find("'98 138' is not a colour"), std::string::npos) << errorOf(set);
  set.set("phases.names", "pore", "test");
  set.set("phases.values", "0", "test");
  set.set("phases.colours", "1 2 3", "test");
  EXPECT_NE(errorOf(set).find("expected 2 to 8"), std::string::npos) << errorOf(set);
  set.set("phases.names", "a, b, c, d, e, f, g, h, i", "test");
  EXPECT_NE(errorOf(set).find("9 phases"), std::string::npos) << errorOf(set);
  set.set("phases.names", "pore, Pore", "test");
  set.set("phases.values", "0, 1", "test");
  set.set("phases.colours", "1 2 3; 4 5 6", "test");
  EXPECT_NE(errorOf(set).find("'Pore' appears twice"), std::string::npos) << errorOf(set);
}

TEST(DenoiseParams, DefaultIsGaussianOfTwoPixels) {
  const auto defaults = config::denoiseParamsFrom(config::ParamSet::defaults());
  EXPECT_EQ(defaults.method, intensity::DenoiseMethod::Gaussian);
  EXPECT_EQ(intensity::describeDenoise(defaults), "gaussian sigma=2 px");
  auto set = config::ParamSet::defaults();
  set.set("intensity.denoise_size", "6", "test");
  EXPECT_THROW(config::denoiseParamsFrom(set), Error);
  EXPECT_THROW(set.set("intensity.denoise", "wiener", "test"), Error);
}
