#include "fibseg/studio/assets.hpp"
namespace fibseg::studio::assets {
const std::string& studioCss() {
  static const std::string text = R"ASSET(
* { box-sizing: border-box; }
body { margin: 0; font: 13px system-ui, sans-serif; background: #1e1f22; color: #ddd; height: 100vh;
       display: flex; flex-direction: column; }
header { display: flex; gap: 14px; align-items: center; padding: 6px 10px; background: #2b2d31; flex-wrap: wrap; }
header input[type=range] { width: 160px; vertical-align: middle; }
main { flex: 1; display: flex; min-height: 0; }
#viewer { flex: 1; display: flex; flex-direction: column; min-width: 0; }
#main { flex: 1; width: 100%; min-height: 0; background: #000; cursor: crosshair; touch-action: none; }
#orthos { display: flex; gap: 8px; height: 110px; padding: 4px; }
#orthos figure { margin: 0; flex: 1; display: flex; flex-direction: column; min-width: 0; }
#orthos canvas { flex: 1; width: 100%; min-height: 0; background: #000; image-rendering: pixelated; }
figcaption { font-size: 11px; color: #999; }
aside { width: 300px; overflow-y: auto; padding: 8px 12px; background: #26272b; }
h2 { font-size: 14px; margin: 12px 0 6px; border-bottom: 1px solid #444; }
label { display: block; margin: 3px 0; }
header label { display: inline; }
.row { display: flex; gap: 6px; flex-wrap: wrap; margin: 4px 0; }
button { background: #3a3d44; color: #eee; border: 1px solid #555; border-radius: 4px; padding: 4px 8px; cursor: pointer; }
button:disabled { opacity: 0.5; cursor: default; }
.phase { display: flex; align-items: center; gap: 6px; width: 100%; margin: 2px 0; text-align: left; }
.phase.active { outline: 2px solid #fff; }
.swatch { width: 14px; height: 14px; border-radius: 3px; display: inline-block; border: 1px solid #000; }
.note { color: #aaa; font-size: 12px; margin: 4px 0; }
.readout { font-family: monospace; color: #cfc; margin-left: auto; }
.slider span { float: right; font-family: monospace; }
.slider input { width: 100%; }
progress { width: 100%; }
a { color: #8cf; }
)ASSET";
  return text;
}
}  // namespace fibseg::studio::assets
