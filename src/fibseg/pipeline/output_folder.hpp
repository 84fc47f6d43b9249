#pragma once
// One output folder holds one whole run: a run writes into a staging folder inside the output
// folder and switches it in only when every output is complete, so a run killed at any moment
// (kill -9, power cut, full disk) leaves the previous run whole, the new run whole, or a folder
// clearly marked RUN_INCOMPLETE.txt that the next run finishes. run.json lists every output
// with its size and SHA-256 and is written last. A lock keeps two runs out of one folder.
//
// Layout while a run is under way (hidden names, so a file browser shows only the last run):
//   .fibseg.lock        flock held by the running process (released by the kernel if it dies)
//   .fibseg-staging/    the run being written
//   .fibseg-switching/  a complete run whose outputs are being moved in (with RUN_INCOMPLETE.txt)
//   .fibseg-previous/   the outputs being replaced, removed once the switch is done
#include <cstdint>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace fibseg::pipeline {

struct OutputFolderOptions {
  bool replaceEarlierRun = false;  // --overwrite (or --from): else a folder with a run is refused
  bool keepCache = false;          // --from segment: the previous run's cache/ is carried over
  std::string resumeKey;           // non-empty: a staging folder a killed run left with this key
                                   // (.blocks/run-key) is kept, its finished blocks reused
};

class OutputFolder {
 public:
  /// Takes the lock (throws if another run holds it), removes or finishes what a killed run
  /// left (and says so on `log`), refuses an earlier run unless asked, and makes the staging
  /// folder. Creates `folder` if needed; it is removed again if the run fails and leaves it empty.
  OutputFolder(std::filesystem::path folder, OutputFolderOptions options, std::ostream& log);
  /// Without commit(): the staging folder is removed, the previous run stays as it was.
  ~OutputFolder();
  OutputFolder(const OutputFolder&) = delete;
  OutputFolder& operator=(const OutputFolder&) = delete;

  const std::filesystem::path& folder() const { return folder_; }
  /// Where this run writes every output (the same relative names as in the final folder).
  const std::filesystem::path& staging() const { return staging_; }

  /// Adds "outputs" (every staged file's size and SHA-256) to the staged run.json, writes it
  /// last, then switches the staged run in place of the previous one.
  void commit();

  /// Hashes and flushes the outputs staged so far (every visible file: each appears whole, by
  /// rename), so commit() reads back only what came after: a distributed run's client calls it
  /// as blocks finish, while the workers compute. A file changed or replaced since (its inode,
  /// size or modification time differ) is hashed again by commit().
  void hashStagedOutputs();
  /// A file its writer hashed and flushed (GrowingFileSha256): commit() takes this hash while the
  /// file stays as it is now.
  void addHashed(const std::filesystem::path& file, const std::string& sha256);

 private:
  void release() noexcept;  // staging removed unless committed, lock released
  struct Hashed;
  const Hashed* hashedAlready(const std::filesystem::path& file) const;

  std::filesystem::path folder_, staging_;
  int lockFd_ = -1;
  bool createdFolder_ = false, committed_ = false, keepStaging_ = false;
  std::vector<Hashed> hashed_;
};

/// What a check of an output folder against its run.json found.
enum class FolderState {
  Empty,         // no run (nothing visible)
  Complete,      // run.json present, every output it lists matches, nothing else visible
  Incomplete,    // marked RUN_INCOMPLETE.txt: being switched, the next run finishes it
  Inconsistent,  // anything else: a mix, a missing or altered output (detail says which)
};
struct FolderCheck {
  FolderState state = FolderState::Empty;
  std::string detail;
};
FolderCheck checkOutputFolder(const std::filesystem::path& folder);

/// Lower-case hex SHA-256 of a file's bytes.
std::string sha256OfFile(const std::filesystem::path& file);

/// SHA-256 of a file read in pieces while it is written (a stack joined block by block), so its
/// hash is ready when it is: advance() hashes the bytes up to `settled` (no later write may change
/// them) and starts writing them to the disk; finish() hashes the rest, flushes the file as
/// OutputFolder::commit() would, and returns the lower-case hex digest.
class GrowingFileSha256 {
 public:
  GrowingFileSha256();
  ~GrowingFileSha256();
  void advance(const std::filesystem::path& file, std::uint64_t settled);
  std::string finish(const std::filesystem::path& file);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace fibseg::pipeline
