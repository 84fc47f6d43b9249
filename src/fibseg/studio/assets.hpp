#pragma once
// The studio page: plain HTML, CSS and one JavaScript module, kept as text in assets/*.cpp (each
// file is the asset between two lines of C++), served from the binary: no build step, no CDN.
#include <string>

namespace fibseg::studio::assets {

const std::string& indexHtml();
const std::string& studioJs();
const std::string& studioCss();

}  // namespace fibseg::studio::assets
