#pragma once
// A tiny output folder of `fibseg run`, written by the test itself with numbers chosen so the
// report's summaries have known values (see the comments in output_folder_fixture.cpp).
#include <filesystem>
#include <string>

namespace fibseg::report::testing {

/// A fresh, empty folder under the system temp folder, removed by the destructor.
class TemporaryFolder {
 public:
  explicit TemporaryFolder(const std::string& name);
  ~TemporaryFolder();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline constexpr int kFixtureSlices = 5;
inline constexpr int kPreviewWidth = 48, kPreviewHeight = 32;

/// Writes every file the report reads into `folder`.
void writeCompleteOutputFolder(const std::filesystem::path& folder);

/// Decodes standard base64 (for checking embedded images).
std::string decodeBase64(const std::string& text);

/// The `src` data URI of the <img> inside the element with id `id`, or "" if none.
std::string imageUriOf(const std::string& html, const std::string& id);

}  // namespace fibseg::report::testing
