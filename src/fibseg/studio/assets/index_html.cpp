#include "fibseg/studio/assets.hpp"
namespace fibseg::studio::assets {
const std::string& indexHtml() {
  static const std::string text = R"ASSET(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>fibseg studio</title>
<link rel="stylesheet" href="studio.css">
<script type="module" src="studio.js"></script>
</head>
<body>
<header>
  <strong>fibseg studio</strong>
  <label>slice <input id="slice" type="range" min="0" max="0" value="0"> <span id="slice-number">0</span></label>
  <label>view <select id="view"><option value="aligned">aligned</option><option value="raw">raw (as read)</option></select></label>
  <label>overlay <select id="overlay">
    <option value="none">none</option><option value="labels">run's labels</option>
    <option value="classical">classical preview</option><option value="prediction">prediction</option></select></label>
  <label>opacity <input id="opacity" type="range" min="0" max="1" step="0.05" value="0.45"></label>
  <label><input id="show-uncertainty" type="checkbox"> uncertainty</label>
  <span id="readout" class="readout"></span>
</header>
<main>
  <section id="viewer">
    <canvas id="main"></canvas>
    <div id="orthos">
      <figure><canvas id="xz"></canvas><figcaption>XZ at the cursor's row</figcaption></figure>
      <figure><canvas id="yz"></canvas><figcaption>YZ at the cursor's column</figcaption></figure>
    </div>
  </section>
  <aside>
    <h2>Paint</h2>
    <div id="phases"></div>
    <label><input id="eraser" type="checkbox"> eraser (E)</label>
    <label>brush radius <input id="brush" type="range" min="0" max="40" value="4"> <span id="brush-size">4</span> px</label>
    <div class="row"><button id="undo">Undo</button><button id="redo">Redo</button>
      <button id="save">Save strokes</button><button id="reload">Reload</button></div>
    <p id="annotated" class="note"></p>
    <h2>Train</h2>
    <div class="row"><button id="train">Train</button><button id="save-model">Save model</button></div>
    <p id="train-status" class="note"></p>
    <h2>Classical path</h2>
    <div id="sliders"></div>
    <p>pore fraction <span id="pore-fraction">-</span></p>
    <p id="fractions" class="note"></p>
    <div class="row"><button id="tune">Tune from strokes</button></div>
    <p id="tune-status" class="note"></p>
    <h2>Run</h2>
    <div class="row"><button id="run">Save parameters and run</button></div>
    <progress id="run-progress" max="1" value="0"></progress>
    <p id="run-status" class="note"></p>
    <p id="status" class="note"></p>
    <p class="note">Wheel or arrows: slice. Ctrl+wheel or +/-: zoom; 0: fit. Right-drag or Shift-drag: pan.
      1-8: phase, E: eraser, [ ]: brush, Ctrl+Z / Ctrl+Y: undo / redo.</p>
  </aside>
</main>
</body>
</html>
)ASSET";
  return text;
}
}  // namespace fibseg::studio::assets
