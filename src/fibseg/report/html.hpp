#pragma once
// Small text helpers for building the offline report: HTML escaping, base64 data URIs, numbers
// written the way a reader expects (no "1e-05", no 17 digits).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace fibseg::report {

/// Escapes &, <, >, " and ' so any text (file names, parameter values) is shown, never parsed.
std::string escapeHtml(const std::string& text);

std::string base64(const std::uint8_t* data, std::size_t size);
inline std::string base64(const std::vector<std::uint8_t>& bytes) { return base64(bytes.data(), bytes.size()); }

/// "data:image/png;base64,..." of a file's bytes as stored; throws fibseg::Error naming the file.
std::string pngFileDataUri(const std::filesystem::path& path);
/// The same for PNG bytes already in memory.
std::string pngDataUri(const std::vector<std::uint8_t>& bytes);

/// `value` with at most `decimals` decimals, trailing zeros removed ("1.5", "2", "-0.25"); a
/// non-zero value those decimals would show as 0 gets three significant digits ("0.000123",
/// "2.25e-7").
std::string formatNumber(double value, int decimals = 3);

}  // namespace fibseg::report
