#!/usr/bin/python3
"""A large 16-bit slice series for the peak-memory measurement (bench/README.md, Robustness).

`fibseg phantom` renders ~4 s per 2048 x 1536 slice on the shared 2-core machine, too slow for
hundreds of slices. This stretches a few rendered phantom slices instead: it walks through them
forwards and back (so consecutive slices are always neighbours of the phantom's volume, as a
real cut is), optionally enlarges them, and adds fresh noise to every slice (so no two slices
are the same file). What `fibseg run` does per slice, and so its memory, does not depend on
where the structure came from.

usage: make_big_stack.py PHANTOM_RAW_FOLDER OUT_FOLDER SLICES [SCALE]
"""
import pathlib
import sys

import cv2
import numpy as np
import tifffile


def main() -> None:
    source, out, slices = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), int(sys.argv[3])
    scale = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    rendered = []
    for f in sorted(source.glob("slice_*.tif")):
        image = tifffile.imread(f)
        if scale != 1:
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        rendered.append(image)
    if len(rendered) < 2:
        sys.exit(f"{source}: expected at least two phantom slices slice_*.tif")
    period = 2 * (len(rendered) - 1)
    rng = np.random.default_rng(1)
    out.mkdir(parents=True, exist_ok=True)
    for z in range(slices):
        k = z % period
        base = rendered[k if k < len(rendered) else period - k]
        noise = rng.integers(-300, 301, size=base.shape, dtype=np.int32)
        image = np.clip(base.astype(np.int32) + noise, 0, 65535).astype(np.uint16)
        tifffile.imwrite(out / f"slice_{z:04d}.tif", image)
    print(f"{out}: {slices} slices of {rendered[0].shape[1]}x{rendered[0].shape[0]} (16-bit)")


if __name__ == "__main__":
    main()
