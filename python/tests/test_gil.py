"""The GIL is released while C++ works: another Python thread runs during the call.

How it is told apart without timing anything: the switch interval is set far longer than the call,
so a thread holding the GIL is never asked to hand it over. If the call kept the GIL, the main
thread (waiting on it since the worker announced the call) could only run once the worker had
finished and set `done`; it would count no step. If the call releases the GIL, the main thread
runs while the call is still busy and counts at least one step with `done` still False."""
import sys
import threading

import numpy as np
import pytest

import fibseg
from conftest import PHANTOM

rng = np.random.default_rng(1)
# big enough that each call lasts far longer than it takes the OS to wake the main thread
STACK = rng.integers(0, 255, (8, 512, 512), dtype=np.uint8)
SMALL = np.ascontiguousarray(STACK[0, :128, :128])  # training and tuning cost far more per pixel
STROKES = np.zeros_like(SMALL)
STROKES[::4] = np.arange(128) % 3 + 1


def steps_during(call):
    started, done, steps = threading.Event(), [False], [0]

    def worker():
        started.set()
        call()
        done[0] = True

    old = sys.getswitchinterval()
    sys.setswitchinterval(30.0)
    try:
        t = threading.Thread(target=worker)
        t.start()
        started.wait()
        while not done[0]:
            steps[0] += 1
            threading.Event().wait(0.001)  # gives the GIL back so the worker can finish
        t.join()
    finally:
        sys.setswitchinterval(old)
    return steps[0]


MODEL = fibseg.train([SMALL], [STROKES], learn={"rounds": 5})
CALLS = {
    "register": lambda: fibseg.register(STACK[:4]),
    "segment_classical": lambda: fibseg.segment_classical(np.concatenate([STACK] * 4)),
    "segment_classical slice": lambda: fibseg.segment_classical(np.tile(STACK[0], (4, 4))),
    "correct_brightness": lambda: fibseg.correct_brightness(np.concatenate([STACK] * 8)),
    "denoise": lambda: fibseg.denoise(STACK[:2], intensity={"denoise": "nlm"}),
    "apply_shifts": lambda: fibseg.apply_shifts(np.concatenate([STACK] * 4), np.full((32, 2), 0.5)),
    "tune": lambda: fibseg.tune(SMALL, STROKES, sigmas=[2, 4]),
    "train": lambda: fibseg.train([SMALL], [STROKES], learn={"rounds": 5}),
    "predict": lambda: fibseg.predict(MODEL, STACK[:2]),
}


@pytest.mark.parametrize("name", CALLS)
def test_another_thread_runs_during_the_call(name):
    assert steps_during(CALLS[name]) > 0, f"{name} kept the GIL for the whole call"


def test_the_check_sees_a_call_that_keeps_the_gil():
    """The same check on pure Python work (which holds the GIL) counts nothing."""
    assert steps_during(lambda: sum(i * i for i in range(3_000_000))) == 0


def test_run_releases_the_gil(phantom_dir, tmp_path):
    out = tmp_path / "out"
    config = {"input.path": str(phantom_dir / "raw"), "output.folder": str(out), "output.slice_pngs": False}
    assert steps_during(lambda: fibseg.run(config)) > 0
