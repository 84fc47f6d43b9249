#!/usr/bin/python3
"""fibseg studio in a real browser (Debian's headless Chromium), driven over the DevTools protocol.

Why Python and the DevTools pipe rather than puppeteer: Chromium's --remote-debugging-pipe speaks
the protocol as NUL-separated JSON on file descriptors 3 and 4, so the standard library is enough:
no npm download in CI, no node_modules, nothing to pin but Chromium itself.

On a small phantom run it: opens the page with the token; steps through slices with the keyboard
(checking the grey bytes shown are the run's aligned slice); paints strokes of every phase on two
slices with synthetic mouse events; saves; checks the saved PNGs hold exactly the strokes drawn;
presses Train and checks the prediction shown equals `fibseg train` + `fibseg predict` from the same
saved PNGs; moves the pore-threshold slider and checks the shown pore fraction equals
phase_fractions.csv of `fibseg run --set segment.pore_threshold=...`. Everything it starts is
stopped by process id, also on failure.

Usage: browser_test.py --fibseg BUILD/fibseg --work DIR [--screenshot FILE.png]
"""
import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image
import tifffile

CHROMIUM = os.environ.get("FIBSEG_CHROMIUM", "/usr/bin/chromium")
started = []  # Popen objects, stopped in reverse order at the end


def stop_all():
    for proc in reversed(started):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)  # its own process group (start_new_session)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def run(cmd, **kw):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


class DevTools:
    """The DevTools protocol over Chromium's pipe: commands on fd 3, answers and events on fd 4."""

    def __init__(self, work):
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()

        def fds():
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
             "--disable-background-networking", "--disable-component-update", "--remote-debugging-pipe",
             "--window-size=1400,900", f"--user-data-dir={work}/chromium-profile", "about:blank"],
            preexec_fn=fds, pass_fds=(3, 4), start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=open(f"{work}/chromium.log", "w"))
        started.append(self.proc)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.next_id = 0
        self.buffer = b""
        self.session = None

    def send(self, method, params=None, session=True, timeout=60):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            while b"\0" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self.next_id:
                    if "error" in reply:
                        raise AssertionError(f"{method}: {reply['error']}")
                    return reply.get("result", {})
            if time.time() > deadline:
                raise AssertionError(f"{method}: no answer in {timeout} s")
            chunk = os.read(self.from_browser, 1 << 20)
            if not chunk:
                raise AssertionError("Chromium closed the DevTools pipe; see chromium.log")
            self.buffer += chunk

    def open(self, url):
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)["sessionId"]
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Page.navigate", {"url": url})

    def eval(self, expression, timeout=60):
        result = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True},
                           timeout=timeout)
        if "exceptionDetails" in result:
            raise AssertionError(f"page error in {expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout=60, what=""):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.eval(f"(() => {{ try {{ return !!({expression}); }} catch (e) {{ return false; }} }})()"):
                return
            time.sleep(0.1)
        status = self.eval("document.getElementById('status') ? document.getElementById('status').textContent : ''")
        raise AssertionError(f"timed out waiting for {what or expression}; page status: {status}")

    def key(self, key, code, keycode, text=None):
        for kind in ("keyDown", "keyUp"):
            params = {"type": kind, "key": key, "code": code, "windowsVirtualKeyCode": keycode}
            if text and kind == "keyDown":
                params["text"] = text
            self.send("Input.dispatchKeyEvent", params)

    def mouse(self, kind, x, y, buttons=0, button="none"):
        self.send("Input.dispatchMouseEvent",
                  {"type": kind, "x": x, "y": y, "button": button, "buttons": buttons, "clickCount": 1})

    def click(self, selector):
        box = self.eval(f"(() => {{ const r = document.querySelector('{selector}').getBoundingClientRect(); "
                        f"return [r.left + r.width / 2, r.top + r.height / 2]; }})()")
        self.mouse("mouseMoved", *box)
        self.mouse("mousePressed", *box, buttons=1, button="left")
        self.mouse("mouseReleased", *box, buttons=0, button="left")


def erode(mask, r):
    """Pixels whose whole (2r+1)^2 neighbourhood is in `mask` (a square, wider than the brush disc)."""
    out = mask.copy()
    h, w = mask.shape
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            shifted = np.zeros_like(mask)
            shifted[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)] = \
                mask[max(0, dy):h - max(0, -dy), max(0, dx):w - max(0, -dx)]
            out &= shifted
    return out


