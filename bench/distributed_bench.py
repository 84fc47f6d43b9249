#!/usr/bin/python3
"""bench/README.md "Distributed": fibseg.distributed against `fibseg run` on one machine.

    PYTHONPATH=build/python nice /usr/bin/python3 bench/distributed_bench.py [--work DIR] [--phantom DIR]
        [--repeats N] [--no-measure]

For each case: `fibseg run` (output.threads = 2) and fibseg.distributed on a LocalCluster of
2 single-threaded worker processes (then 1), interleaved `--repeats` times (local, distributed,
local, distributed, ...) so both see the same load; wall and CPU time (user + system of every
process), the load average, same-output checks (labels byte for byte, transforms.csv,
phase_fractions.csv; TIFF and OME-Zarr), the workers' peak RSS, and the task seconds the cost
model uses. The distributed wall is the run on a started cluster; the cluster's start is printed
apart. Prints Markdown lines for the README.
"""
import argparse
import json
import os
import pathlib
import resource
import shutil
import sys
import subprocess
import time

import distributed

import fibseg
import fibseg.distributed as fd

ROOT = pathlib.Path(__file__).resolve().parents[1]
CLI = os.environ.get("FIBSEG_CLI", str(ROOT / "build" / "fibseg"))
LCO = pathlib.Path(os.environ.get("FIBSEG_REAL_DATA", "/work/shared/data/real")) / "lco-fibsem" / "bse"


MEASURE = True  # --no-measure: measure.enabled = false (the same C++ on the client in both executors)


def config(raw, out, fmt="tiff", **extra):
    c = {"input.path": str(raw), "output.folder": str(out), "output.format": fmt, "output.threads": 2,
         "output.report": False, "measure.tortuosity": False, "measure.sizes": False}
    if not MEASURE:
        c["measure.enabled"] = False
    c.update(extra)
    return c


def load():
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def toml(c):
    sections = {}
    for key, value in c.items():
        section, name = key.split(".")
        text = json.dumps(value) if isinstance(value, str) else str(value).lower()
        sections.setdefault(section, []).append(f"{name} = {text}\n")
    return "".join(f"[{s}]\n" + "".join(lines) for s, lines in sections.items())


def run_cli(c, folder):
    path = folder / (pathlib.Path(c["output.folder"]).name + ".toml")
    path.write_text(toml(c))
    start = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", CLI, "run", str(path), "--overwrite"], capture_output=True,
                       text=True, check=True)
    rss, user, system = r.stderr.strip().splitlines()[-1].split()
    return time.perf_counter() - start, int(rss) // 1024, float(user) + float(system)


def peak_rss_mib():
    # VmHWM, the high-water mark of this process's own memory: getrusage's ru_maxrss is carried over
    # exec from the parent, so a spawned worker would report the client's size at its start.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def children_cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_dask(c, workers):
    start = time.perf_counter()
    cluster, client = fd.cluster.local_cluster(workers)  # as fibseg.distributed.run(client=None) and --local N
    print(f"  (LocalCluster of {workers} started in {time.perf_counter() - start:.1f} s)")
    try:
        with distributed.get_task_stream(client) as stream:
            workers_before = sum(client.run(cpu_seconds).values())
            start, client_cpu, epoch = time.perf_counter(), cpu_seconds(), time.time()
            fd.run(c, client, overwrite=True)
            wall, client_cpu = time.perf_counter() - start, cpu_seconds() - client_cpu
        rss = client.run(peak_rss_mib)
        workers_total = sum(client.run(cpu_seconds).values())
        cpu = client_cpu + workers_total  # client + scheduler (in process) + workers, their start-up included
        print(f"    CPU in the run: client and scheduler {client_cpu:.2f} s, workers {workers_total - workers_before:.2f} s "
              f"(their start-up before it: {workers_before:.2f} s)")
        tasks = {}
        for t in stream.data:
            stage = t["key"].split("-")[1] if t["key"].startswith("fibseg-") else "other"
            seconds = sum(s["stop"] - s["start"] for s in t["startstops"] if s["action"] == "compute")
            tasks.setdefault(stage, []).append(seconds)
        timeline(stream.data, epoch, wall)
        return wall, max(rss.values()), tasks, cpu
    finally:
        client.close()
        cluster.close()


def timeline(data, epoch, wall):
    """Per worker, its tasks in order (stage block: start-stop s after the run's start) and the time
    it had no task: where the second worker idles."""
    by_worker = {}
    for t in data:
        if not t["key"].startswith("fibseg-"):
            continue
        _, stage, block = t["key"].split("-")[:3]
        for s in t["startstops"]:
            if s["action"] == "compute":
                by_worker.setdefault(t["worker"], []).append((s["start"] - epoch, s["stop"] - epoch, f"{stage} {block}"))
    for n, (worker, spans) in enumerate(sorted(by_worker.items())):
        spans.sort()
        busy = sum(stop - begin for begin, stop, _ in spans)
        text = ", ".join(f"{name} {begin:.2f}-{stop:.2f}" for begin, stop, name in spans)
        print(f"    worker {n}: busy {busy:.2f} s of {wall:.2f} s (idle {wall - busy:.2f} s): {text}")
    if by_worker:
        last = max(stop for spans in by_worker.values() for _, stop, _ in spans)
        print(f"    after the last task: {wall - last:.2f} s on the client (reductions, last joins, run.json, switch-in)")


