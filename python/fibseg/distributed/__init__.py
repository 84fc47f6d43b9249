"""fibseg on dask.distributed: the same pipeline as `fibseg run`, its tasks on dask workers.

    import fibseg.distributed
    summary = fibseg.distributed.run("params.toml", client)   # client=None: a LocalCluster

The run is the graph of pipeline/run_graph.hpp. This module only submits its C++ tasks
(fibseg._fibseg, GIL released) and calls its reductions in order; dask schedules, moves and
retries them:

1. plan: the client takes the output folder (lock, staging folder, resume) and plans the run.
2. register: one task per registration chain (align.chain_slices; fixed by the stack, not the
   workers): read, crop, compare in order within the chain; the client solves every chain's
   comparisons together (the same shifts as `fibseg run`).
3. correct and segment: one task per block of output.block_slices slices: read, crop, shift,
   correct, segment; each writes its aligned and labels volume blocks (Zarr chunks, or block files
   the client joins into the TIFF stacks as blocks finish), PNGs and its records. When the
   segmentation needs the whole corrected stack (segment.otsu_scope = stack; a classifier with z
   context, whose segment blocks also read one slice of each neighbouring block), these are two
   tasks per block with the histogram reduction (Otsu threshold) on the client between them.
4. finish on the client: histogram and brightness.csv, fractions, the rest of the volumes,
   cache/corrected.json, measure, run.json last, switch-in.

Every task writes its outputs into the staging folder (a disk every worker and the client
share) and ends with its record; a rerun after the client was killed does only the blocks
without one. A worker lost mid-task: dask reruns the task elsewhere; blocks are rewritten whole.
"""
import contextlib

import distributed

from .. import _fibseg
from . import cluster as _cluster
from . import tasks as _tasks


_LABELS = {"register": "align   ", "correct": "correct ", "segment": "segment ",
           "correct_segment": "correct and segment "}


def _run_graph(handle, client, one_task_per_worker):
    plan = handle.plan
    resources = {"fibseg": 1} if one_task_per_worker else None
    for stage in handle.stages:
        if stage == "register" and handle.registered:
            missing = []
        else:
            missing = handle.missing_blocks(stage)
        sizes = handle.task_sizes(stage)
        futures = {client.submit(_tasks.block_task, plan, stage, b, pure=False, resources=resources,
                                 key=f"fibseg-{stage}-{b}-{abs(hash(plan))}"): sizes[b] for b in missing}
        handle.start_progress(_LABELS[stage], handle.slices)
        handle.advance_progress(handle.slices - sum(futures.values()))  # done before a resume
        blocks = stage in ("segment", "correct_segment")
        if stage == "segment":
            handle.join_aligned()  # TIFF output: on the client while the tasks run
        for future in distributed.as_completed(list(futures)):
            future.result()  # a task's error, raised here with the worker's message
            handle.advance_progress(futures[future])
            if blocks:
                handle.after_block()  # joins, hashes what is finished while the other tasks run
        handle.finish_progress()
        if stage == "register":
            handle.after_registration()
        if stage in ("correct", "correct_segment"):
            handle.after_correction()
    return handle.finish()


def run(config, client=None, progress=None, overwrite=False, resume=True, workers=2):
    """Runs the pipeline on `config` (a parameter file path or a dict {'section.key': value}) with
    dask: on `client` (a distributed.Client), or None for a LocalCluster of `workers` processes
    (closed afterwards). progress(line) receives the same lines as `fibseg run` prints. Returns
    what fibseg.run returns. `resume`: an interrupted run of the same input and parameters into
    the same folder is continued from its finished blocks."""
    handle = _fibseg._DistributedRun(config, progress, overwrite, resume)
    with contextlib.ExitStack() as stack:
        if client is None:
            cluster, client = _cluster.local_cluster(workers)
            stack.callback(cluster.close)
            stack.callback(client.close)
        one_task_per_worker = _cluster.check_workers(client, handle.block_memory_bytes, handle.block_memory_text)
        return _run_graph(handle, client, one_task_per_worker)
