"""The Slurm recipe (examples/slurm/fibseg-dask.sbatch: a dask scheduler and 2 workers as Slurm
tasks, then the client) on the phantom gives what `fibseg run` gives. Needs a running Slurm
(.ci/run starts one with scripts/slurm-local); skips with a message otherwise."""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import SOURCE, fibseg
from test_distributed import PHANTOM, assert_same, cli, params, toml


def slurm_up():
    if not shutil.which("sbatch") or not shutil.which("sinfo"):
        return "no Slurm client (sbatch, sinfo)"
    r = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=30)
    if r.returncode != 0 or not any(s in r.stdout for s in ("idle", "mixed", "allocated")):
        return "no Slurm running (start one: eval \"$(scripts/slurm-local start)\", as .ci/run does)"
    return None


def test_the_sbatch_recipe_gives_the_same_output(tmp_path):
    why = slurm_up()
    if why:
        pytest.skip(why)
    fibseg.phantom(str(tmp_path / "phantom"), **PHANTOM)
    raw = tmp_path / "phantom" / "raw"
    local = cli(params(raw, tmp_path / "local"), tmp_path)
    config = tmp_path / "slurm.toml"
    config.write_text(toml(params(raw, tmp_path / "slurm")))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p), FIBSEG_PYTHON=sys.executable)
    log = tmp_path / "job.log"
    r = subprocess.run(["sbatch", "--wait", "--ntasks=3", "--cpus-per-task=1", "--mem-per-cpu=1G", "--time=10",
                        f"--chdir={tmp_path}", f"--output={log}", str(SOURCE / "examples/slurm/fibseg-dask.sbatch"),
                        str(config)], env=env, capture_output=True, text=True, timeout=900)
    text = log.read_text() if log.exists() else ""
    assert r.returncode == 0, f"sbatch: {r.stderr}\n{text[-3000:]}"
    assert "2 worker(s) x 1 thread(s)" in text
    assert "done: 11 slices" in text
    assert_same(local, tmp_path / "slurm", ["labels.tif", "aligned.tif", "transforms.csv", "phase_fractions.csv"])
