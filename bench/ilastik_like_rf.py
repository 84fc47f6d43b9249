#!/usr/bin/env python3
"""fibseg's classifier with its registry defaults against an ilastik-like random forest (issue 25).

Both learn from the same strokes on two images of a set and are scored on the set's other images
against their truth (mean over phases of the IoU pooled over the scored images; lco-fibsem also
CAM IoU, the mean of the per-slice particle IoU, as tests/cli/lco_segmentation_test.cpp scores it).

The forest is what issue 25 compares with: ilastik's pixel features (Gaussian smoothing, Laplacian
of Gaussian, Gaussian gradient magnitude, difference of Gaussians (sigma and 0.66 sigma),
structure-tensor eigenvalues (inner scale sigma, outer 0.5 sigma) and Hessian-of-Gaussian
eigenvalues) at sigma 0.7, 1, 1.6, 3.5, 5, 10 px on the raw grey (ilastik does not normalise),
48 features, and scikit-learn's RandomForestClassifier with 100 trees (ilastik's default count;
sqrt(features) per split as vigra's forest), trained on every painted pixel.

fibseg: `fibseg.train` / `fibseg.predict` with the registry's defaults (learn.preset = auto), only
the phase names given. Images are 2D (no z context for either).

Sets (`--only`, comma separated; default all):
  lco            lco-fibsem BSE, particle vs rest, strokes like the test's (12 px lines inside each
                 phase's mask eroded by 4 px, 1.5 % of slices Image00070 and Image00200; this script's
                 random generator, so not pixel for pixel the test's), scored on the other 25
  phantom        fibseg's phantom (3 phases, raw slices with their gain drift), 6 slices of 384 x 320,
                 strokes 1 px inside the phases on 1 % of slices 0 and 3, scored on the other 4
  grains-2|4-8|16[-gain]
                 a second family made here: Voronoi grains, each grain one phase; 2 or 4 phases with
                 their own grey and texture (in the 4-phase set two phases share a mean grey and differ
                 only in texture), blurred, noisy; 8-bit or 16-bit (grey x 200 + 1000); "-gain": each
                 image's grey x U(0.85, 1.15) + U(-10, 10) (x 200 at 16 bit); 6 images of 384 x 320,
                 strokes as the phantom's
Usage:
  cmake --build build -j2 --target fibseg_python
  nice /usr/bin/python3 bench/ilastik_like_rf.py [--only lco,phantom,...] [--build build]
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np
import cv2
from scipy import ndimage as ndi

SIGMAS = [0.7, 1.0, 1.6, 3.5, 5.0, 10.0]


# ---- the ilastik-like forest ----

def _eig2(a, b, c):
    """Eigenvalues (larger, smaller) of the symmetric 2x2 [[a, b], [b, c]] per pixel."""
    mean = 0.5 * (a + c)
    root = np.sqrt(0.25 * (a - c) ** 2 + b * b)
    return mean + root, mean - root


def ilastik_features(image):
    """48 float32 planes (H x W x 48): ilastik's default feature types at its six scales."""
    img = image.astype(np.float32)
    out = []
    for s in SIGMAS:
        g = ndi.gaussian_filter(img, s)
        out.append(g)
        out.append(ndi.gaussian_laplace(img, s))
        out.append(ndi.gaussian_gradient_magnitude(img, s))
        out.append(g - ndi.gaussian_filter(img, 0.66 * s))
        gy = ndi.gaussian_filter(img, s, order=(1, 0))
        gx = ndi.gaussian_filter(img, s, order=(0, 1))
        outer = 0.5 * s
        out.extend(_eig2(ndi.gaussian_filter(gx * gx, outer), ndi.gaussian_filter(gx * gy, outer),
                         ndi.gaussian_filter(gy * gy, outer)))
        hxx = ndi.gaussian_filter(img, s, order=(0, 2))
        hxy = ndi.gaussian_filter(img, s, order=(1, 1))
        hyy = ndi.gaussian_filter(img, s, order=(2, 0))
        out.extend(_eig2(hxx, hxy, hyy))
    return np.stack(out, axis=-1).astype(np.float32)


def forest_train_predict(train_images, annotations, score_images, trees):
    from sklearn.ensemble import RandomForestClassifier
    t0, c0 = time.perf_counter(), time.process_time()
    rows, labels = [], []
    for image, a in zip(train_images, annotations):
        f = ilastik_features(image)
        painted = a > 0
        rows.append(f[painted])
        labels.append(a[painted] - 1)
    forest = RandomForestClassifier(n_estimators=trees, n_jobs=2, random_state=0)
    forest.fit(np.concatenate(rows), np.concatenate(labels))
    train = (time.perf_counter() - t0, time.process_time() - c0)
    t0, c0 = time.perf_counter(), time.process_time()
    predicted = []
    for image in score_images:
        f = ilastik_features(image)
        predicted.append(forest.predict(f.reshape(-1, f.shape[-1])).reshape(image.shape).astype(np.uint8))
    predict = (time.perf_counter() - t0, time.process_time() - c0)
    return predicted, train, predict


