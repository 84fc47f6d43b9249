"""fibseg.distributed: the dask executor gives what `fibseg run` gives (labels byte for byte,
transforms.csv, phase fractions), in TIFF and OME-Zarr, and survives a killed worker and a
killed client. One LocalCluster of 2 worker processes serves every test and is closed after."""
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from conftest import CLI, fibseg, np

distributed = pytest.importorskip("distributed", reason="python3-distributed missing (scripts/install-deps)")
zarr = pytest.importorskip("zarr", reason="python3-zarr missing (scripts/install-deps)")
import fibseg.distributed as fd  # noqa: E402
from fibseg.distributed import cluster as fd_cluster  # noqa: E402

# 3 blocks of 4 slices and a short last one: uneven blocks, edge chunks in y and x.
PHANTOM = dict(width=200, height=160, slices=11, seed=7)
BLOCK = 4
COMPARED = ["transforms.csv", "phase_fractions.csv", "brightness.csv", "preview/histogram.csv", "metrics.json",
            "view3d_labels.png", "preview/ortho_xz_labels.png"]


# registration chains of 5 slices: 3 chain tasks, the later ones started 5 and 8 slices early
CHAIN = 5


def params(raw, out, fmt="tiff", block=BLOCK, **extra):
    config = {"input.path": str(raw), "output.folder": str(out), "output.format": fmt, "output.block_slices": block,
              "align.chain_slices": CHAIN, "output.report": False, "measure.tortuosity": False,
              "measure.sizes": False}
    config.update({key.replace("__", "."): value for key, value in extra.items()})
    return config


def toml(config):
    sections = {}
    for key, value in config.items():
        section, name = key.split(".")
        text = json.dumps(value) if isinstance(value, str) else str(value).lower()
        sections.setdefault(section, []).append(f"{name} = {text}\n")
    return "".join(f"[{section}]\n" + "".join(lines) for section, lines in sections.items())


def cli(config, folder):
    path = folder / "params.toml"
    path.write_text(toml(config))
    subprocess.run([CLI, "run", str(path)], check=True, capture_output=True)
    return pathlib.Path(config["output.folder"])


def assert_same(a, b, names):
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), f"{name} differs"
    pngs = sorted(p.name for p in (a / "segmented").iterdir())
    assert pngs == sorted(p.name for p in (b / "segmented").iterdir())
    for name in pngs:
        assert (a / "segmented" / name).read_bytes() == (b / "segmented" / name).read_bytes(), name


def zarr_files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dphantom")
    fibseg.phantom(str(folder), **PHANTOM)
    return folder / "raw"


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, resources={"fibseg": 1},
                                       dashboard_address=":0", memory_limit="2GiB")
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def local_tiff(raw, tmp_path_factory):
    folder = tmp_path_factory.mktemp("local_tiff")
    return cli(params(raw, folder / "out"), folder)


def test_same_output_as_fibseg_run(raw, local_tiff, client, tmp_path):
    lines = []
    summary = fd.run(params(raw, tmp_path / "out"), client, progress=lines.append)
    out = pathlib.Path(summary["output_folder"])
    assert_same(local_tiff, out, COMPARED + ["labels.tif", "aligned.tif"])
    local = json.loads((local_tiff / "run.json").read_text())
    assert list(summary["fractions"]) == [p["name"] for p in local["phases"]]
    assert list(summary["fractions"].values()) == list(local["phase_fractions"].values())
    # the same progress lines and summary as `fibseg run` (correct and segment one task a block)
    assert any(line.startswith("correct and segment : 11/11 done") for line in lines)
    assert any(line.startswith("done: 11 slices") for line in lines)
    # the folder's promise: run.json last, listing every output, nothing of the tasks left
    listed = {o["file"] for o in json.loads((out / "run.json").read_text())["outputs"]}
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {"run.json"}
    assert listed == on_disk
    assert not (out / ".blocks").exists() and not (out / ".fibseg-staging").exists()
    # the cache `--from segment`, `fibseg corrected` and the studio read, as `fibseg run` leaves it
    assert (out / "cache" / "corrected.json").read_bytes() == (local_tiff / "cache" / "corrected.json").read_bytes()


def test_two_passes_when_segmentation_needs_the_whole_stack(raw, client, tmp_path):
    # otsu_scope = stack: the threshold of the whole corrected stack, so correct, then segment
    local = cli(params(raw, tmp_path / "local", segment__otsu_scope="stack"), tmp_path)
    lines = []
    summary = fd.run(params(raw, tmp_path / "dask", segment__otsu_scope="stack"), client, progress=lines.append)
    assert_same(local, pathlib.Path(summary["output_folder"]), COMPARED + ["labels.tif", "aligned.tif"])
    assert any(line.startswith("correct : 11/11 done") for line in lines)
    assert any(line.startswith("segment : 11/11 done") for line in lines)


