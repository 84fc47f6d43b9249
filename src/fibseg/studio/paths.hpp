#pragma once
// Which files a request may name. The studio serves one run folder and writes only into its own
// folder of annotations, models and parameter files: every path a request carries is a relative
// path checked here before it touches the file system.
#include <filesystem>
#include <optional>
#include <string>

namespace fibseg::studio {

/// `relative` (as it arrived, already URL-decoded once by the server) resolved inside `root`, or
/// nothing when it is empty, absolute, holds a `..` or `.` element, a backslash, a NUL, a '%'
/// (a second, encoded layer: "%2e%2e"), or resolves - following symbolic links - outside `root`.
/// The file need not exist; the part of the path that exists is resolved with its links.
std::optional<std::filesystem::path> resolveInside(const std::filesystem::path& root, const std::string& relative);

}  // namespace fibseg::studio
