"""Row blocks of a (possibly memory-mapped) array, so no pass ever allocates the whole array.

Shared by every layer (the data layer's validation and statistics, the model's input checks)."""

from __future__ import annotations

import numpy as np

CHUNK_BYTES = 4 << 20  # 4 MiB: enough for fast NumPy, small next to any data set worth mapping


def chunk_rows_for(array: np.ndarray, chunk_rows: int | None = None) -> int:
    """The rows per block: ``chunk_rows`` if given, else as many as fit in ``CHUNK_BYTES``."""
    if chunk_rows is not None:
        from ._checks import check_int  # here, not at the top: _checks imports this module

        return check_int("chunk_rows", chunk_rows, minimum=1)
    row_bytes = max(1, int(np.prod(array.shape[1:], dtype=np.int64)) * array.dtype.itemsize)
    return max(1, CHUNK_BYTES // row_bytes)


def iter_row_chunks(array: np.ndarray, chunk_rows: int | None = None):
    """Yield ``(start, block)`` with ``block = array[start:start + rows]`` (a view, no copy)."""
    step = chunk_rows_for(array, chunk_rows)
    for start in range(0, array.shape[0], step):
        yield start, array[start:start + step]


def first_non_finite(array: np.ndarray, chunk_rows: int | None = None):
    """``(index, kind)`` of the first NaN/inf of a float array, read block by block; else ``None``.

    ``index`` is a tuple of array indices (0-based); ``kind`` is ``'NaN'``, ``'inf'`` or ``'-inf'``.
    Temporaries are the size of one block, never of the array.

    Example:
        >>> first_non_finite(np.array([[1.0, 2.0], [np.nan, 0.0]]))
        ((1, 0), 'NaN')
    """
    if array.dtype.kind not in "fc" or array.size == 0:
        return None
    if array.ndim == 1:
        array2 = array.reshape(-1, 1)
    else:
        array2 = array
    for start, block in iter_row_chunks(array2, chunk_rows):
        ok = np.isfinite(block)
        if ok.all():
            continue
        bad = np.argwhere(~ok)[0]
        value = block[tuple(bad)]
        kind = "NaN" if np.isnan(value) else ("inf" if value > 0 else "-inf")
        index = (start + int(bad[0]),) + tuple(int(i) for i in bad[1:])
        return (index[:1] if array.ndim == 1 else index), kind
    return None
