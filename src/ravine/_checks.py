"""Checks of user input shared by every layer: errors that say what was wrong and where."""

from __future__ import annotations

import numpy as np

from ._chunks import CHUNK_BYTES, first_non_finite


def describe_position(index: tuple) -> str:
    """'row 3, column 5' for a 2-D position, 'row 3' for 1-D, 'entry (1, 2, 3)' otherwise."""
    if len(index) == 1:
        return f"row {index[0]}"
    if len(index) == 2:
        return f"row {index[0]}, column {index[1]}"
    return f"entry {tuple(int(i) for i in index)}"


_isfinite = np.isfinite


def check_finite(array: np.ndarray, what: str = "input") -> None:
    """Raise ValueError naming the first NaN or infinite entry of ``array``.

    Small arrays in one ``isfinite(...).all()`` (measured faster than a sum-based test from 40
    entries to 100,000, and a sum could overflow on large finite values); arrays larger than one
    block (a memory-mapped data set, say) block by block, so no temporary is ever their size.
    """
    if array.dtype.kind != "f" or array.size == 0:
        return
    if array.nbytes <= CHUNK_BYTES and _isfinite(array).all():
        return
    found = first_non_finite(array)
    if found is None:
        return
    position, kind = found
    where = describe_position(position) if array.ndim else "its value"
    raise ValueError(f"{what} contains {kind} at {where}")
