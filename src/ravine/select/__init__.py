"""Model selection (issue 10): search spaces, trials, pruning, the trial store, executors, the
coordinator and the learning-rate finder. See INTERFACES.md for how the pieces meet.

Example::

    from ravine.select import run_search
    result = run_search("space.toml", "searches/x", jobs=2)
"""

from __future__ import annotations

import importlib

_NAMES = {
    "TrialStore": "store", "TrialTask": "trial", "TrialResult": "trial", "run_trial": "trial",
    "LocalExecutor": "executors", "DaskExecutor": "executors", "run_search": "search",
    "SearchResult": "search", "read_search": "search",
    "Space": "space", "load_search": "space", "refine": "space", "Choice": "space", "Uniform": "space",
    "LogUniform": "space", "IntUniform": "space", "SearchSpec": "space",
    "rungs": "pruning", "promote": "pruning", "lr_find": "lr_find", "plot_lr_find": "lr_find",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str):
    # lazy: importing ravine.select does not import Dask, SciPy's qmc or the coordinator
    if name in _NAMES:
        return getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
    raise AttributeError(f"module 'ravine.select' has no attribute {name!r}")
