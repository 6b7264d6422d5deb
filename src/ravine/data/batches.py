"""Shuffled mini-batches: index arrays, or the rows they select.

One epoch is one permutation of the examples (drawn when ``batches`` is *called*, from ``seed``),
cut into consecutive batches of ``batch_size``; the last batch is smaller unless ``drop_last``.
Pass a ``numpy.random.Generator`` as ``seed`` and every call continues its stream: each epoch gets a
new order, and the whole run is reproducible from the generator's seed. An int seed gives the same
order on every call; ``None`` draws fresh entropy.

The indices *within* a batch are sorted ascending. Which examples share a batch is what the
shuffling randomizes; their order inside a batch does not change a mean loss, and ascending order
lets a memory-mapped ``X`` be read front to back, touching only the batch's rows (fancy indexing
with sorted indices), so in-memory and memory-mapped training see identical batches.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_int
from .._random import as_generator
from ._args import float_dtype
from .dataset import Dataset


def _index_pool(n_or_indices) -> np.ndarray:
    if isinstance(n_or_indices, (bool, np.bool_)):
        raise TypeError(f"n must be an integer or an array of indices; got {n_or_indices!r}")
    if isinstance(n_or_indices, (int, np.integer)):
        return np.arange(check_int("n", n_or_indices, minimum=0), dtype=np.int64)
    pool = np.asarray(n_or_indices)
    if pool.size == 0:
        return np.zeros(0, dtype=np.int64)
    if pool.ndim != 1 or pool.dtype.kind not in "iu":
        raise TypeError(f"indices must be a 1-D array of integers; got dtype {pool.dtype}, shape "
                        f"{pool.shape}")
    return pool.astype(np.int64, copy=False)


def batches(n, batch_size, shuffle=True, seed=None, drop_last=False):
    """An iterator over one epoch of mini-batches, each an int64 array of row indices.

    ``n``: the number of examples, or an array of the row indices to draw from (e.g. a split).
    ``batch_size`` ≥ 1; larger than the number of examples gives one batch of all of them (even
    with ``drop_last``). Every index appears exactly once per epoch (except those dropped by
    ``drop_last``).

    Example:
        >>> [b.tolist() for b in batches(5, 2, shuffle=False)]
        [[0, 1], [2, 3], [4]]
        >>> rng = np.random.default_rng(0)
        >>> epoch1, epoch2 = list(batches(6, 3, seed=rng)), list(batches(6, 3, seed=rng))
        >>> sorted(np.concatenate(epoch1).tolist()) == sorted(np.concatenate(epoch2).tolist())
        True
    """
    pool = _index_pool(n)
    size = check_int("batch_size", batch_size, minimum=1)
    if len(pool):
        size = min(size, len(pool))
    order = as_generator(seed).permutation(pool) if shuffle else pool
    stop = len(order) - len(order) % size if drop_last else len(order)
    return (np.sort(order[i:i + size]) for i in range(0, stop, size))


def iter_batches(X, y=None, batch_size=32, shuffle=True, seed=None, drop_last=False, *,
                 indices=None, dtype=None):
    """One epoch of ``(X[idx], y[idx])`` mini-batches (``X[idx]`` alone when ``y`` is ``None``).

    ``X`` may be a ``Dataset`` (then ``y`` must be ``None`` and its labels are used) or an array,
    including a read-only memmap: only each batch's rows are read. ``indices`` restricts the epoch
    to those rows (e.g. from ``split_indices``). ``dtype`` casts each ``X`` batch (e.g. float64 rows
    on disk trained in float32). Batches as in ``batches``.

    Example:
        >>> X, y = np.arange(10.0).reshape(5, 2), np.array([0, 1, 0, 1, 0])
        >>> [yb.tolist() for _, yb in iter_batches(X, y, batch_size=2, shuffle=False)]
        [[0, 1], [0, 1], [0]]
    """
    if isinstance(X, Dataset):
        if y is not None:
            raise ValueError("pass either a Dataset or X and y, not a Dataset and y")
        X, y = X.X, X.y
    if not isinstance(X, np.ndarray):
        X = np.asarray(X)
    if y is not None:
        y = np.asarray(y)
        if len(y) != len(X):
            raise ValueError(f"X and y must have the same number of rows; got {len(X)} and "
                             f"{len(y)}")
    dt = None if dtype is None else float_dtype(dtype)
    pool = len(X) if indices is None else _index_pool(indices)
    if indices is not None and len(pool) and (pool.min() < 0 or pool.max() >= len(X)):
        bad = pool.min() if pool.min() < 0 else pool.max()
        raise ValueError(f"indices must be in [0, {len(X)}); got {bad}")
    order = batches(pool, batch_size, shuffle=shuffle, seed=seed, drop_last=drop_last)

    def generate():
        for idx in order:
            xb = np.asarray(X[idx])
            if dt is not None:
                xb = xb.astype(dt, copy=False)
            yield (xb, y[idx]) if y is not None else xb

    return generate()
