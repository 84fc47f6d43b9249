#!/usr/bin/python3
"""Reference figures for fibseg's surface areas (bench/README.md, Measure).

1. scikit-image marching cubes (Lewiner, level 0.5, no smoothing, as TauFactor's notebook) on
   TauFactor's electrode volume, per phase, per voxel: compare with bench/measure_bench's ssa_*.
2. How close to the truth each estimator can be on structures like that volume's: a smooth
   Gaussian random field thresholded at 15 % / 45 % (feature sizes ~2 and ~3 voxels), whose true
   surface is marching cubes on the field itself at 4x resolution; the voxel volume is the field
   sampled every 4th point. Prints raw marching cubes on the voxels against that truth.
Usage: /usr/bin/python3 bench/surface_area_check.py [path/to/electrode.tiff]
"""
import sys

import numpy as np
import tifffile
from skimage.measure import marching_cubes, mesh_surface_area

path = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/real/taufactor-electrode/electrode.tiff"
labels = tifffile.imread(path)
for name, value in [("pore", 0), ("nmc", 85), ("cbd", 170)]:
    verts, faces, _, _ = marching_cubes((labels == value).astype(np.float32), 0.5)
    print(f"skimage marching cubes, {name}: {mesh_surface_area(verts, faces) / labels.size:.4f} per voxel")


def periodic_area(field, level):
    padded = np.pad(field, ((0, 1),) * 3, mode="wrap")  # one period, no box faces
    verts, faces, _, _ = marching_cubes(padded, level)
    return mesh_surface_area(verts, faces)


rng = np.random.default_rng(1)
n, m = 64, 4
k = np.fft.fftfreq(n * m, d=1 / m)
kz, ky, kx = np.meshgrid(k, k, k, indexing="ij")
for ell, fraction in [(2, 0.15), (2, 0.45), (3, 0.15), (3, 0.45)]:
    spectrum = np.exp(-(kx**2 + ky**2 + kz**2) * (np.pi * ell) ** 2)
    noise = rng.standard_normal(spectrum.shape).astype(np.float32)
    field = np.real(np.fft.ifftn(np.fft.fftn(noise) * np.sqrt(spectrum))).astype(np.float32)
    level = np.quantile(field, 1 - fraction)
    truth = periodic_area(field, level) / m**2 / n**3
    voxels = field[::m, ::m, ::m] > level
    raw = periodic_area(voxels.astype(np.float32), 0.5) / n**3
    print(f"random field ell={ell} fraction={fraction}: true {truth:.4f}, raw marching cubes {raw / truth - 1:+.1%}")