def test_ome_zarr_same_as_fibseg_run_and_readable(raw, local_tiff, client, tmp_path):
    local = cli(params(raw, tmp_path / "local", "ome-zarr"), tmp_path)
    summary = fd.run(params(raw, tmp_path / "dask", "ome-zarr"), client)
    out = pathlib.Path(summary["output_folder"])
    for volume in ("labels.zarr", "aligned.zarr"):
        assert zarr_files(local / volume) == zarr_files(out / volume), f"{volume} differs"
    assert_same(local, out, ["transforms.csv", "phase_fractions.csv"])
    assert (local / "transforms.csv").read_bytes() == (local_tiff / "transforms.csv").read_bytes()
    # no aligned.tif here: the grey stack is cache/aligned.tif, joined from the blocks
    for name in ("cache/corrected.json", "cache/aligned.tif"):
        assert (local / name).read_bytes() == (out / name).read_bytes(), f"{name} differs"
    # `fibseg corrected` and `fibseg run --from segment` work on the distributed run's folder
    for folder in (local, out):
        subprocess.run([CLI, "corrected", str(folder)], check=True, capture_output=True)
    assert (local / "cache/corrected.tif").read_bytes() == (out / "cache/corrected.tif").read_bytes()

    # read back with zarr-python: the values are labels.tif's, chunks are the task blocks
    tifffile = pytest.importorskip("tifffile")
    truth = tifffile.imread(str(local_tiff / "labels.tif"))
    group = zarr.open_group(str(out / "labels.zarr"), mode="r")
    level0 = group["0"]
    assert level0.shape == truth.shape and level0.dtype == np.uint8
    assert np.array_equal(level0[:], truth)
    assert level0.chunks[0] == BLOCK
    assert np.array_equal(zarr.open_group(str(out / "aligned.zarr"), mode="r")["0"][:],
                          tifffile.imread(str(local_tiff / "aligned.tif")))
    # multiscales: z, y, x in micrometres, scale = voxel size, y and x halved per level (nearest)
    run = json.loads((out / "run.json").read_text())
    xy, dz = run["pixel_size_nm"] / 1000, run["slice_thickness_nm"] / 1000
    (ms,) = group.attrs["multiscales"]
    assert ms["version"] == "0.4"
    assert [a["name"] for a in ms["axes"]] == ["z", "y", "x"]
    assert {a["unit"] for a in ms["axes"]} == {"micrometer"}
    assert len(ms["datasets"]) >= 3
    for level, dataset in enumerate(ms["datasets"]):
        scale = dataset["coordinateTransformations"][0]["scale"]
        assert scale == pytest.approx([dz, xy * 2 ** level, xy * 2 ** level])
        assert np.array_equal(group[dataset["path"]][:], truth[:, :: 2 ** level, :: 2 ** level])
    # image-label: every phase's name, value and colour as run.json has them
    label = group.attrs["image-label"]
    assert [(p["label-value"], p["name"]) for p in label["properties"]] == [(p["value"], p["name"]) for p in run["phases"]]
    assert [c["rgba"][:3] for c in label["colors"]] == [p["colour"] for p in run["phases"]]

    # the measure stage read labels.zarr block by block: the TIFF run's metrics; and so does
    # `fibseg measure` on the store, with the voxel size from its NGFF scale
    tiff_metrics = json.loads((local_tiff / "metrics.json").read_text())
    for metrics in (json.loads((out / "metrics.json").read_text()), json.loads((local / "metrics.json").read_text())):
        assert metrics["phases"] == tiff_metrics["phases"] and metrics["interfaces"] == tiff_metrics["interfaces"]
    subprocess.run([CLI, "measure", str(out / "labels.zarr"), "--out", str(tmp_path / "m"), "--phases",
                    ",".join(f"{p['key']}={p['value']}" for p in run["phases"]), "--no-tortuosity", "--no-sizes"],
                   check=True, capture_output=True)
    measured = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert measured["voxel_size_um"] == pytest.approx([xy, xy, dz])
    assert measured["phases"] == tiff_metrics["phases"] and measured["interfaces"] == tiff_metrics["interfaces"]

    # last, as it replaces the run: `--from segment` reuses the distributed run's cache
    again = tmp_path / "again.toml"
    again.write_text(toml(params(raw, out, "ome-zarr")))
    rerun = subprocess.run([CLI, "run", str(again), "--from", "segment"], check=True, capture_output=True, text=True)
    assert "reusing the aligned, corrected stack" in rerun.stderr
    assert zarr_files(local / "labels.zarr") == zarr_files(out / "labels.zarr")


def test_a_worker_killed_mid_run_changes_nothing(raw, local_tiff, client, tmp_path):
    pids = client.run(os.getpid)
    victim = sorted(pids.values())[0]
    killed = []

    def progress(line):
        # while the correction tasks are out: kill -9 one worker process (its nanny restarts it)
        if line.startswith("correct") and not killed:
            os.kill(victim, signal.SIGKILL)
            killed.append(line)

    summary = fd.run(params(raw, tmp_path / "out", block=1), client, progress=progress)
    assert killed, "the worker was not killed"
    assert_same(local_tiff, pathlib.Path(summary["output_folder"]), COMPARED + ["labels.tif", "aligned.tif"])
    client.wait_for_workers(2, timeout=60)


