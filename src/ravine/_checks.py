"""Checks of user input shared by every layer: errors that say what was wrong and where."""

from __future__ import annotations

import math

import numpy as np


def describe_position(index: tuple) -> str:
    """'row 3, column 5' for a 2-D position, 'row 3' for 1-D, 'entry (1, 2, 3)' otherwise."""
    if len(index) == 1:
        return f"row {index[0]}"
    if len(index) == 2:
        return f"row {index[0]}, column {index[1]}"
    return f"entry {tuple(int(i) for i in index)}"


def check_finite(array: np.ndarray, what: str = "input") -> None:
    """Raise ValueError naming the first NaN or infinite entry of ``array``.

    The common case costs one sum: a sum over finite values is finite unless it overflows, and any
    NaN or inf makes it non-finite; only then are the entries searched.
    """
    if array.dtype.kind != "f" or array.size == 0:
        return
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(array, axis=None)
    if math.isfinite(total):
        return
    bad = np.argwhere(~np.isfinite(array))
    if len(bad) == 0:
        return  # the sum overflowed; every entry is finite
    position = tuple(int(i) for i in bad[0])
    value = array[position]
    kind = "NaN" if np.isnan(value) else ("inf" if value > 0 else "-inf")
    where = describe_position(position) if array.ndim else "its value"
    raise ValueError(f"{what} contains {kind} at {where}")