# ---- fibseg with its registry defaults ----

def fibseg_train_predict(fibseg, train_images, annotations, score_images, phase_names):
    n = len(phase_names)
    kw = {"phases": {"names": ", ".join(phase_names), "values": ", ".join(str(p) for p in range(n)),
                     "colours": "; ".join("%d %d %d" % (40 * p, 255 - 40 * p, 100) for p in range(n))}}
    t0, c0 = time.perf_counter(), time.process_time()
    model = fibseg.train(train_images, annotations, **kw)
    train = (time.perf_counter() - t0, time.process_time() - c0)
    t0, c0 = time.perf_counter(), time.process_time()
    predicted = [np.asarray(fibseg.predict(model, np.ascontiguousarray(i), **kw)) for i in score_images]
    predict = (time.perf_counter() - t0, time.process_time() - c0)
    choice = model.preset_choice if hasattr(model, "preset_choice") else ""
    return predicted, train, predict, choice


# ---- strokes and scores ----

def strokes(truth, phases, fraction, inset, seed):
    """Code p + 1 on 12 px 1-px lines at random inside phase p eroded by `inset` px, until
    `fraction` of the image is painted, shared evenly by the phases."""
    rng = np.random.default_rng(seed)
    a = np.zeros(truth.shape, np.uint8)
    per_phase = int(fraction * truth.size / phases)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * inset + 1, 2 * inset + 1))
    for p in range(phases):
        inside = cv2.erode((truth == p).astype(np.uint8), kernel) if inset else (truth == p).astype(np.uint8)
        ys, xs = np.nonzero(inside)
        if len(ys) == 0:
            continue
        painted = 0
        for _ in range(100000):
            if painted >= per_phase:
                break
            k = rng.integers(len(ys))
            t = rng.uniform(0, np.pi)
            line = np.zeros(truth.shape, np.uint8)
            cv2.line(line, (int(xs[k]), int(ys[k])), (int(xs[k] + 12 * np.cos(t)), int(ys[k] + 12 * np.sin(t))), 1, 1)
            line &= inside & (a == 0)
            a[line > 0] = p + 1
            painted += int(line.sum())
    return a


def ious(predicted, truths, phases):
    both = np.zeros(phases)
    either = np.zeros(phases)
    for l, t in zip(predicted, truths):
        known = t != 255
        for p in range(phases):
            both[p] += np.count_nonzero((l == p) & (t == p))
            either[p] += np.count_nonzero(((l == p) | (t == p)) & known)
    return both / np.maximum(either, 1)


# ---- the sets ----

def lco_set(root):
    names = sorted(os.listdir(os.path.join(root, "masks")))
    images = [cv2.imread(os.path.join(root, "bse", n), cv2.IMREAD_GRAYSCALE) for n in names]
    truths = [(cv2.imread(os.path.join(root, "masks", n), cv2.IMREAD_GRAYSCALE) == 1).astype(np.uint8) for n in names]
    trained = [4, 17]
    annotations = [strokes(truths[i], 2, 0.015, 4, 11 + i) for i in trained]
    return images, truths, trained, annotations, ["rest", "particle"]


def grains_set(phases, bits, gain, seed=3, count=6, shape=(320, 384)):
    rng = np.random.default_rng(seed)
    means = {2: [70, 170], 4: [60, 130, 130, 200]}[phases]
    textures = {2: [6, 6], 4: [4, 4, 22, 8]}[phases]  # noise sd inside a grain before blur
    images, truths = [], []
    for i in range(count):
        n = 260
        cy, cx = rng.uniform(0, shape[0], n), rng.uniform(0, shape[1], n)
        grain_phase = rng.integers(0, phases, n)
        yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
        # Voronoi by nearest seed (in blocks: n x H x W would be large).
        nearest = np.zeros(shape, np.int32)
        best = np.full(shape, np.inf)
        for k in range(n):
            d = (yy - cy[k]) ** 2 + (xx - cx[k]) ** 2
            closer = d < best
            best[closer] = d[closer]
            nearest[closer] = k
        truth = grain_phase[nearest].astype(np.uint8)
        grey = np.zeros(shape, np.float32)
        for p in range(phases):
            tex = ndi.gaussian_filter(rng.normal(0, textures[p], shape), 0.8) * 2.5
            grey[truth == p] = (means[p] + tex)[truth == p]
        grey = ndi.gaussian_filter(grey, 1.0) + rng.normal(0, 8, shape)
        if gain:
            grey = grey * rng.uniform(0.85, 1.15) + rng.uniform(-10, 10)
        if bits == 8:
            image = np.clip(grey, 0, 255).astype(np.uint8)
        else:
            image = np.clip(grey * 200 + 1000, 0, 65535).astype(np.uint16)
        images.append(image)
        truths.append(truth)
    trained = [0, 3]
    annotations = [strokes(truths[i], phases, 0.01, 1, 20 + i) for i in trained]
    return images, truths, trained, annotations, ["phase %d" % p for p in range(phases)]


