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
#include <filesystem>
#include <ostream>
#include <string>

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

 private:
  void release() noexcept;  // staging removed unless committed, lock released

  std::filesystem::path folder_, staging_;
  int lockFd_ = -1;
  bool createdFolder_ = false, committed_ = false, keepStaging_ = false;
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

}  // namespace fibseg::pipeline
