"""fibseg: FIB-SEM slice series -> aligned, brightness-corrected, segmented 3D volume.

The stages and the pipeline are the C++ extension `fibseg._fibseg` (pybind11); this package only
re-exports it. `fibseg.distributed` runs the same pipeline on dask.distributed workers.
"""
from ._fibseg import *  # noqa: F401,F403 (the module's whole API)
from ._fibseg import __doc__ as _doc, __version__  # noqa: F401

__doc__ = _doc
