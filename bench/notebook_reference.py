#!/usr/bin/env python3
"""The original notebook's segmentation, re-written from its description (issue 14) with
scikit-image and OpenCV, and its agreement with fibseg's segment.method = notebook.

    bench/notebook_reference.py FIBSEG_LABELS_FOLDER SLICE.png... [--remove-vertical-lines]

FIBSEG_LABELS_FOLDER holds fibseg's labels (0 pore, 1 SE, 2 CAM) of each slice under the same
file name, as written by `build/bench/notebook_labels`. Prints per-slice agreement (fraction of
pixels with the same label) and where the rest differs. Needs Debian's python3-skimage and
python3-opencv (run with /usr/bin/python3).
"""
import os
import sys
import time

import cv2
import numpy as np
from skimage import io
from skimage.filters import threshold_otsu
from skimage.restoration import denoise_nl_means


def notebook_labels(img, remove_vertical_lines=False, clip_lim=2, grid=4, kernel=(10, 1), median=5, pores=140):
    img = cv2.createCLAHE(clipLimit=clip_lim, tileGridSize=(grid, grid)).apply(img)
    denoised = denoise_nl_means(img, h=0.04, fast_mode=True, patch_size=5, patch_distance=6)
    cam = (denoised > threshold_otsu(denoised)).astype(np.uint8) * 255
    if remove_vertical_lines:
        cam = cv2.morphologyEx(cam, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, kernel))
        cam = cv2.medianBlur(cam, median)
    candidates = img.copy()
    candidates[cam > 0] = 0
    gabor = cv2.getGaborKernel((90, 90), 1.0, np.pi / 3, 10, 1.9, 0)
    response = cv2.filter2D(candidates, cv2.CV_8U, gabor)
    response[cam > 0] = 255
    response = cv2.medianBlur(response, 5)
    labels = np.ones(img.shape, np.uint8)
    labels[response < pores] = 0
    labels[cam > 0] = 2
    return labels


def main():
    args = [a for a in sys.argv[1:] if a != "--remove-vertical-lines"]
    rvl = "--remove-vertical-lines" in sys.argv
    folder, slices = args[0], args[1:]
    worst = 1.0
    names = ["pore", "SE", "CAM"]
    wall = cpu = 0.0
    for path in slices:
        img = io.imread(path)
        if img.ndim == 3:
            img = cv2.cvtColor(img[..., :3], cv2.COLOR_RGB2GRAY)
        start, cpu_start = time.perf_counter(), time.process_time()
        ref = notebook_labels(img, rvl)
        wall += time.perf_counter() - start
        cpu += time.process_time() - cpu_start
        ours = io.imread(os.path.join(folder, os.path.basename(path)))
        same = ref == ours
        agreement = same.mean()
        worst = min(worst, agreement)
        diff = {f"{names[a]}->{names[b]}": int(((ref == a) & (ours == b)).sum())
                for a in range(3) for b in range(3) if a != b and ((ref == a) & (ours == b)).any()}
        print(f"{os.path.basename(path)}: agreement {agreement:.5f}  differing px (notebook->fibseg): {diff}")
    print(f"lowest agreement {worst:.5f} over {len(slices)} slices")
    print(f"segmentation per slice: {wall / len(slices):.4f} s wall, {cpu / len(slices):.4f} s CPU "
          f"(mean of {len(slices)} slices, reading excluded)")


if __name__ == "__main__":
    main()
