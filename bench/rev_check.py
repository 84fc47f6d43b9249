#!/usr/bin/python3
"""Reads metrics.json of `fibseg measure ... --tortuosity-mode rev` (the full solve fitting too)
and prints, per phase and axis, tau mean +- std per REV edge and the full value; the check of
issue 24: the largest edge's mean is within its std, or within 2 % of the full tau, whichever is
larger.

    /usr/bin/python3 bench/rev_check.py OUT/metrics.json
"""
import json
import sys

m = json.load(open(sys.argv[1]))
ok = True
for name, ph in m["phases"].items():
    for axis, edges in ph.get("tortuosity_rev", {}).items():
        full = ph.get("tortuosity_full", {}).get(axis)
        for e in edges:
            print(f"{name} tau_{axis} edge {e['edge_voxels']:4d}: {e['tau_mean']} +- {e['tau_std']}")
        last = edges[-1]
        if full is None or last["tau_mean"] is None:
            print(f"{name} tau_{axis}: full {full}, no comparison")
            continue
        allowed = max(last["tau_std"], 0.02 * full)
        within = abs(last["tau_mean"] - full) <= allowed
        ok &= within
        print(f"{name} tau_{axis}: full {full:.4f}, largest edge mean {last['tau_mean']:.4f}, "
              f"|diff| {abs(last['tau_mean'] - full):.4f} <= {allowed:.4f}: {'yes' if within else 'NO'}")
sys.exit(0 if ok else 1)
