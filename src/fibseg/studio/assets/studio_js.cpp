#include "fibseg/studio/assets.hpp"
namespace fibseg::studio::assets {
const std::string& studioJs() {
  static const std::string text = R"ASSET(
// fibseg studio: the page. Everything it computes comes from the server (the same stage functions
// as the CLI); here are only drawing, painting and requests. window.studio exposes the state and
// a few helpers to the browser tests.
const token = new URLSearchParams(location.search).get('token') || '';
const $ = (id) => document.getElementById(id);
const S = {
  info: null, z: 0, view: 'aligned', overlay: 'labels', opacity: 0.45, showUncertainty: false,
  zoom: 1, ox: 0, oy: 0, grey: null, greyCanvas: null, overlays: {}, uncCanvas: null,
  prediction: null, predictionZ: -1, classical: null, classicalZ: -1, labels: null, labelsZ: -1,
  annotations: new Map(),  // z -> {codes: Uint8Array, revision, dirty}
  annotCanvas: null, phase: 1, eraser: false, brush: 4, undo: [], redo: [], overrides: {},
  busy: 0, ready: false, cursor: null, jobGeneration: 0, lastError: '',
};
window.studio = { state: S };

async function api(path, options = {}) {
  const headers = Object.assign({ 'X-Fibseg-Token': token }, options.headers || {});
  const res = await fetch(path, Object.assign({}, options, { headers }));
  if (!res.ok) {
    let message = res.status + ' ' + res.statusText;
    try { const j = await res.json(); if (j.error) message = j.error; } catch (e) { /* not JSON */ }
    const error = new Error(message); error.status = res.status; throw error;
  }
  return res;
}
async function apiJson(path, options) { return (await api(path, options)).json(); }
async function apiImage(path, options) {
  const res = await api(path, options);
  const info = JSON.parse(res.headers.get('X-Fibseg-Info'));
  const buffer = await res.arrayBuffer();
  info.data = info.bytesPerPixel === 2 ? new Uint16Array(buffer) : new Uint8Array(buffer);
  return info;
}
function status(text, isError) {
  $('status').textContent = text;
  if (isError) S.lastError = text;
}

// ---- drawing ---------------------------------------------------------------------------------
function canvasOf(w, h) { const c = document.createElement('canvas'); c.width = w; c.height = h; return c; }
function greyToCanvas(img) {
  const { width: w, height: h, data } = img;
  let lo = 0, hi = 255;
  if (img.bytesPerPixel === 2) {  // 16-bit: stretch the slice's own range for display only
    lo = 65535; hi = 0;
    for (let i = 0; i < data.length; i += 7) { const v = data[i]; if (v < lo) lo = v; if (v > hi) hi = v; }
    if (hi <= lo) hi = lo + 1;
  }
  const c = canvasOf(w, h), ctx = c.getContext('2d'), out = ctx.createImageData(w, h), px = new Uint32Array(out.data.buffer);
  const scale = 255 / (hi - lo);
  for (let i = 0; i < data.length; ++i) {
    let g = (data[i] - lo) * scale; g = g < 0 ? 0 : g > 255 ? 255 : g | 0;
    px[i] = 0xff000000 | (g << 16) | (g << 8) | g;
  }
  ctx.putImageData(out, 0, 0);
  return c;
}
function phaseColour(p) {
  const phases = S.info.phases;
  return p < phases.length ? phases[p].colour : [0, 0, 0];
}
function packed(rgb, alpha = 255) { return ((alpha << 24) | (rgb[2] << 16) | (rgb[1] << 8) | rgb[0]) >>> 0; }
// Phase indices -> colours (255 and beyond the phases: transparent).
function labelsToCanvas(labels, w, h) {
  const c = canvasOf(w, h), ctx = c.getContext('2d'), out = ctx.createImageData(w, h), px = new Uint32Array(out.data.buffer);
  const lut = new Uint32Array(256);
  S.info.phases.forEach((p, i) => { lut[i] = packed(p.colour); });
  for (let i = 0; i < w * h; ++i) px[i] = lut[labels[i]];
  ctx.putImageData(out, 0, 0);
  return c;
}
function uncertaintyToCanvas(u, w, h) {
  const c = canvasOf(w, h), ctx = c.getContext('2d'), out = ctx.createImageData(w, h), px = new Uint32Array(out.data.buffer);
  for (let i = 0; i < w * h; ++i) px[i] = packed([255, 0, 255], u[i]);  // magenta where it hesitates
  ctx.putImageData(out, 0, 0);
  return c;
}
function annotationCanvas(codes, w, h) {
  const c = canvasOf(w, h);
  paintCodes(c, codes, 0, 0, w, h, w);
  return c;
}
function paintCodes(c, codes, x0, y0, rw, rh, w) {
  if (rw <= 0 || rh <= 0) return;
  const ctx = c.getContext('2d'), out = ctx.createImageData(rw, rh), px = new Uint32Array(out.data.buffer);
  const lut = new Uint32Array(256);
  S.info.phases.forEach((p, i) => { lut[i + 1] = packed(p.colour); });
  for (let y = 0; y < rh; ++y)
    for (let x = 0; x < rw; ++x) px[y * rw + x] = lut[codes[(y0 + y) * w + x0 + x]];
  ctx.putImageData(out, x0, y0);
}

const main = $('main');
let frameQueued = false;
function draw() {
  if (frameQueued) return;
  frameQueued = true;
  requestAnimationFrame(() => {
    frameQueued = false;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(main.clientWidth * dpr), h = Math.round(main.clientHeight * dpr);
    if (main.width !== w || main.height !== h) { main.width = w; main.height = h; }
    const ctx = main.getContext('2d');
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, w, h);
    if (!S.greyCanvas) return;
    ctx.imageSmoothingEnabled = S.zoom < 1;
    ctx.setTransform(S.zoom, 0, 0, S.zoom, S.ox, S.oy);
    ctx.drawImage(S.greyCanvas, 0, 0);
    if (S.view === 'aligned') {
      const overlay = S.overlays[S.overlay];
      if (overlay) { ctx.globalAlpha = S.opacity; ctx.drawImage(overlay, 0, 0); }
      if (S.showUncertainty && S.uncCanvas) { ctx.globalAlpha = 0.8; ctx.drawImage(S.uncCanvas, 0, 0); }
      ctx.globalAlpha = 0.85;
      if (S.annotCanvas) ctx.drawImage(S.annotCanvas, 0, 0);
      ctx.globalAlpha = 1;
    }
  });
}
function fit() {
  if (!S.grey) return;
  const dpr = window.devicePixelRatio || 1;
  const w = main.clientWidth * dpr, h = main.clientHeight * dpr;
  S.zoom = Math.min(w / S.grey.width, h / S.grey.height);
  S.ox = (w - S.grey.width * S.zoom) / 2; S.oy = (h - S.grey.height * S.zoom) / 2;
  draw();
}
function zoomAt(factor, cx, cy) {
  const z = Math.min(64, Math.max(0.02, S.zoom * factor));
  S.ox = cx - (cx - S.ox) * z / S.zoom; S.oy = cy - (cy - S.oy) * z / S.zoom; S.zoom = z;
  draw();
}
// Canvas pixel (device px) <-> image pixel.
function eventToImage(e) {
  const r = main.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
  return { x: Math.floor(((e.clientX - r.left) * dpr - S.ox) / S.zoom),
           y: Math.floor(((e.clientY - r.top) * dpr - S.oy) / S.zoom) };
}
window.studio.imageToClient = (x, y) => {
  const r = main.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
  return { x: r.left + (S.ox + (x + 0.5) * S.zoom) / dpr, y: r.top + (S.oy + (y + 0.5) * S.zoom) / dpr };
};
window.studio.setView = (zoom, ox, oy) => { S.zoom = zoom; S.ox = ox; S.oy = oy; draw(); };

// ---- slices and overlays -----------------------------------------------------------------------
async function showSlice(z) {
  z = Math.max(0, Math.min(S.info.slices - 1, z | 0));
  S.z = z;
  $('slice').value = z; $('slice-number').textContent = z;
  ++S.busy;
  try {
    const raw = S.view === 'raw';
    const grey = await apiImage(`/api/slice?z=${z}&view=${raw ? 'raw' : 'aligned'}`);
    if (S.z !== z) return;  // a later slice was asked for meanwhile
    const first = !S.grey || S.grey.width !== grey.width || S.grey.height !== grey.height;
    S.grey = grey; S.greyCanvas = greyToCanvas(grey);
    if (first) fit();
    if (!raw) {
      await loadAnnotation(z);
      await refreshOverlay();
    }
    draw();
  } catch (e) { status(e.message, true); } finally { --S.busy; }
}
async function refreshOverlay() {
  const z = S.z, { width: w, height: h } = S.info;
  if (S.overlay === 'labels' && S.info.hasLabels && S.labelsZ !== z) {
    const img = await apiImage(`/api/labels?z=${z}`);
    S.labels = img.data; S.labelsZ = z; S.overlays.labels = labelsToCanvas(img.data, w, h);
  } else if (S.overlay === 'classical' && S.classicalZ !== z) {
    await classical();
  } else if (S.overlay === 'prediction' && S.predictionZ !== z && S.info.hasModel) {
    await predict();
  }
  draw();
}
async function loadAnnotation(z) {
  if (S.annotations.has(z)) { S.annotCanvas = annotationCanvas(S.annotations.get(z).codes, S.info.width, S.info.height); return; }
  const img = await apiImage(`/api/annotation?z=${z}`);
  S.annotations.set(z, { codes: img.data, revision: img.revision, dirty: false });
  if (S.z === z) S.annotCanvas = annotationCanvas(img.data, img.width, img.height);
}

// ---- painting ----------------------------------------------------------------------------------
// A disc of radius r (px) at an integer centre: pixels with dx^2 + dy^2 <= r^2. No anti-aliasing:
// the saved PNG holds exactly these codes.
function stamp(a, cx, cy, code, box) {
  const { width: w, height: h } = S.info, r = S.brush;
  for (let dy = -r; dy <= r; ++dy) {
    const y = cy + dy; if (y < 0 || y >= h) continue;
    for (let dx = -r; dx <= r; ++dx) {
      const x = cx + dx; if (x < 0 || x >= w || dx * dx + dy * dy > r * r) continue;
      a.codes[y * w + x] = code;
    }
  }
  box.x0 = Math.min(box.x0, cx - r); box.y0 = Math.min(box.y0, cy - r);
  box.x1 = Math.max(box.x1, cx + r); box.y1 = Math.max(box.y1, cy + r);
}
let stroke = null, pan = null;
function strokeTo(p) {
  const a = S.annotations.get(S.z), code = S.eraser ? 0 : S.phase;
  const box = { x0: 1e9, y0: 1e9, x1: -1e9, y1: -1e9 };
  const from = stroke.last || p, n = Math.max(Math.abs(p.x - from.x), Math.abs(p.y - from.y), 1);
  for (let i = stroke.last ? 1 : 0; i <= n; ++i)
    stamp(a, Math.round(from.x + (p.x - from.x) * i / n), Math.round(from.y + (p.y - from.y) * i / n), code, box);
  stroke.last = p; a.dirty = true;
  const { width: w, height: h } = S.info;
  const x0 = Math.max(0, box.x0), y0 = Math.max(0, box.y0), x1 = Math.min(w - 1, box.x1), y1 = Math.min(h - 1, box.y1);
  paintCodes(S.annotCanvas, a.codes, x0, y0, x1 - x0 + 1, y1 - y0 + 1, w);
  draw();
}
main.addEventListener('contextmenu', (e) => e.preventDefault());
main.addEventListener('pointerdown', (e) => {
  main.setPointerCapture(e.pointerId);
  if (e.button === 2 || e.button === 1 || e.shiftKey) { pan = { x: e.clientX, y: e.clientY }; return; }
  if (e.button !== 0 || S.view !== 'aligned' || !S.annotations.has(S.z)) return;
  const a = S.annotations.get(S.z);
  S.undo.push({ z: S.z, codes: a.codes.slice() }); if (S.undo.length > 30) S.undo.shift();
  S.redo = [];
  stroke = { last: null };
  strokeTo(eventToImage(e));
});
main.addEventListener('pointermove', (e) => {
  const dpr = window.devicePixelRatio || 1;
  if (pan) { S.ox += (e.clientX - pan.x) * dpr; S.oy += (e.clientY - pan.y) * dpr; pan = { x: e.clientX, y: e.clientY }; draw(); return; }
  const p = eventToImage(e);
  if (stroke) strokeTo(p);
  S.cursor = p; readout(p); scheduleOrtho(p);
});
const endPointer = () => { stroke = null; pan = null; };
main.addEventListener('pointerup', endPointer);
main.addEventListener('pointercancel', endPointer);
main.addEventListener('wheel', (e) => {
  e.preventDefault();
  if (e.ctrlKey) {
    const r = main.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
    zoomAt(Math.exp(-e.deltaY * 0.002), (e.clientX - r.left) * dpr, (e.clientY - r.top) * dpr);
  } else {
    showSlice(S.z + (e.deltaY > 0 ? 1 : -1));
  }
}, { passive: false });
function undoRedo(from, to) {
  const step = from.pop(); if (!step) return;
  const a = S.annotations.get(step.z);
  to.push({ z: step.z, codes: a.codes.slice() });
  a.codes.set(step.codes); a.dirty = true;
  if (step.z === S.z) { S.annotCanvas = annotationCanvas(a.codes, S.info.width, S.info.height); draw(); }
  else showSlice(step.z);
}
function selectPhase(code) {
  S.phase = code; S.eraser = false; $('eraser').checked = false;
  document.querySelectorAll('.phase').forEach((b) => b.classList.toggle('active', +b.dataset.code === code));
}
document.addEventListener('keydown', (e) => {
  // Keys typed into a control (a focused slider moves with the arrows) are the control's.
  if (e.target.tagName === 'INPUT' || e.target.tagName === 'SELECT') return;
  const dpr = window.devicePixelRatio || 1;
  if (e.ctrlKey && e.key === 'z') { undoRedo(S.undo, S.redo); e.preventDefault(); }
  else if (e.ctrlKey && (e.key === 'y' || e.key === 'Z')) { undoRedo(S.redo, S.undo); e.preventDefault(); }
  else if (e.key === 'ArrowRight' || e.key === 'ArrowDown' || e.key === 'PageDown') { showSlice(S.z + 1); e.preventDefault(); }
  else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp' || e.key === 'PageUp') { showSlice(S.z - 1); e.preventDefault(); }
  else if (e.key === '+' || e.key === '=') zoomAt(1.25, main.width / 2, main.height / 2);
  else if (e.key === '-') zoomAt(0.8, main.width / 2, main.height / 2);
  else if (e.key === '0') fit();
  else if (e.key >= '1' && e.key <= '8' && +e.key <= S.info.phases.length) selectPhase(+e.key);
  else if (e.key === 'e' || e.key === 'E') { S.eraser = !S.eraser; $('eraser').checked = S.eraser; }
  else if (e.key === '[' || e.key === ']') { S.brush = Math.max(0, S.brush + (e.key === ']' ? 1 : -1)); $('brush').value = S.brush; $('brush-size').textContent = S.brush; }
  void dpr;
});

// ---- cursor readout and re-slices ----------------------------------------------------------------
function readout(p) {
  if (!S.grey || p.x < 0 || p.y < 0 || p.x >= S.grey.width || p.y >= S.grey.height) { $('readout').textContent = ''; return; }
  const i = p.y * S.grey.width + p.x;
  let text = `x ${p.x} y ${p.y} z ${S.z}  grey ${S.grey.data[i]}`;
  if (S.view === 'aligned') {
    const labels = S.overlay === 'prediction' && S.prediction ? S.prediction.labels
      : S.overlay === 'classical' && S.classical ? S.classical.labels : S.overlay === 'labels' ? S.labels : null;
    if (labels && labels[i] < S.info.phases.length) text += `  ${S.info.phases[labels[i]].name}`;
    if (S.overlay === 'prediction' && S.prediction)
      text += `  p ${(S.prediction.prob[i] / 255).toFixed(2)}  uncertainty ${(S.prediction.unc[i] / 255).toFixed(2)}`;
  }
  $('readout').textContent = text;
}
let orthoTimer = 0, orthoAt = { x: -1, y: -1 };
function scheduleOrtho(p) {
  clearTimeout(orthoTimer);
  orthoTimer = setTimeout(() => ortho(p), 120);
}
async function ortho(p) {
  if (S.view !== 'aligned' || p.x < 0 || p.y < 0 || p.x >= S.info.width || p.y >= S.info.height) return;
  if (p.x === orthoAt.x && p.y === orthoAt.y) return;
  orthoAt = p;
  try {
    for (const [axis, at, id] of [['xz', p.y, 'xz'], ['yz', p.x, 'yz']]) {
      const img = await apiImage(`/api/reslice?axis=${axis}&at=${at}`);
      const c = $(id), src = greyToCanvas(img);
      c.width = img.width; c.height = img.height;
      const ctx = c.getContext('2d');
      ctx.drawImage(src, 0, 0);
      ctx.fillStyle = 'rgba(255,80,80,0.8)'; ctx.fillRect(0, S.z, img.width, 1);
    }
  } catch (e) { status(e.message); }
}

// ---- annotations -------------------------------------------------------------------------------
async function saveAnnotations() {
  let saved = 0;
  for (const [z, a] of S.annotations) {
    if (!a.dirty) continue;
    try {
      const j = await apiJson(`/api/annotation?z=${z}&revision=${a.revision}`, { method: 'PUT', body: a.codes });
      a.revision = j.revision; a.dirty = false; ++saved;
    } catch (e) {
      status(e.message, true);
      return false;
    }
  }
  S.info.annotated = (await apiJson('/api/info')).annotated;
  $('annotated').textContent = `strokes saved on slices: ${S.info.annotated.join(', ') || 'none'} (in ${S.info.studioFolder}/annotations)`;
  status(`saved ${saved} slice(s)`);
  S.savedCount = (S.savedCount || 0) + 1;
  return true;
}
async function reloadAnnotation() {
  S.annotations.delete(S.z);
  await loadAnnotation(S.z);
  draw();
}

// ---- jobs: train, tune, run ---------------------------------------------------------------------
async function waitForJob(onProgress) {
  for (;;) {
    const job = await apiJson('/api/job');
    if (onProgress) onProgress(job);
    if (!job.running && job.generation > S.jobGeneration) { S.jobGeneration = job.generation; return job; }
    await new Promise((r) => setTimeout(r, 200));
  }
}
async function startJob(path, body, label) {
  await api(path, { method: 'POST', body: JSON.stringify(body) });
  const job = await waitForJob((j) => {
    $(label).textContent = `${j.kind}: ${j.stage || 'working'} ${j.message || ''}`;
    if (label === 'run-status') $('run-progress').value = j.progress;
  });
  if (job.error) throw new Error(job.error);
  return job.result;
}
async function train() {
  $('train').disabled = true;
  try {
    if (!(await saveAnnotations())) return;
    $('train-status').textContent = 'training…';
    await startJob('/api/train', S.overrides, 'train-status');
    S.info.hasModel = true;
    S.overlay = 'prediction'; $('overlay').value = 'prediction';
    await predict();
    $('train-status').textContent = `trained on slices ${S.info.annotated.join(', ')}; prediction of slice ${S.z} shown`;
  } catch (e) { $('train-status').textContent = e.message; status(e.message, true); } finally { $('train').disabled = false; }
}
async function predict() {
  const z = S.z, img = await apiImage(`/api/predict?z=${z}`, { method: 'POST', body: JSON.stringify(S.overrides) });
  const n = S.info.width * S.info.height;
  S.prediction = { labels: img.data.subarray(0, n), prob: img.data.subarray(n, 2 * n), unc: img.data.subarray(2 * n, 3 * n) };
  S.predictionZ = z;
  S.overlays.prediction = labelsToCanvas(S.prediction.labels, S.info.width, S.info.height);
  S.uncCanvas = uncertaintyToCanvas(S.prediction.unc, S.info.width, S.info.height);
  draw();
}
async function classical() {
  const z = S.z, asked = JSON.stringify(S.overrides);
  const img = await apiImage(`/api/classical?z=${z}`, { method: 'POST', body: asked });
  if (asked !== JSON.stringify(S.overrides) || z !== S.z) return;  // a newer request follows
  S.classical = { labels: img.data, fractions: img.fractions, camThreshold: img.camThreshold };
  S.classicalZ = z;
  S.overlays.classical = labelsToCanvas(img.data, S.info.width, S.info.height);
  const names = ['pore', 'SE', 'CAM'];
  $('pore-fraction').textContent = img.fractions[0].toFixed(5);
  $('fractions').textContent = img.fractions.map((f, i) => `${names[i]} ${f.toFixed(5)}`).join(' · ') +
    ` (slice ${z}, CAM above grey ${img.camThreshold})`;
  S.classicalDone = (S.classicalDone || 0) + 1;
  draw();
}
let classicalRunning = false, classicalAgain = false;
async function classicalLive() {
  // At most one request in flight; the last slider position always gets drawn.
  if (classicalRunning) { classicalAgain = true; return; }
  classicalRunning = true;
  try {
    do { classicalAgain = false; await classical(); } while (classicalAgain);
  } catch (e) { status(e.message, true); } finally { classicalRunning = false; }
}
async function tune() {
  $('tune').disabled = true;
  try {
    if (!(await saveAnnotations())) return;
    const best = await startJob(`/api/tune?z=${S.z}`, S.overrides, 'tune-status');
    for (const name of ['segment.gabor_kernel_size', 'segment.gabor_sigma', 'segment.gabor_theta', 'segment.gabor_lambda',
                        'segment.gabor_gamma', 'segment.gabor_psi', 'segment.pore_threshold']) {
      S.overrides[name] = String(best[name]);
      const input = document.querySelector(`[data-name="${name}"]`);
      if (input) {
        input.value = best[name];
        const shown = input.previousElementSibling && input.previousElementSibling.querySelector('span');
        if (shown) shown.textContent = best[name];
      }
    }
    $('tune-status').textContent = `tuned on slice ${S.z}'s strokes: score ${best.score.toFixed(3)} over ${best.candidates} sets`;
    S.overlay = 'classical'; $('overlay').value = 'classical';
    await classicalLive();
  } catch (e) { $('tune-status').textContent = e.message; } finally { $('tune').disabled = false; }
}
async function run() {
  $('run').disabled = true;
  try {
    const result = await startJob('/api/run', S.overrides, 'run-status');
    $('run-progress').value = 1;
    const link = result.report ? ` <a href="${result.report}?token=${token}" target="_blank">report</a>` : '';
    $('run-status').innerHTML = `done in ${result.seconds.toFixed(1)} s; parameters: ${result.parameters}${link}`;
    S.labelsZ = -1; await refreshOverlay();
  } catch (e) { $('run-status').textContent = e.message; } finally { $('run').disabled = false; }
}

// ---- set-up ------------------------------------------------------------------------------------
function buildSliders() {
  const ranges = {  // slider ranges for looking around; any value can be typed in the parameter file
    'segment.otsu_offset': [-60, 60, 1], 'segment.gabor_lambda': [1, 40, 0.5], 'segment.gabor_theta': [0, 180, 5],
    'segment.gabor_sigma': [0.5, 15, 0.25], 'segment.gabor_gamma': [0.1, 3, 0.05], 'segment.pore_threshold': [0, 4000, 5],
  };
  for (const [name, [lo, hi, step]] of Object.entries(ranges)) {
    const spec = S.info.sliders[name];
    const div = document.createElement('div'); div.className = 'slider';
    div.innerHTML = `<label title="${spec.description.replace(/"/g, '&quot;')}">${name.replace('segment.', '')}
      ${spec.unit ? '(' + spec.unit + ')' : ''} <span>${spec.value}</span></label>
      <input type="range" data-name="${name}" min="${Math.min(lo, +spec.value)}" max="${Math.max(hi, +spec.value)}" step="${step}" value="${spec.value}">`;
    const input = div.querySelector('input'), shown = div.querySelector('span');
    input.addEventListener('input', () => {
      shown.textContent = input.value; S.overrides[name] = input.value;
      if (S.overlay !== 'classical') { S.overlay = 'classical'; $('overlay').value = 'classical'; }
      classicalLive();
    });
    $('sliders').appendChild(div);
  }
}
async function start() {
  try {
    S.info = await apiJson('/api/info');
  } catch (e) { document.body.textContent = 'fibseg studio: ' + e.message; return; }
  const info = S.info;
  $('slice').max = info.slices - 1;
  info.phases.forEach((p, i) => {
    const b = document.createElement('button');
    b.className = 'phase'; b.dataset.code = i + 1;
    b.innerHTML = `<span class="swatch" style="background: rgb(${p.colour.join(',')})"></span>${i + 1} ${p.name}`;
    b.addEventListener('click', () => selectPhase(i + 1));
    $('phases').appendChild(b);
  });
  selectPhase(1);
  buildSliders();
  if (!info.hasLabels) { S.overlay = 'none'; $('overlay').value = 'none'; }
  if (!info.classicalPhases) $('tune').disabled = true;
  if (!info.rawSlices) $('view').querySelector('[value=raw]').disabled = true;
  $('annotated').textContent = `strokes saved on slices: ${info.annotated.join(', ') || 'none'}`;
  $('slice').addEventListener('input', () => showSlice(+$('slice').value));
  $('view').addEventListener('change', () => { S.view = $('view').value; S.grey = null; showSlice(S.z); });
  $('overlay').addEventListener('change', async () => { S.overlay = $('overlay').value; try { await refreshOverlay(); } catch (e) { status(e.message, true); } });
  $('opacity').addEventListener('input', () => { S.opacity = +$('opacity').value; draw(); });
  $('show-uncertainty').addEventListener('change', () => { S.showUncertainty = $('show-uncertainty').checked; draw(); });
  $('eraser').addEventListener('change', () => { S.eraser = $('eraser').checked; });
  $('brush').addEventListener('input', () => { S.brush = +$('brush').value; $('brush-size').textContent = S.brush; });
  $('undo').addEventListener('click', () => undoRedo(S.undo, S.redo));
  $('redo').addEventListener('click', () => undoRedo(S.redo, S.undo));
  $('save').addEventListener('click', saveAnnotations);
  $('reload').addEventListener('click', reloadAnnotation);
  $('train').addEventListener('click', train);
  $('save-model').addEventListener('click', async () => {
    try { const j = await apiJson('/api/model', { method: 'POST', body: JSON.stringify(S.overrides) });
      $('train-status').textContent = `model: ${j.model}; parameters that run it: ${j.parameters}`;
    } catch (e) { $('train-status').textContent = e.message; }
  });
  $('tune').addEventListener('click', tune);
  $('run').addEventListener('click', run);
  window.addEventListener('resize', draw);
  const job = await apiJson('/api/job');
  S.jobGeneration = job.generation;
  await showSlice(0);
  S.ready = true;
}
start();
)ASSET";
  return text;
}
}  // namespace fibseg::studio::assets
