#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fibseg/core/atomic_file.hpp"
#include "fibseg/core/error.hpp"

namespace fs = std::filesystem;

TEST(AtomicFile, TargetAppearsOnlyOnCommit) {
  const fs::path dir = fs::temp_directory_path() / "fibseg_atomic_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path target = dir / "out.txt";
  {
    fibseg::AtomicFile file(target);
    std::ofstream(file.temporaryPath()) << "partial";
    EXPECT_FALSE(fs::exists(target));
  }  // destroyed without commit: nothing left
  EXPECT_FALSE(fs::exists(target));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 0);
  fibseg::writeTextFile(target, "done");
  std::ifstream in(target);
  std::string text;
  in >> text;
  EXPECT_EQ(text, "done");
  fs::remove_all(dir);
}

TEST(AtomicFile, UnwritableFolderIsAClearError) {
  // /proc is never writable, even for root.
  EXPECT_THROW(fibseg::ensureWritableFolder("/proc/fibseg_cannot_exist"), fibseg::Error);
}