def run_set(name, images, truths, trained, annotations, phase_names, fibseg, trees, lco):
    phases = len(phase_names)
    scored = [i for i in range(len(images)) if i not in trained]
    train_images = [images[i] for i in trained]
    score_images = [images[i] for i in scored]
    score_truths = [truths[i] for i in scored]
    painted = sum(int(np.count_nonzero(a)) for a in annotations)
    f_pred, f_train, f_predict, choice = fibseg_train_predict(fibseg, train_images, annotations, score_images, phase_names)
    r_pred, r_train, r_predict = forest_train_predict(train_images, annotations, score_images, trees)
    f_iou, r_iou = ious(f_pred, score_truths, phases), ious(r_pred, score_truths, phases)
    mpx = sum(i.size for i in score_images) / 1e6
    line = "%-16s %d phases, %5d px painted, %2d scored | fibseg mIoU %.3f (%s) | forest mIoU %.3f (%s)" % (
        name, phases, painted, len(scored), f_iou.mean(), " ".join("%.3f" % v for v in f_iou), r_iou.mean(),
        " ".join("%.3f" % v for v in r_iou))
    if lco:
        cam = lambda pred: np.mean([np.count_nonzero((p == 1) & (t == 1)) / np.count_nonzero((p == 1) | (t == 1))
                                    for p, t in zip(pred, score_truths)])
        line += " | CAM IoU fibseg %.3f forest %.3f" % (cam(f_pred), cam(r_pred))
    line += (" | train wall/CPU s fibseg %.1f/%.1f forest %.1f/%.1f | predict %.2f Mpx: fibseg %.1f/%.1f forest %.1f/%.1f"
             % (f_train + r_train + (mpx,) + f_predict + r_predict))
    print(line, flush=True)
    if choice and os.environ.get("SHOW_PRESET"):
        print(choice, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="comma-separated set names (default: all)")
    parser.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--data", default=os.environ.get("FIBSEG_REAL_DATA", "/work/shared/data/real"))
    args = parser.parse_args()
    sys.path.insert(0, os.path.join(args.build, "python"))
    import fibseg
    sets = ["lco", "phantom"] + ["grains-%d-%d%s" % (p, b, g) for p in (2, 4) for b in (8, 16) for g in ("", "-gain")]
    wanted = [s for s in args.only.split(",") if s] or sets
    for name in wanted:
        if name == "lco":
            root = os.path.join(args.data, "lco-fibsem")
            if not os.path.isdir(os.path.join(root, "masks")):
                print("lco: skipped, %s/masks not found" % root)
                continue
            run_set(name, *lco_set(root), fibseg, args.trees, lco=True)
        elif name == "phantom":
            with tempfile.TemporaryDirectory() as tmp:
                images, truths = phantom_images(fibseg, tmp)
            trained = [0, 3]
            annotations = [strokes(truths[i], 3, 0.01, 1, 20 + i) for i in trained]
            run_set(name, images, truths, trained, annotations, ["pore", "SE", "CAM"], fibseg, args.trees, lco=False)
        elif name.startswith("grains-"):
            parts = name.split("-")
            run_set(name, *grains_set(int(parts[1]), int(parts[2]), len(parts) > 3), fibseg, args.trees, lco=False)
        else:
            parser.error("unknown set " + name)


def phantom_images(fibseg, tmp):
    """The phantom's raw slices (data bar cut) and truth labels (0 pore, 1 SE, 2 CAM) moved into
    each slice's frame by its recorded shift (255 where the shift brings no truth: not scored)."""
    import tifffile
    folder = os.path.join(tmp, "phantom")
    bar = 40
    fibseg.phantom(folder, 384, 320 + bar, 6, 7, 8, False)
    truth = tifffile.imread(os.path.join(folder, "truth_labels.tif"))
    shifts = np.loadtxt(os.path.join(folder, "truth_shifts.csv"), delimiter=",", skiprows=1)
    images, truths = [], []
    for z in range(truth.shape[0]):
        raw = tifffile.imread(os.path.join(folder, "raw", "slice_%04d.tif" % z))
        images.append(np.ascontiguousarray(raw[: truth.shape[1]]))
        move = np.float32([[1, 0, shifts[z, 1]], [0, 1, shifts[z, 2]]])
        truths.append(cv2.warpAffine(truth[z], move, (truth.shape[2], truth.shape[1]), flags=cv2.INTER_NEAREST,
                                     borderMode=cv2.BORDER_CONSTANT, borderValue=255))
    return images, truths


if __name__ == "__main__":
    main()
