"""Connecting to dask (a scheduler address, a scheduler file, or a LocalCluster) and checking the
workers before any task is sent: the fibseg module and its version, and their memory."""
import json
import os

import dask
import distributed

from .. import _fibseg

# Run on each worker by value (cloudpickle copies functions of __main__), so it runs even where
# the fibseg module is missing, and says so instead of failing to unpickle a task.
_PROBE = '''
def probe():
    try:
        import fibseg
    except Exception as error:
        return "none (import fibseg failed: %r)" % (error,)
    return getattr(fibseg, "__version__", "unknown")
'''


def _probe():
    namespace = {"__name__": "__main__"}
    exec(_PROBE, namespace)
    return namespace["probe"]


def client_version():
    return _fibseg.__version__


def connect(scheduler=None, scheduler_file=None, timeout=20):
    """A Client for an address or a scheduler file, or a clear error naming it."""
    if scheduler_file is not None:
        if not os.path.exists(scheduler_file):
            raise RuntimeError(f"dask scheduler file {scheduler_file} does not exist: is the scheduler started "
                               "(dask-scheduler --scheduler-file FILE) and the file on a shared disk?")
        try:
            with open(scheduler_file) as f:
                address = json.load(f)["address"]
        except (OSError, ValueError, KeyError) as error:
            raise RuntimeError(f"dask scheduler file {scheduler_file} is unreadable ({error}); expected the JSON "
                               "dask-scheduler --scheduler-file writes") from None
        where = f"{address} (from the scheduler file {scheduler_file})"
    else:
        address, where = scheduler, str(scheduler)
    try:
        return distributed.Client(address, timeout=timeout)
    except (OSError, TimeoutError) as error:
        raise RuntimeError(f"cannot reach the dask scheduler at {where} within {timeout} s: {error}") from None


# A fibseg task is one long C++ call with the GIL released. dask's statistical profiler (a Python
# stack sample every 10 ms, for the dashboard's profile page) and its event-loop health check
# every 20 ms cost 0.087 CPU s per second of an idle 2-worker LocalCluster (0.034 without them),
# ~0.25 CPU s of a 5 s run, for nothing a fibseg run shows (bench/README.md "Distributed").
# dask's own test suite runs with the same two settings (distributed.utils_test). The sbatch
# recipe sets them through the environment; a cluster the caller made keeps its own settings.
QUIET_DASK = {"distributed.worker.profile.enabled": False, "distributed.admin.tick.interval": "500ms"}


def local_cluster(workers=2, threads_per_worker=1):
    """A LocalCluster of worker processes, each running one fibseg task at a time."""
    with dask.config.set(QUIET_DASK):  # read as the scheduler, the nannies and the workers start
        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=threads_per_worker, processes=True,
                                           resources={"fibseg": 1}, dashboard_address=":0")
        return cluster, distributed.Client(cluster)


def check_workers(client, block_memory_bytes, block_memory_text, wait_seconds=60):
    """Raises RuntimeError naming the worker when one lacks fibseg, runs another version, or has
    a memory limit below one block task's need. Returns True when every worker declares the
    resource `fibseg` (one task at a time each)."""
    client.wait_for_workers(1, timeout=wait_seconds)
    versions = client.run(_probe())
    expected = client_version()
    for worker, version in sorted(versions.items()):
        if version != expected:
            raise RuntimeError(f"dask worker {worker} has fibseg {version}, this client fibseg {expected}; "
                               "expected the same fibseg module on every worker (PYTHONPATH or make install)")
    info = client.scheduler_info()["workers"]
    for worker, w in sorted(info.items()):
        per_task = 1 if "fibseg" in (w.get("resources") or {}) else max(1, w.get("nthreads", 1))
        limit = w.get("memory_limit") or 0
        if limit and limit < per_task * block_memory_bytes:
            raise RuntimeError(f"dask worker {worker} has a memory limit of {limit >> 20} MiB for {per_task} "
                               f"task(s) at once; one block task needs about {block_memory_text}; give the "
                               "workers more memory (dask-worker --memory-limit) or set a smaller "
                               "output.block_slices")
    return all("fibseg" in (w.get("resources") or {}) for w in info.values())