def test_a_killed_client_is_resumed_with_only_the_missing_blocks(raw, local_tiff, client, tmp_path):
    config = params(raw, tmp_path / "out", block=1)
    path = tmp_path / "params.toml"
    path.write_text(toml(config))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    address = client.scheduler.address
    blocks = pathlib.Path(config["output.folder"]) / ".fibseg-staging" / ".blocks"
    with subprocess.Popen([sys.executable, "-m", "fibseg.distributed", str(path), "--scheduler", address],
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as first:
        try:
            for _ in range(3000):  # until some segmentation blocks are done, at most a minute
                if len(list(blocks.glob("segment_*.cbor"))) >= 2 or first.poll() is not None:
                    break
                time.sleep(0.02)
            first.send_signal(signal.SIGKILL)
        finally:
            first.kill()
    done = {p.stem for p in blocks.glob("*.cbor")}
    assert not (pathlib.Path(config["output.folder"]) / "run.json").exists(), "the client finished before the kill"
    assert any(name.startswith("segment_") for name in done)
    client.wait_for_workers(2, timeout=60)
    time.sleep(0.5)  # tasks the dead client left running finish (each writes its block whole)
    done = {p.stem for p in blocks.glob("*.cbor")}
    with distributed.get_task_stream(client) as stream:
        summary = fd.run(config, client)
    ran = {t["key"] for t in stream.data}
    # a block corrected and segmented in one task is done when its segment record is there
    ran_blocks = {k.split("-")[1].replace("correct_segment", "segment") + "_" + "%05d" % int(k.split("-")[2])
                  for k in ran if k.count("-") >= 3 and not k.startswith("fibseg-register")}
    every = {f"segment_{b:05d}" for b in range(PHANTOM["slices"])}
    assert not (ran_blocks & done), "a finished block ran again"
    assert ran_blocks <= every - done
    assert "register" not in " ".join(ran), "the registration ran again"
    assert_same(local_tiff, pathlib.Path(summary["output_folder"]), COMPARED + ["labels.tif", "aligned.tif"])


def test_clear_errors(client, monkeypatch, tmp_path):
    with pytest.raises(RuntimeError, match="tcp://127.0.0.1:9"):
        fd_cluster.connect("tcp://127.0.0.1:9", timeout=2)
    missing = tmp_path / "scheduler.json"
    with pytest.raises(RuntimeError, match=str(missing)):
        fd_cluster.connect(scheduler_file=str(missing))
    monkeypatch.setattr(fd_cluster, "client_version", lambda: "0.0.0-other")
    with pytest.raises(RuntimeError, match=f"fibseg {fibseg.__version__}, this client fibseg 0.0.0-other"):
        fd_cluster.check_workers(client, 1, "1 MiB")
    monkeypatch.undo()
    with pytest.raises(RuntimeError, match="memory limit of 2048 MiB .* needs about 3072 MiB for a block"):
        fd_cluster.check_workers(client, 3 << 30, "3072 MiB for a block")


def test_z_context_classifier_probabilities_and_uncertainty_maps(raw, local_tiff, client, tmp_path):
    # A classifier with z context sees each slice's neighbours: a block's first and last slices get
    # theirs from the blocks beside it (a halo of one slice), so every label is fibseg run's.
    tifffile = pytest.importorskip("tifffile")
    subprocess.run([CLI, "corrected", str(local_tiff), "--out", str(tmp_path / "corrected.tif")], check=True,
                   capture_output=True)
    labels = tifffile.imread(str(local_tiff / "labels.tif"))
    strokes = np.zeros_like(labels[1])
    strokes[::6] = labels[1][::6] + 1  # every 6th row painted with its phase (1 pore, 2 SE, 3 CAM)
    tifffile.imwrite(tmp_path / "strokes.tif", strokes)
    subprocess.run([CLI, "train", "--stack", str(tmp_path / "corrected.tif"), "--slice", "1", "--annotation",
                    str(tmp_path / "strokes.tif"), "--model", str(tmp_path / "z.json"), "--set",
                    "learn.z_context=above_below", "--set", "learn.rounds=10"], check=True, capture_output=True)
    extra = dict(segment__method="classifier", learn__model=str(tmp_path / "z.json"),
                 learn__z_context="above_below", output__uncertainty_pngs=True, learn__probabilities=True)
    local = cli(params(raw, tmp_path / "local", **extra), tmp_path)
    summary = fd.run(params(raw, tmp_path / "dask", **extra), client)
    out = pathlib.Path(summary["output_folder"])
    uncertainty = sorted(p.relative_to(local).as_posix() for p in local.rglob("uncertainty*"))
    assert "uncertainty_regions.csv" in uncertainty and any(p.startswith("segmented/uncertainty_") for p in uncertainty)
    probabilities = sorted(p.name for p in local.glob("probability_*.tif"))
    assert probabilities == ["probability_cam.tif", "probability_pore.tif", "probability_se.tif"]
    assert_same(local, out, COMPARED + ["labels.tif", "aligned.tif"] + uncertainty + probabilities)
