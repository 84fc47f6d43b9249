#!/usr/bin/python3
"""A straightforward Python implementation of fibseg's classical method, for `make bench` to time
against: what the seed notebook does, with scikit-image and OpenCV from Debian's packages
(python3-skimage, python3-opencv, python3-tifffile). Loads the whole stack, registers consecutive
slices with phase_cross_correlation (sub-pixel), shifts, crops to the common area, then Otsu + Gabor
+ threshold per slice, and writes label PNGs, colour PNGs and a 3D label TIFF.

usage: reference_python.py INPUT_FOLDER OUTPUT_FOLDER DATA_BAR_ROWS
"""
import glob
import os
import re
import sys

import cv2
import numpy as np
import tifffile
from scipy.ndimage import shift as shift_image
from skimage.filters import threshold_otsu
from skimage.registration import phase_cross_correlation

# The same Gabor set and pore threshold as fibseg's defaults would be tuned to; the values only
# change which pixels are pores, not the work done.
GABOR = dict(ksize=(15, 15), sigma=3.0, theta=0.0, lambd=10.0, gamma=1.0, psi=0.0)
PORE_THRESHOLD = 150


def natural_key(name):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def main(input_folder, output_folder, bar_rows):
    files = sorted(glob.glob(os.path.join(input_folder, "*.tif")), key=natural_key)
    slices = [tifffile.imread(f) for f in files]
    slices = [s[: s.shape[0] - bar_rows] for s in slices]

    shifts = [np.zeros(2)]
    for previous, current in zip(slices, slices[1:]):
        step, _, _ = phase_cross_correlation(previous, current, upsample_factor=20)
        shifts.append(shifts[-1] + step)

    aligned = [shift_image(s.astype(np.float32), sh, order=3) for s, sh in zip(slices, shifts)]
    all_shifts = np.array(shifts)
    top, left = np.ceil(np.maximum(all_shifts.max(axis=0), 0)).astype(int)
    bottom, right = np.floor(np.minimum(all_shifts.min(axis=0), 0)).astype(int)
    h, w = aligned[0].shape
    aligned = [np.clip(a[top: h + bottom, left: w + right], 0, 255).astype(np.uint8) for a in aligned]

    kernel = cv2.getGaborKernel(**GABOR)
    os.makedirs(output_folder, exist_ok=True)
    colours = np.array([[255, 255, 255], [230, 90, 40], [0, 140, 255]], dtype=np.uint8)  # BGR
    volume = []
    for i, image in enumerate(aligned):
        cam = image > threshold_otsu(image)
        inverted = 255 - image
        inverted[cam] = 0
        response = cv2.filter2D(inverted, cv2.CV_8U, kernel)
        labels = np.ones(image.shape, np.uint8)
        labels[response > PORE_THRESHOLD] = 0
        labels[cam] = 2
        cv2.imwrite(os.path.join(output_folder, "labels_%04d.png" % i), labels)
        cv2.imwrite(os.path.join(output_folder, "colour_%04d.png" % i), colours[labels])
        volume.append(labels)
    tifffile.imwrite(os.path.join(output_folder, "labels.tif"), np.stack(volume), imagej=True)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