def strokes_inside(labels, phase, radius, length, count):
    """Horizontal strokes (y, x0, x1) well inside `phase` of the run's labels, spread over the slice."""
    inside = erode(labels == phase, radius + 1)
    found = []
    for y in range(radius + 2, labels.shape[0] - radius - 2, 9):
        row = inside[y]
        x = 0
        while x < len(row) - length:
            if row[x:x + length + 1].all():
                found.append((y, x, x + length))
                break
            x += 1
    step = max(1, len(found) // count)
    return found[::step][:count]


def expected_codes(shape, strokes):
    """What the page's brush paints: a disc (dx^2 + dy^2 <= r^2) at every integer point of the stroke."""
    codes = np.zeros(shape, np.uint8)
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    for (y, x0, x1, code, radius) in strokes:
        for x in range(x0, x1 + 1):
            codes[(yy - y) ** 2 + (xx - x) ** 2 <= radius * radius] = code
    return codes


def fractions_row(run_folder, z):
    with open(os.path.join(run_folder, "phase_fractions.csv")) as f:
        for row in csv.DictReader(f):
            if row["slice"] == str(z):
                return row
    raise AssertionError(f"slice {z} missing from {run_folder}/phase_fractions.csv")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fibseg", required=True)
    parser.add_argument("--work", default="")
    parser.add_argument("--screenshot", default="")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        sys.exit(f"headless Chromium is needed but {CHROMIUM} does not exist: scripts/install-deps --browser")
    work = args.work or tempfile.mkdtemp(prefix="fibseg_studio_browser_")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    fibseg = os.path.abspath(args.fibseg)

    # A small phantom run: 5 slices of 256 x 208 px.
    run([fibseg, "phantom", f"{work}/phantom", "--width", 256, "--height", 208, "--slices", 5, "--seed", 3])
    with open(f"{work}/params.toml", "w") as f:
        f.write(f'[input]\npath = "{work}/phantom/raw"\n[output]\nfolder = "{work}/run"\n'
                '[measure]\nenabled = false\n')
    run([fibseg, "run", f"{work}/params.toml"])
    # The run keeps one grey stack (aligned.tif); the corrected slices train/predict take are written on demand.
    run([fibseg, "corrected", f"{work}/run"])
    corrected = tifffile.imread(f"{work}/run/cache/corrected.tif")
    run_labels = tifffile.imread(f"{work}/run/labels.tif")

    studio = subprocess.Popen([fibseg, "studio", f"{work}/run", "--port", "0"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, start_new_session=True)
    started.append(studio)
    url = None
    for line in studio.stdout:
        if line.startswith("open http://127.0.0.1:"):
            url = line.split()[1]
            break
    assert url and "token=" in url, "the studio printed no address with a token"
    print("studio:", url.split("?")[0], flush=True)

    browser = DevTools(work)
    browser.open(url)
    browser.wait_for("window.studio && window.studio.state.ready", what="the page to load")
    errors = browser.eval("window.studio.state.lastError")
    assert not errors, errors
    # Zoom 2, image at (10, 10) of the canvas: each image pixel is a 2 x 2 block of screen pixels.
    browser.eval("window.studio.setView(2, 10, 10)")

    # Step through slices with the keyboard; the page shows the run's aligned slice each time.
    for z, key in [(1, "ArrowRight"), (2, "ArrowRight"), (3, "ArrowRight"), (2, "ArrowLeft")]:
        browser.key(key, key, 39 if key == "ArrowRight" else 37)
        browser.wait_for(f"window.studio.state.z === {z} && window.studio.state.busy === 0 && "
                         f"window.studio.state.annotations.has({z})", what=f"slice {z}")
        shown = np.array(browser.eval("Array.from(window.studio.state.grey.data)"), np.uint16)
        assert np.array_equal(shown.reshape(corrected.shape[1:]), corrected[z]), f"slice {z}: shown grey differs"
    print("slices: stepped 0 -> 3 -> 2, grey bytes equal cache/corrected.tif", flush=True)

    # Paint: two strokes per phase on slice 2, one per phase on slice 3, each well inside that phase
    # of the run's labels; brush radius 3 px (1 px for the small pores).
    def set_brush(radius):
        browser.eval(f"(() => {{ const b = document.getElementById('brush'); b.value = {radius}; "
                     f"b.dispatchEvent(new Event('input')); }})()")

    painted = {}
    for z, per_phase in [(2, 2), (3, 1)]:
        if browser.eval("window.studio.state.z") != z:
            browser.key("ArrowRight", "ArrowRight", 39)
            browser.wait_for(f"window.studio.state.z === {z} && window.studio.state.busy === 0 && "
                             f"window.studio.state.annotations.has({z})", what=f"slice {z}")
        strokes = []
        for phase in range(3):
            browser.key(str(phase + 1), f"Digit{phase + 1}", 49 + phase, text=str(phase + 1))
            radius = 1 if phase == 0 else 3
            set_brush(radius)
            found = []
            for length in (14, 8, 5):
                found = found or strokes_inside(run_labels[z], phase, radius, length, per_phase)
            for (y, x0, x1) in found:
                start = browser.eval(f"window.studio.imageToClient({x0}, {y})")
                browser.mouse("mouseMoved", start["x"], start["y"])
                browser.mouse("mousePressed", start["x"], start["y"], buttons=1, button="left")
                for x in range(x0 + 1, x1 + 1):
                    p = browser.eval(f"window.studio.imageToClient({x}, {y})")
                    browser.mouse("mouseMoved", p["x"], p["y"], buttons=1)
                browser.mouse("mouseReleased", p["x"], p["y"], button="left")
                strokes.append((y, x0, x1, phase + 1, radius))
        assert {s[3] for s in strokes} == {1, 2, 3}, f"slice {z}: no room for a stroke of every phase"
        painted[z] = expected_codes(corrected.shape[1:], strokes)

    browser.click("#save")
    browser.wait_for("window.studio.state.savedCount >= 1", what="the save")
    for z, expected in painted.items():
        saved = np.array(Image.open(f"{work}/run/studio/annotations/annotation_{z:04d}.png"))
        assert saved.shape == expected.shape and np.array_equal(saved, expected), \
            f"slice {z}: the saved PNG differs from the strokes drawn in {np.count_nonzero(saved != expected)} pixels"
    with open(f"{work}/run/studio/annotations/index.csv") as f:
        assert f.read() == "slice,file,revision\n2,annotation_0002.png,1\n3,annotation_0003.png,1\n"
    print("save: annotation PNGs equal the strokes drawn (%s painted pixels)" %
          ", ".join(str(np.count_nonzero(c)) for c in painted.values()), flush=True)

    # Train, and compare the prediction shown with the CLI's from the same PNGs.
    browser.click("#train")
    browser.wait_for("window.studio.state.predictionZ === 3 && !document.getElementById('train').disabled",
                     timeout=120, what="training and the prediction")
    shown = np.array(browser.eval("Array.from(window.studio.state.prediction.labels)"), np.uint8)
    run([fibseg, "train", f"{work}/run/parameters_used.toml", "--stack", f"{work}/run/cache/corrected.tif",
         "--slice", 2, "--annotation", f"{work}/run/studio/annotations/annotation_0002.png",
         "--slice", 3, "--annotation", f"{work}/run/studio/annotations/annotation_0003.png",
         "--model", f"{work}/model.json"])
    run([fibseg, "predict", f"{work}/model.json", f"{work}/run/cache/corrected.tif", "--out", f"{work}/predicted",
         "--params", f"{work}/run/parameters_used.toml"])
    cli = np.array(Image.open(f"{work}/predicted/labels_0003.png"))  # phases.values 0, 1, 2 = indices
    assert np.array_equal(shown.reshape(cli.shape), cli), \
        f"prediction differs from fibseg train + predict in {np.count_nonzero(shown.reshape(cli.shape) != cli)} pixels"
    print(f"train: prediction of slice 3 equals fibseg train + fibseg predict ({cli.size} pixels)", flush=True)

    # Save model: the model file predicts what the page showed, and the parameter file runs it.
    browser.click("#save-model")
    browser.wait_for("document.getElementById('train-status').textContent.startsWith('model:')", what="the model save")
    with open(f"{work}/run/studio/params_classifier.toml") as f:
        text = f.read()
    assert 'method = "classifier"' in text and f'model = "{work}/run/studio/model.json"' in text, text[:2000]
    run([fibseg, "predict", f"{work}/run/studio/model.json", f"{work}/run/cache/corrected.tif", "--out",
         f"{work}/predicted_saved", "--params", f"{work}/run/studio/params_classifier.toml"])
    saved_model = np.array(Image.open(f"{work}/predicted_saved/labels_0003.png"))
    assert np.array_equal(saved_model, cli), "the saved model predicts otherwise than the page showed"
    print("save model: studio/model.json predicts the same; studio/params_classifier.toml runs it", flush=True)
    if args.screenshot:
        browser.eval("document.getElementById('show-uncertainty').click()")
        time.sleep(0.3)
        shot = browser.send("Page.captureScreenshot", {"format": "png"})["data"]
        import base64
        with open(args.screenshot, "wb") as f:
            f.write(base64.b64decode(shot))
        browser.eval("document.getElementById('show-uncertainty').click()")

    # The pore-threshold slider: the shown pore fraction is `fibseg run`'s with that value.
    def pore_fraction_after(value):
        before = browser.eval("window.studio.state.classicalDone || 0")
        browser.eval(f"(() => {{ const s = document.querySelector('input[data-name=\"segment.pore_threshold\"]'); "
                     f"s.value = {value}; s.dispatchEvent(new Event('input')); }})()")
        browser.wait_for(f"(window.studio.state.classicalDone || 0) > {before} && "
                         f"window.studio.state.overrides['segment.pore_threshold'] === '{value}'",
                         what="the classical preview")
        return float(browser.eval("document.getElementById('pore-fraction').textContent"))

    default_threshold = float(browser.eval(
        "document.querySelector('input[data-name=\"segment.pore_threshold\"]').value"))
    for value in (int(default_threshold) - 200, int(default_threshold) + 200):
        shown_fraction = pore_fraction_after(value)
        out = f"{work}/run_{value}"
        run([fibseg, "run", f"{work}/params.toml", "--set", f"segment.pore_threshold={value}",
             "--set", f"output.folder={out}"])
        cli_fraction = float(fractions_row(out, 3)["pore"])
        assert abs(shown_fraction - cli_fraction) < 1e-9, \
            f"pore threshold {value}: page shows {shown_fraction}, fibseg run gives {cli_fraction}"
        print(f"slider: pore threshold {value}: pore fraction of slice 3 {shown_fraction} = fibseg run's", flush=True)
    assert browser.eval("window.studio.state.lastError") == ""
    print("PASS", flush=True)


if __name__ == "__main__":
    # A SIGTERM (ctest's timeout, Ctrl+C's cousin) still runs the clean-up below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("browser_test: terminated"))
    try:
        main()
    finally:
        stop_all()
