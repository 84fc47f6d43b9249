"""Tuning and training from strokes: strokes painted from the CLI's labels of the phantom."""
import numpy as np

import fibseg


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
    assert r["candidates"] > 1
    # the strokes come from the default settings' labels, so the best set matches them about as well
    again = fibseg.segment_classical(s, **r["best"])
    painted = strokes(labels[0]) > 0
    assert (again[painted] == labels[0][painted]).mean() >= r["score"] - 0.05


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
