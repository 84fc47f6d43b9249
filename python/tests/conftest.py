"""Shared set-up: the module (skipped with a message when it or numpy is missing), the CLI, and
one small phantom run by the CLI that the tests compare against."""
import os
import pathlib
import subprocess

import pytest

np = pytest.importorskip("numpy", reason="numpy missing: scripts/install-deps installs python3-numpy")
fibseg = pytest.importorskip("fibseg", reason="module fibseg not built: needs pybind11-dev and python3-dev, "
                             "then PYTHONPATH=build/python")

CLI = os.environ.get("FIBSEG_CLI", "build/fibseg")
SOURCE = pathlib.Path(os.environ.get("FIBSEG_SOURCE", pathlib.Path(__file__).resolve().parents[2]))
# Small enough that the CLI run and the Python run take about a second each.
PHANTOM = dict(width=160, height=128, slices=6, seed=3)


def run_config(raw, out):
    # Tortuosity and local thickness (seconds per run) are left to the measure stage's own tests.
    return {"input.path": str(raw), "output.folder": str(out), "output.slice_pngs": False,
            "measure.tortuosity": False, "measure.sizes": False}


@pytest.fixture(scope="session")
def phantom_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("phantom")
    fibseg.phantom(str(folder), **PHANTOM)
    return folder


@pytest.fixture(scope="session")
def cli_run(phantom_dir, tmp_path_factory):
    """`fibseg run` on the phantom: its output folder."""
    folder = tmp_path_factory.mktemp("cli")
    out = folder / "out"
    config = folder / "params.toml"
    config.write_text(f'[input]\npath = "{phantom_dir / "raw"}"\n[output]\nfolder = "{out}"\nslice_pngs = false\n'
                      '[measure]\ntortuosity = false\nsizes = false\n')
    subprocess.run([CLI, "run", str(config)], check=True, capture_output=True)
    # The run keeps one grey stack (aligned.tif) and the brightness reference; the corrected
    # slices its segmentation saw are written on demand, as a user does for train/predict.
    assert not (out / "cache" / "corrected.tif").exists()
    subprocess.run([CLI, "corrected", str(out)], check=True, capture_output=True)
    return out
