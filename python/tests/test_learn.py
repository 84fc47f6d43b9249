"""Tuning and training from strokes: strokes painted from the CLI's labels of the phantom."""
import subprocess
import tomllib

import numpy as np
import pytest

import fibseg
from conftest import CLI


def strokes(labels, step=5):
    """Every `step`-th row painted with its label (1 pore, 2 SE, 3 CAM), the rest unpainted (0)."""
    a = np.zeros_like(labels)
    a[::step] = labels[::step] + 1
    return a


def test_tune_recovers_settings_that_match_the_strokes(cli_run):
    corrected, _ = fibseg.read_series(str(cli_run / "cache" / "corrected.tif"))
    labels, _ = fibseg.read_series(str(cli_run / "labels.tif"))
    s = np.ascontiguousarray(corrected[0])
    r = fibseg.tune(s, strokes(labels[0]))
    assert len(r["candidates"]) > 1
    assert r["candidates"][0]["settings"] == r["best"] and r["candidates"][0]["score"] == r["score"]
    scores = [c["score"] for c in r["candidates"]]
    assert scores == sorted(scores, reverse=True)
    assert 0 < r["cam_threshold"] < 255 and r["painted"]["pore"] > 0
    # the strokes come from the default settings' labels, so the best set matches them about as well
    again = fibseg.segment_classical(s, **r["best"])
    painted = strokes(labels[0]) > 0
    assert (again[painted] == labels[0][painted]).mean() >= r["score"] - 0.05


def test_tune_chooses_what_the_cli_chooses(cli_run, tmp_path):
    """`fibseg tune --write-config` and fibseg.tune on the same slice and strokes, with a narrowed sweep."""
    tifffile = pytest.importorskip("tifffile", reason="python3-tifffile missing: writes the annotation for the CLI")
    corrected, _ = fibseg.read_series(str(cli_run / "cache" / "corrected.tif"))
    labels, _ = fibseg.read_series(str(cli_run / "labels.tif"))
    s, a = np.ascontiguousarray(corrected[1]), strokes(labels[1], step=7)
    tifffile.imwrite(tmp_path / "slice.tif", s)
    tifffile.imwrite(tmp_path / "strokes.tif", a)
    sweep = dict(sigmas=[2, 4], lambdas=[8, 16], thetas=[0, 90])
    subprocess.run([CLI, "tune", "--image", str(tmp_path / "slice.tif"), "--annotation", str(tmp_path / "strokes.tif"),
                    "--sheet", str(tmp_path / "sheet.png"), "--write-config", str(tmp_path / "tuned.toml"),
                    "--sigmas", "2,4", "--lambdas", "8,16", "--thetas", "0,90"], check=True, capture_output=True)
    cli = tomllib.loads((tmp_path / "tuned.toml").read_text())["segment"]
    best = fibseg.tune(s, a, **sweep)["best"]
    assert {k.removeprefix("segment."): v for k, v in best.items()} == pytest.approx(cli, rel=1e-6)


def test_train_then_predict_reproduces_the_strokes(cli_run, tmp_path):
    corrected, _ = fibseg.read_series(str(cli_run / "cache" / "corrected.tif"))
    labels, _ = fibseg.read_series(str(cli_run / "labels.tif"))
    images = [np.ascontiguousarray(corrected[0])]
    annotation = strokes(labels[0])
    model = fibseg.train(images, [annotation], learn={"rounds": 20})
    predicted = fibseg.predict(model, corrected)
    assert predicted.shape == corrected.shape and set(np.unique(predicted)) <= {0, 1, 2}
    painted = annotation > 0
    assert (predicted[0][painted] == labels[0][painted]).mean() > 0.9
    model.save(str(tmp_path / "model.json"))
    again = fibseg.predict(fibseg.Model.load(str(tmp_path / "model.json")), corrected)
    assert again.tobytes() == predicted.tobytes()
    # a slice alone gives the same labels as that slice of the stack
    assert fibseg.predict(model, images[0]).tobytes() == predicted[0].tobytes()


def cli_and_python_labels(cli_run, tmp_path, *cli_args, **python_kw):
    """A model trained from strokes on the phantom's slice 0, applied to the stack by `fibseg predict`
    (labels read back from its PNGs) and by fibseg.predict."""
    corrected, _ = fibseg.read_series(str(cli_run / "cache" / "corrected.tif"))
    labels, _ = fibseg.read_series(str(cli_run / "labels.tif"))
    model = fibseg.train([np.ascontiguousarray(corrected[0])], [strokes(labels[0])], learn={"rounds": 10})
    model.save(str(tmp_path / "model.json"))
    subprocess.run([CLI, "predict", str(tmp_path / "model.json"), str(cli_run / "cache" / "corrected.tif"),
                    "--out", str(tmp_path / "out"), *cli_args], check=True, capture_output=True)
    image = pytest.importorskip("PIL.Image", reason="python3-pil missing: reads the CLI's label PNGs")
    # labels_NNNN.png hold phases.values, by default 0 pore, 1 SE, 2 CAM: the label indices
    from_cli = np.stack([np.asarray(image.open(tmp_path / "out" / f"labels_{z:04d}.png")) for z in range(len(corrected))])
    return from_cli, fibseg.predict(model, corrected, **python_kw), fibseg.predict(model, corrected)


def test_predict_gives_the_cli_labels(cli_run, tmp_path):
    """`fibseg predict` with a model saved from Python labels the stack as fibseg.predict does."""
    from_cli, from_python, _ = cli_and_python_labels(cli_run, tmp_path)
    assert from_cli.tobytes() == from_python.tobytes()


def test_refined_boundaries_are_the_same_from_the_cli_and_python(cli_run, tmp_path):
    """learn.refine_band moves boundaries after prediction, in `fibseg predict` as in fibseg.predict."""
    from_cli, refined, plain = cli_and_python_labels(cli_run, tmp_path, "--set", "learn.refine_band=3",
                                                     learn={"refine_band": 3})
    assert from_cli.tobytes() == refined.tobytes()
    changed = (refined != plain).mean()
    assert 0 < changed < 0.2  # boundaries moved, nothing else


def test_predict_uncertainty_is_entropy_of_the_probabilities(cli_run):
    corrected, _ = fibseg.read_series(str(cli_run / "cache" / "corrected.tif"))
    labels, _ = fibseg.read_series(str(cli_run / "labels.tif"))
    model = fibseg.train([np.ascontiguousarray(corrected[0])], [strokes(labels[0])], learn={"rounds": 10})
    assert "cross-validated IoU" in model.preset_choice  # learn.preset = auto, the default
    s = np.ascontiguousarray(corrected[1])
    found, probabilities, uncertainty = fibseg.predict_uncertainty(model, s)
    assert found.tobytes() == fibseg.predict(model, s).tobytes()
    p = np.stack(probabilities).astype(np.float64)
    assert p.shape == (3,) + s.shape and uncertainty.shape == s.shape and uncertainty.dtype == np.float32
    entropy = -(p * np.log(np.clip(p, 1e-7, 1))).sum(axis=0) / np.log(3)
    assert np.allclose(uncertainty, np.clip(entropy, 0, 1), atol=1e-4)
    assert 0 <= uncertainty.min() and uncertainty.max() <= 1