def same(a, b, names):
    return all((a / n).read_bytes() == (b / n).read_bytes() for n in names)


def same_tree(a, b):
    fa = {p.relative_to(a): p.read_bytes() for p in a.rglob("*") if p.is_file()}
    fb = {p.relative_to(b): p.read_bytes() for p in b.rglob("*") if p.is_file()}
    return fa == fb


def case(name, raw, work, workers_list=(2, 1), zarr=True, repeats=1):
    print(f"\n### {name}: {raw}")
    names = ["labels.tif", "aligned.tif", "transforms.csv", "phase_fractions.csv"]
    for repeat in range(repeats):
        print(f"- round {repeat + 1} (load average {load()})")
        local_wall, local_rss, local_cpu = run_cli(config(raw, work / f"{name}-local"), work)
        print(f"  - fibseg run (2 threads): {local_wall:.1f} s wall, {local_cpu:.1f} CPU s, peak RSS {local_rss} MiB")
        for workers in workers_list:
            out = work / f"{name}-dask{workers}"
            wall, rss, tasks, cpu = run_dask(config(raw, out), workers)
            ok = same(work / f"{name}-local", out, names)
            summary = ", ".join(f"{stage} {len(s)} tasks {sum(s):.1f} s" for stage, s in sorted(tasks.items()))
            print(f"  - fibseg.distributed, {workers} single-threaded worker(s): {wall:.1f} s wall "
                  f"({wall / local_wall:.2f}x fibseg run), {cpu:.1f} CPU s ({cpu / local_cpu:.2f}x; workers' "
                  f"start-up included), peak RSS per worker {rss} MiB; task compute: {summary}; "
                  f"same labels.tif, aligned.tif, transforms.csv, phase_fractions.csv: {ok}")
    if zarr:
        run_cli(config(raw, work / f"{name}-zlocal", "ome-zarr"), work)
        run_dask(config(raw, work / f"{name}-zdask", "ome-zarr"), 2)
        ok = same_tree(work / f"{name}-zlocal" / "labels.zarr", work / f"{name}-zdask" / "labels.zarr") and same(
            work / f"{name}-zlocal", work / f"{name}-zdask", ["transforms.csv", "phase_fractions.csv"])
        print(f"- ome-zarr: fibseg run and fibseg.distributed (2 workers) give the same labels.zarr (every chunk "
              f"and metadata file byte for byte), transforms.csv, phase_fractions.csv: {ok}")


def main():
    sys.stdout.reconfigure(line_buffering=True)
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", default="/tmp/fibseg-distributed-bench")
    parser.add_argument("--size", default="2048x1536", help="phantom slice size WxH (the issue's: 2048x1536)")
    parser.add_argument("--memory-size", default="2048x1536", help="slice size WxH of the 20 / 200 slice runs")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-lco", action="store_true")
    parser.add_argument("--memory-only", action="store_true", help="only the 20 / 200 slice memory runs")
    parser.add_argument("--skip-zarr", action="store_true")
    parser.add_argument("--phantom", help="an existing phantom folder (fibseg phantom DIR ...) instead of making one")
    parser.add_argument("--repeats", type=int, default=1, help="interleaved rounds of local and distributed runs")
    parser.add_argument("--workers", default="2,1", help="worker counts of the distributed runs")
    parser.add_argument("--no-measure", action="store_true", help="measure.enabled = false in every run")
    args = parser.parse_args()
    global MEASURE
    MEASURE = not args.no_measure
    work = pathlib.Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    workers = tuple(int(n) for n in args.workers.split(","))
    if args.memory_only:
        pass
    elif args.phantom:
        phantom = pathlib.Path(args.phantom)
        shape = json.loads((phantom / "phantom.json").read_text()) if (phantom / "phantom.json").exists() else {}
        label = f"phantom {phantom.name} {shape.get('slices', '')} x {shape.get('width', '')} x {shape.get('height', '')}"
    else:
        w, h = map(int, args.size.split("x"))
        phantom = work / "phantom60"
        fibseg.phantom(str(phantom), width=w, height=h, slices=60, seed=1)
        label = f"phantom 60 x {w} x {h}"
    if not args.memory_only:
        case(label, phantom / "raw", work, workers_list=workers, zarr=not args.skip_zarr, repeats=args.repeats)
    if args.skip_lco or args.memory_only:
        pass
    elif LCO.is_dir():
        case("lco-fibsem bse", LCO, work, workers_list=(2,), zarr=not args.skip_zarr, repeats=args.repeats)
    else:
        print(f"\n(lco-fibsem/bse not found at {LCO}: not measured)")
    if not args.skip_memory:
        print("\n### Peak memory per worker against the number of slices")
        w, h = map(int, args.memory_size.split("x"))
        for slices in (20, 200):
            fibseg.phantom(str(work / f"m{slices}"), width=w, height=h, slices=slices, seed=2)
            _, rss, _, _ = run_dask(config(work / f"m{slices}" / "raw", work / f"m{slices}-out", **{"align.write_aligned": False}), 2)
            print(f"- {slices} slices of {w} x {h}: peak RSS per worker {rss} MiB")
            shutil.rmtree(work / f"m{slices}")
            shutil.rmtree(work / f"m{slices}-out")


if __name__ == "__main__":
    main()
