#!/usr/bin/python3
"""How blurred a data set's phase boundaries are: the 10-90 % rise of the mean grey across a
phase's boundary, in px (bench/README.md, Learn, defaults, section 12). Tells whether a boundary
refinement band fitted to each set's edge blur could separate the sets where wider half-contrast
bands help (lco-fibsem) from those where they hurt (the TauFactor electrode, the phantom).

  edge_width.py lco DIR          lco-fibsem: BSE slices against the manual CAM masks (DIR/bse, DIR/masks)
  edge_width.py phantom DIR      `fibseg phantom DIR` output: slice 0 against its truth, per phase
  edge_width.py electrode FILE   TauFactor's electrode.tiff, z = 100, a grey per phase blurred at
                                 sigma 0.8-2 px (learn_defaults_check renders it at 1.2)
"""
import glob
import sys

import numpy as np
from PIL import Image
from scipy import ndimage as ndi


def rise_width(grey, mask, reach=8):
    """10-90 % width (px) of the mean grey against the signed distance to `mask`'s boundary."""
    grey = grey.astype(float)
    signed = np.where(mask, ndi.distance_transform_edt(mask) - 0.5, -(ndi.distance_transform_edt(~mask) - 0.5))
    offsets = np.arange(-reach, reach + 1)
    means = np.array([grey[np.abs(signed - k) < 0.5].mean() if (np.abs(signed - k) < 0.5).any() else np.nan
                      for k in offsets])
    keep = ~np.isnan(means)
    offsets, rise = offsets[keep], (means[keep] - means[keep][0]) / (means[keep][-1] - means[keep][0])

    def crossing(level):
        i = int(np.argmax(rise >= level))
        return offsets[i - 1] + (level - rise[i - 1]) / (rise[i] - rise[i - 1])
    return crossing(0.9) - crossing(0.1)


def main(kind, path):
    if kind == "lco":
        widths = []
        for mask_path in sorted(glob.glob(path + "/masks/*.png")):
            mask = np.array(Image.open(mask_path))
            grey = np.array(Image.open(mask_path.replace("/masks/", "/bse/")))
            mask, grey = (a[..., 0] if a.ndim == 3 else a for a in (mask, grey))
            widths.append(rise_width(grey, mask == mask.max()))
        print(f"lco-fibsem CAM, {len(widths)} slices: median {np.median(widths):.2f} px, "
              f"range {min(widths):.2f}-{max(widths):.2f}")
    elif kind == "phantom":
        import tifffile
        truth = tifffile.imread(path + "/truth_labels.tif")[0]
        grey = tifffile.imread(path + "/raw/slice_0000.tif")[: truth.shape[0]]
        for phase in np.unique(truth):
            print(f"phantom phase {phase}: {rise_width(grey, truth == phase):.2f} px")
    elif kind == "electrode":
        import tifffile
        labels = tifffile.imread(path)[100]
        values = np.unique(labels)
        grey = np.select([labels == values[0], labels == values[1]], [60.0, 200.0], 120.0)
        for sigma in (0.8, 1.0, 1.2, 1.6, 2.0):
            width = rise_width(ndi.gaussian_filter(grey, sigma), labels == values[1])
            print(f"electrode, blur sigma {sigma}: {width:.2f} px")
    else:
        sys.exit(f"edge_width.py: unknown set {kind!r} (lco, phantom or electrode)")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
