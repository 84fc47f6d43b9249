#!/usr/bin/python3
"""A two-phase 500^3 label volume for the REV check of `fibseg measure --tortuosity-mode rev`
(issue 24): Gaussian-smoothed white noise, sigma 6 voxels along x and 2 along y and z (elongated,
aligned features like an electrode's), thresholded so 30 % of the voxels are pore (255; a
Gaussian field's excursion set percolates well above ~16 %), the rest solid (0). Never committed.

    /usr/bin/python3 bench/make_rev_volume.py /tmp/rev_volume.tif [--size 500] [--seed 1]
"""
import argparse

import numpy as np
import tifffile
from scipy import ndimage


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fraction", type=float, default=0.30)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    field = rng.standard_normal((a.size,) * 3, dtype=np.float32)
    field = ndimage.gaussian_filter(field, sigma=(2, 2, 6), mode="wrap")  # (z, y, x)
    threshold = np.quantile(field[::4, ::4, ::4], 1 - a.fraction)
    labels = np.where(field > threshold, 255, 0).astype(np.uint8)
    del field
    tifffile.imwrite(a.out, labels, bigtiff=labels.nbytes > 2**31)
    print(f"{a.out}: {labels.shape}, pore fraction {np.mean(labels == 255):.4f}")


if __name__ == "__main__":
    main()
