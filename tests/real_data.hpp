#pragma once
// Real microscope data lives in ../shared/data/real beside the project (its README gives the
// sources and the figures measured on each set); it is never copied into the repository.
// Tests find it only through this helper and are skipped, saying what is missing, without it:
//
//   TEST(Align, LcoBseDrift) {
//     FIBSEG_REQUIRE_REAL_DATA(folder, "lco-fibsem/bse");
//     ... folder / "Image00030.png" ...
//   }
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace fibseg::test {

/// The real data folder: $FIBSEG_REAL_DATA when set, else ../shared/data/real beside the source tree.
inline std::filesystem::path realDataRoot() {
  if (const char* env = std::getenv("FIBSEG_REAL_DATA"); env && *env) return env;
  return std::filesystem::path(FIBSEG_REAL_DATA_ROOT);
}

/// `realDataRoot() / name` when it exists, else empty.
inline std::filesystem::path realDataFolder(const std::string& name) {
  const auto path = realDataRoot() / name;
  std::error_code ec;
  return std::filesystem::exists(path, ec) ? path : std::filesystem::path{};
}

/// The original notebook's parameter sheets (../shared/seed): `name` there, or empty.
inline std::filesystem::path seedFile(const std::string& name) {
  const auto path = realDataRoot().parent_path().parent_path() / "seed" / name;
  std::error_code ec;
  return std::filesystem::exists(path, ec) ? path : std::filesystem::path{};
}

}  // namespace fibseg::test

/// Declares `var` as the seed file `name` (../shared/seed), or skips the test with a message.
#define FIBSEG_REQUIRE_SEED(var, name)                                                          \
  const std::filesystem::path var = ::fibseg::test::seedFile(name);                             \
  if (var.empty())                                                                              \
  GTEST_SKIP() << "seed file '" << (name) << "' not found in ../shared/seed beside the project"

/// Declares `var` as the folder of real data set `name`, or skips the test with a message.
#define FIBSEG_REQUIRE_REAL_DATA(var, name)                                                     \
  const std::filesystem::path var = ::fibseg::test::realDataFolder(name);                       \
  if (var.empty())                                                                              \
  GTEST_SKIP() << "real data '" << (name) << "' not found under " << ::fibseg::test::realDataRoot() \
               << " (../shared/data/real beside the project, or $FIBSEG_REAL_DATA)"
