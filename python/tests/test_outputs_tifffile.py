"""The stacks `fibseg run` writes (labels.tif deflated, aligned.tif uncompressed) and the one
`fibseg corrected` writes (cache/corrected.tif, uncompressed) open in tifffile as in Fiji: an
ImageJ stack with every page, the voxel size, and labels whose per-slice phase fractions are
those of phase_fractions.csv."""
import csv
import json

import numpy as np
import pytest


def test_run_stacks_open_in_tifffile_as_imagej_stacks(cli_run):
    tifffile = pytest.importorskip("tifffile", reason="python3-tifffile missing: scripts/install-deps installs it")
    run = json.loads((cli_run / "run.json").read_text())
    slices, crop = run["slices"], run["crop"]
    for name in ["labels.tif", "aligned.tif", "cache/corrected.tif"]:
        with tifffile.TiffFile(cli_run / name) as tif:
            assert tif.is_imagej, name
            meta = tif.imagej_metadata
            assert meta["images"] == slices and meta["slices"] == slices, name
            if run["pixel_size_nm"] > 0:
                assert meta["unit"] == "micron", name
                assert meta["spacing"] == pytest.approx(run["slice_thickness_nm"] / 1000), name
            data = tif.asarray()
            assert data.shape == (slices, crop["height"], crop["width"]), name
            assert data.dtype == np.uint8, name
            if name == "labels.tif":
                assert tif.pages[0].compression == tifffile.COMPRESSION.ADOBE_DEFLATE
                labels = data
    assert set(np.unique(labels)) <= {0, 1, 2}
    with open(cli_run / "phase_fractions.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["slice"] != "total"]
    for z, row in enumerate(rows):
        for value, phase in enumerate(["pore", "se", "cam"]):
            assert np.mean(labels[z] == value) == pytest.approx(float(row[phase]), abs=1e-5), (z, phase)
