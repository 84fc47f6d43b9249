#include "fibseg/report/page_assets.hpp"

namespace fibseg::report {

const char* pageStyle() {
  return R"CSS(
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 0 18px 60px; color: #222; }
h1 { font-size: 1.5em; margin-top: 18px; }
h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; padding-bottom: 3px; margin-top: 34px; }
nav ol { columns: 3; font-size: 0.92em; }
table { border-collapse: collapse; font-size: 0.9em; margin: 6px 0 12px; }
td, th { border: 1px solid #ddd; padding: 2px 8px; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { background: #fff5d6; border-left: 4px solid #e0b000; padding: 4px 10px; }
.summary { font-size: 0.95em; }
svg.plot { width: 100%; max-width: 820px; height: auto; display: block; }
.figures { display: flex; flex-wrap: wrap; gap: 14px; align-items: flex-start; }
figure { margin: 0; }
.figures > div { flex: 1 1 460px; }
figure img { width: 480px; max-width: 100%; height: auto; image-rendering: pixelated; border: 1px solid #ccc; display: block; }
figcaption { font-size: 0.85em; color: #555; }
.bar { background: #4a7fc1; height: 12px; display: inline-block; vertical-align: middle; }
#overlay-canvas { max-width: 100%; width: 640px; image-rendering: pixelated; border: 1px solid #999; background: #000; }
.controls { display: flex; flex-wrap: wrap; gap: 18px; align-items: center; margin: 6px 0; }
.controls input[type=range] { width: 280px; }
li.warn { color: #a40000; }
.swatch { display: inline-block; width: 12px; height: 12px; border: 1px solid #888; vertical-align: middle; margin: 0 3px 0 10px; }
#selftest-result { background: #eef; padding: 6px; }
details pre { max-height: 320px; overflow: auto; background: #f6f6f6; padding: 6px; }
)CSS";
}

const char* errorCaptureScript() {
  return R"JS(
window.fibsegErrors = [];
window.addEventListener('error', function (e) {
  var where = e.filename ? ' at ' + e.filename.slice(0, 60) + ':' + e.lineno : '';
  var what = e.message || ('failed to load ' + (e.target && e.target.tagName ? e.target.tagName : 'resource'));
  window.fibsegErrors.push('error: ' + what + where);
}, true);
window.addEventListener('unhandledrejection', function (e) {
  window.fibsegErrors.push('unhandled rejection: ' + (e.reason && e.reason.message ? e.reason.message : e.reason));
});
(function () {
  var original = console.error;
  console.error = function () {
    window.fibsegErrors.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
    return original.apply(console, arguments);
  };
})();
)JS";
}

const char* viewerScript() {
  return R"JS(
(function () {
  'use strict';
  var dataElement = document.getElementById('overlay-data');
  var viewer = null;
  if (dataElement) viewer = makeViewer(JSON.parse(dataElement.textContent));
  window.fibsegViewer = viewer;
  if (location.hash === '#selftest') window.addEventListener('load', function () { selfTest(viewer); });

  function makeViewer(data) {
    var slider = document.getElementById('slice-slider');
    var opacity = document.getElementById('opacity-slider');
    var canvas = document.getElementById('overlay-canvas');
    var sliceLabel = document.getElementById('slice-label');
    var opacityLabel = document.getElementById('opacity-label');
    var fractions = document.getElementById('slice-fractions');
    var context = canvas.getContext('2d', { willReadFrequently: true });
    // Phase colours and names of the run (phases.colours, phases.names), in label order.
    var colours = data.colours;
    var names = data.names;
    var cache = new Map();
    var cacheLimit = 24;
    var request = 0;
    var self = { count: data.slices.length, shownIndex: -1, pending: Promise.resolve() };

    function loadImage(uri, what) {
      return new Promise(function (resolve, reject) {
        var image = new Image();
        image.onload = function () { resolve(image); };
        image.onerror = function () { reject(new Error('cannot decode ' + what)); };
        image.src = uri;
      });
    }
    // Preview labels hold phase indices; for three phases spread grey levels (0/128/255) are
    // accepted too.
    function phaseOf(v) {
      if (v < colours.length) return v;
      return colours.length === 3 ? (v < 64 ? 0 : (v < 192 ? 1 : 2)) : -1;
    }
    function colourLabels(image, width, height) {
      var layer = document.createElement('canvas');
      layer.width = width;
      layer.height = height;
      var g = layer.getContext('2d', { willReadFrequently: true });
      g.imageSmoothingEnabled = false;
      g.drawImage(image, 0, 0, width, height);
      var pixels = g.getImageData(0, 0, width, height);
      var p = pixels.data;
      for (var i = 0; i < p.length; i += 4) {
        var c = colours[phaseOf(p[i])] || [0, 0, 0];
        p[i] = c[0]; p[i + 1] = c[1]; p[i + 2] = c[2]; p[i + 3] = 255;
      }
      g.putImageData(pixels, 0, 0);
      return layer;
    }
    function entry(index) {
      if (cache.has(index)) return cache.get(index);
      var name = 'slice ' + data.slices[index];
      var promise = Promise.all([
        loadImage(data.grey[index], 'grey image of ' + name),
        data.labels[index] ? loadImage(data.labels[index], 'labels of ' + name) : Promise.resolve(null)
      ]).then(function (images) {
        var grey = images[0];
        return { grey: grey, overlay: images[1] ? colourLabels(images[1], grey.naturalWidth, grey.naturalHeight) : null };
      });
      cache.set(index, promise);
      if (cache.size > cacheLimit) cache.delete(cache.keys().next().value);
      return promise;
    }
    function draw(e) {
      canvas.width = e.grey.naturalWidth;
      canvas.height = e.grey.naturalHeight;
      context.imageSmoothingEnabled = false;
      context.globalAlpha = 1;
      context.drawImage(e.grey, 0, 0);
      if (e.overlay) {
        context.globalAlpha = Number(opacity.value) / 100;
        context.drawImage(e.overlay, 0, 0);
        context.globalAlpha = 1;
      }
    }
    function show(index) {
      var mine = ++request;
      opacityLabel.textContent = opacity.value + ' %';
      self.pending = entry(index).then(function (e) {
        if (mine !== request) return;
        draw(e);
        self.shownIndex = index;
        canvas.dataset.slice = String(data.slices[index]);
        sliceLabel.textContent = 'slice ' + data.slices[index] + ' (' + (index + 1) + ' of ' + data.slices.length + ')' +
          (data.labels[index] ? '' : ', no labels for this slice');
        var f = data.fractions[String(data.slices[index])];
        fractions.textContent = f ? f.map(function (v, i) { return names[i] + ' ' + v + ' %'; }).join(', ') : '';
      }).catch(function (error) {
        console.error('fibseg viewer: ' + error.message);
      });
      return self.pending;
    }
    slider.addEventListener('input', function () { show(Number(slider.value)); });
    opacity.addEventListener('input', function () { show(Number(slider.value)); });
    self.show = show;
    self.shownSlice = function () { return data.slices[self.shownIndex]; };
    self.pixels = function () { return context.getImageData(0, 0, canvas.width, canvas.height).data; };
    show(Number(slider.value));
    return self;
  }

  function differingBytes(a, b) {
    if (a.length !== b.length) return Math.max(a.length, b.length);
    var n = 0;
    for (var i = 0; i < a.length; ++i) if (a[i] !== b[i]) ++n;
    return n;
  }
  function move(input, value) {
    input.value = String(value);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }
  function selfTest(v) {
    var out = document.getElementById('selftest-result');
    var lines = [];
    function finish(ok) {
      var errors = window.fibsegErrors;
      if (errors.length) ok = false;
      lines.push('errors: ' + errors.length);
      errors.forEach(function (e) { lines.push('  ' + e); });
      out.hidden = false;
      out.dataset.verdict = ok ? 'PASS' : 'FAIL';
      out.textContent = 'SELFTEST ' + (ok ? 'PASS' : 'FAIL') + '\n' + lines.join('\n');
      // Bring the viewer up beside the verdict, so a screenshot of the first screen shows both
      // (headless screenshots do not follow scrolling).
      var section = document.getElementById('overlay');
      if (section) out.parentNode.insertBefore(section, out.nextSibling);
    }
    if (!v) { lines.push('no segmentation viewer on the page (no preview slices)'); finish(false); return; }
    if (v.count < 2) { lines.push('only ' + v.count + ' slice: cannot move the slider'); finish(false); return; }
    var slider = document.getElementById('slice-slider');
    var opacity = document.getElementById('opacity-slider');
    var first, before, sliceOk = false, opacityOk = false;
    v.pending.then(function () {
      first = v.shownSlice();
      before = v.pixels();
      move(slider, v.count - 1);
      return v.pending;
    }).then(function () {
      var changed = differingBytes(before, v.pixels());
      sliceOk = v.shownSlice() !== first && changed > 0;
      lines.push('slice slider: shown slice ' + first + ' -> ' + v.shownSlice() + ', canvas bytes changed: ' + changed);
      before = v.pixels();
      var keep = opacity.value;
      move(opacity, Number(keep) === 0 ? 100 : 0);
      return v.pending.then(function () {
        var changed = differingBytes(before, v.pixels());
        opacityOk = changed > 0;
        lines.push('opacity slider: ' + keep + ' -> ' + opacity.value + ', canvas bytes changed: ' + changed);
        move(opacity, keep);
        return v.pending;
      });
    }).then(function () {
      finish(sliceOk && opacityOk);
    }).catch(function (error) {
      lines.push('self-test stopped: ' + error.message);
      finish(false);
    });
  }
})();
)JS";
}

}  // namespace fibseg::report
