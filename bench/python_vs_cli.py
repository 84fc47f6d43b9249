#!/usr/bin/env python3
"""The Python path against the CLI on the same work (issue 17): `fibseg run` and `fibseg.run()` on
one phantom, interleaved, REPEAT times each; prints both medians and the difference.
Usage: PYTHONPATH=build/python bench/python_vs_cli.py [--build build] [--slices 40] [--repeat 5]"""
import argparse
import pathlib
import shutil
import statistics
import subprocess
import tempfile
import time

import fibseg

ap = argparse.ArgumentParser()
ap.add_argument("--build", default="build")
ap.add_argument("--slices", type=int, default=40)
ap.add_argument("--width", type=int, default=1024)
ap.add_argument("--height", type=int, default=768)
ap.add_argument("--repeat", type=int, default=5)
a = ap.parse_args()

work = pathlib.Path(tempfile.mkdtemp(prefix="fibseg-pybench-"))
fibseg.phantom(str(work / "phantom"), width=a.width, height=a.height, slices=a.slices, seed=3)
raw = work / "phantom" / "raw"
config = work / "params.toml"  # one parameter file for both paths
cli, py = [], []
for i in range(a.repeat):
    for which in ("cli", "python"):
        out = work / which
        shutil.rmtree(out, ignore_errors=True)
        t = time.perf_counter()
        if which == "cli":
            config.write_text(f'[input]\npath = "{raw}"\n[output]\nfolder = "{out}"\n')
            subprocess.run([f"{a.build}/fibseg", "run", str(config)], check=True, capture_output=True)
            cli.append(time.perf_counter() - t)
        else:
            config.write_text(f'[input]\npath = "{raw}"\n[output]\nfolder = "{out}"\n')
            fibseg.run(str(config))
            py.append(time.perf_counter() - t)
c, p = statistics.median(cli), statistics.median(py)
print(f"phantom {a.slices} x {a.width}x{a.height}, {a.repeat} runs each, interleaved")
print(f"fibseg run   median {c:.3f} s  (runs: {', '.join(f'{x:.3f}' for x in cli)})")
print(f"fibseg.run() median {p:.3f} s  (runs: {', '.join(f'{x:.3f}' for x in py)})")
print(f"Python / CLI = {p / c:.3f}")
shutil.rmtree(work)
