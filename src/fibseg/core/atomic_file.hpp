#pragma once
// Outputs are complete or absent: write to a temporary name beside the target, rename when done.
// A writer that is destroyed without commit() removes its temporary file.
#include <filesystem>

namespace fibseg {

class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path target);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  /// Where to write now (same folder as the target, hidden, unique to this process).
  const std::filesystem::path& temporaryPath() const { return temporary_; }
  const std::filesystem::path& targetPath() const { return target_; }
  /// Renames the temporary file onto the target (atomic on one file system).
  void commit();

 private:
  std::filesystem::path target_;
  std::filesystem::path temporary_;
  bool committed_ = false;
};

/// Throws a clear error if `folder` cannot be created or written to.
void ensureWritableFolder(const std::filesystem::path& folder);

/// Writes `text` to `target` atomically.
void writeTextFile(const std::filesystem::path& target, const std::string& text);

}  // namespace fibseg
