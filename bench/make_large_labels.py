#!/usr/bin/python3
"""A large three-phase label volume for `fibseg measure --memory-limit` (issue 24): Z pages of
H x W, grey levels 0 / 1 / 2 from thresholds of a smooth periodic field (features ~10-20 voxels),
written page by page (never held whole) to a BigTIFF. Never committed: write it to /tmp.

    /usr/bin/python3 bench/make_large_labels.py /tmp/large_labels.tif --shape 300 4096 3072
"""
import argparse

import numpy as np
import tifffile


def page(z, h, w, rng_phases):
    y = np.arange(h, dtype=np.float64)[:, None]
    x = np.arange(w, dtype=np.float64)[None, :]
    f = np.zeros((h, w), np.float32)
    for (ky, kx, kz, phase) in rng_phases:
        # sin(a + b) = sin a cos b + cos a sin b: two outer products instead of a sine per voxel
        a, b = ky * y, kx * x + kz * z + phase
        f += (np.sin(a) * np.cos(b)).astype(np.float32)
        f += (np.cos(a) * np.sin(b)).astype(np.float32)
    labels = np.zeros((h, w), np.uint8)
    labels[f > -0.6] = 1
    labels[f > 0.9] = 2
    return labels


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--shape", type=int, nargs=3, default=[300, 4096, 3072], metavar=("Z", "H", "W"))
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    waves = []
    for _ in range(5):  # wave vectors of length ~0.2-0.4 rad/voxel: features of ~8-16 voxels
        d = rng.normal(size=3)
        d /= np.linalg.norm(d)
        k = rng.uniform(0.2, 0.4)
        waves.append((k * d[0], k * d[1], k * d[2], rng.uniform(0, 2 * np.pi)))
    z, h, w = a.shape
    with tifffile.TiffWriter(a.out, bigtiff=True) as tif:
        for i in range(z):
            tif.write(page(i, h, w, waves), contiguous=True)


if __name__ == "__main__":
    main()
