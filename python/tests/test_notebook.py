"""examples/walkthrough.ipynb runs headless from top to bottom, so it cannot rot."""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from conftest import SOURCE

REAL = pathlib.Path(os.environ.get("FIBSEG_REAL_DATA") or SOURCE.parent / "shared" / "data" / "real")
HAVE_REAL = (REAL / "lco-fibsem" / "bse").is_dir()


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    pytest.importorskip("nbconvert", reason="python3-nbconvert missing (scripts/install-deps installs it)")
    pytest.importorskip("ipykernel", reason="python3-ipykernel missing (scripts/install-deps installs it)")
    notebook = tmp_path_factory.mktemp("notebook") / "walkthrough.ipynb"
    shutil.copy(SOURCE / "examples" / "walkthrough.ipynb", notebook)
    # The kernel runs in the copy's folder, so the real data is named by the variable the C++ tests
    # use too; the figures are drawn inline (matplotlib's default in a kernel), as a person sees them.
    env = dict(os.environ, FIBSEG_HEADLESS="1", FIBSEG_REAL_DATA=str(REAL))
    env.pop("MPLBACKEND", None)
    import fibseg  # the kernel imports the module this test imports, wherever PYTHONPATH is relative to
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(os.path.abspath(fibseg.__file__))), env.get("PYTHONPATH", "")])
    r = subprocess.run([sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute", "--inplace",
                        "--ExecutePreprocessor.timeout=300", str(notebook)],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(notebook.read_text())


def outputs(notebook, heading):
    """The text and the number of pictures the code cells under `heading` (a markdown cell) put out."""
    text, pictures, under = "", 0, False
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            under = "".join(cell["source"]).lstrip("# ").startswith(heading)
        elif under:
            for o in cell["outputs"]:
                text += "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
                pictures += "image/png" in o.get("data", {})
    return text, pictures


@pytest.mark.parametrize("heading", ["1. A phantom", "2. Crop the data bar", "3. Intensity", "4. Classical",
                                     "5. Painting strokes", "6. Tuning", "7. Training", "Metrics", "8. The whole"])
def test_every_step_shows_its_picture(executed, heading):
    text, pictures = outputs(executed, heading)
    assert pictures > 0, f"no picture under '{heading}'"


def test_tuning_and_training_are_checked_against_the_truth(executed):
    tune, _ = outputs(executed, "6. Tuning")
    assert "chosen: {'segment.gabor_kernel_size'" in tune and "IoU vs truth, tuned settings" in tune
    train, _ = outputs(executed, "7. Training")
    assert "IoU vs truth, trained" in train


def test_the_metrics_place_waits_for_the_binding(executed):
    text, _ = outputs(executed, "Metrics")
    import fibseg
    assert ("not in this build yet" in text) != hasattr(fibseg, "measure")


def test_the_real_stack_where_the_data_is(executed):
    text, pictures = outputs(executed, "9. A real stack")
    if not HAVE_REAL:
        assert "skipped" in text
        pytest.skip("../shared/data/real/lco-fibsem/bse absent: the notebook skipped its real stack")
    assert "CAM vs manual masks" in text and pictures >= 3


def test_the_sliders_draw(tmp_path):
    """With ipywidgets (the notebook's interactive path, which headless execution leaves out), every
    slider's callback draws: the notebook as a script, where interact calls each once."""
    pytest.importorskip("ipywidgets", reason="python3-ipywidgets missing: the notebook runs without sliders")
    pytest.importorskip("nbconvert", reason="python3-nbconvert missing (scripts/install-deps installs it)")
    subprocess.run([sys.executable, "-m", "nbconvert", "--to", "script", str(SOURCE / "examples" / "walkthrough.ipynb"),
                    "--output-dir", str(tmp_path)], check=True, capture_output=True)
    import fibseg
    env = dict(os.environ, MPLBACKEND="agg", FIBSEG_REAL_DATA=str(REAL),
               PYTHONPATH=os.pathsep.join([os.path.dirname(os.path.dirname(os.path.abspath(fibseg.__file__))), os.environ.get("PYTHONPATH", "")]))
    env.pop("FIBSEG_HEADLESS", None)
    r = subprocess.run([sys.executable, "walkthrough.py"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    calls = sum(1 for line in (tmp_path / "walkthrough.py").read_text().splitlines() if line.strip().startswith("slider("))
    drawn = calls if HAVE_REAL else calls - 1  # the real stack's slider only with the real stack
    assert calls >= 5 and r.stdout.count("ipywidgets.widgets.interaction.interactive") == drawn, r.stdout[-2000:]
