#pragma once
// Pixel size from microscope metadata. FEI/Thermo write an INI text in TIFF tag 34682 with
// [Scan] PixelWidth in metres; Zeiss SmartSEM writes tag 34118 with "Image Pixel Size = 4.96 nm";
// ImageJ writes "unit=" in the description with X/YResolution in pixels per unit.
#include <optional>
#include <string>

namespace fibseg::io {

std::optional<double> pixelSizeFromFeiText(const std::string& text);
std::optional<double> pixelSizeFromZeissText(const std::string& text);
/// The data bar's height in pixel rows from the FEI text ([PrivateFei] DatabarHeight; 0 = the
/// image has no bar). nullopt when the text does not say.
std::optional<int> dataBarRowsFromFeiText(const std::string& text);
/// From an ImageJ description's unit= and XResolution (pixels per unit). nullopt when no unit.
std::optional<double> pixelSizeFromImageJ(const std::string& description, double xResolution);
/// Length of one `unit` ("nm", "micron", "um", "µm", "mm", "cm", "m", "pm") in nanometres.
std::optional<double> nanometresPer(const std::string& unit);

}  // namespace fibseg::io
