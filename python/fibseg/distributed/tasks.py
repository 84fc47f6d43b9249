"""What runs on a dask worker: thin calls of the C++ tasks (pipeline/block_tasks.hpp), which
release the GIL, run on the worker's threads and write their own outputs and records."""
import distributed

from .. import _fibseg


def _threads():
    """A worker that declares the resource `fibseg` runs one fibseg task at a time on all its
    threads; otherwise it runs one task per thread, each single-threaded."""
    try:
        worker = distributed.get_worker()
    except ValueError:  # not on a worker (tests call the tasks directly)
        return 0
    state = worker.state
    return state.nthreads if "fibseg" in (state.total_resources or {}) else 1


def block_task(plan, stage, block):
    return _fibseg._run_block_task(plan, stage, block, _threads())
