"""examples/walkthrough.ipynb runs headless from top to bottom, so it cannot rot."""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import SOURCE


def test_walkthrough_notebook_executes(tmp_path):
    pytest.importorskip("nbconvert", reason="python3-nbconvert missing (scripts/install-deps installs it)")
    pytest.importorskip("ipykernel", reason="python3-ipykernel missing (scripts/install-deps installs it)")
    notebook = tmp_path / "walkthrough.ipynb"
    shutil.copy(SOURCE / "examples" / "walkthrough.ipynb", notebook)
    env = dict(os.environ, MPLBACKEND="agg", FIBSEG_HEADLESS="1")
    r = subprocess.run([sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute", "--inplace",
                        "--ExecutePreprocessor.timeout=120", str(notebook)],
                       capture_output=True, text=True, env=env, cwd=SOURCE / "examples")
    assert r.returncode == 0, r.stderr[-3000:]
