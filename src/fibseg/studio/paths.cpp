#include "fibseg/studio/paths.hpp"

#include <algorithm>

namespace fibseg::studio {
namespace fs = std::filesystem;

std::optional<fs::path> resolveInside(const fs::path& root, const std::string& relative) {
  if (relative.empty() || relative.size() > 1024) return std::nullopt;
  // Refused outright rather than normalised: a client of this page never needs them, and
  // anything that needs decoding twice or normalising is how traversal slips past a check.
  if (relative.front() == '/' || relative.find_first_of(std::string("\\%:\0", 4)) != std::string::npos ||
      relative.find("//") != std::string::npos)
    return std::nullopt;
  const fs::path path(relative);
  if (path.is_absolute() || path.has_root_name()) return std::nullopt;
  for (const auto& element : path)
    if (element == ".." || element == "." || element.empty()) return std::nullopt;
  std::error_code ec;
  const fs::path base = fs::weakly_canonical(root, ec);
  if (ec) return std::nullopt;
  // weakly_canonical follows every symbolic link of the part that exists: a link pointing out of
  // the root resolves outside it and is refused.
  const fs::path resolved = fs::weakly_canonical(base / path, ec);
  if (ec) return std::nullopt;
  const auto [mismatch, _] = std::mismatch(base.begin(), base.end(), resolved.begin(), resolved.end());
  if (mismatch != base.end()) return std::nullopt;
  return resolved;
}

}  // namespace fibseg::studio
