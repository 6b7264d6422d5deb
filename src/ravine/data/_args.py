"""The data layer's dtype argument. (Counts, numbers and seeds: ``ravine._checks``.)"""

from __future__ import annotations

import numpy as np


def float_dtype(dtype, name: str = "dtype") -> np.dtype:
    """``np.dtype('float32')`` or ``np.dtype('float64')``; anything else is an error."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"{name} must be 'float32' or 'float64'; got {dtype!r}")
    return dt
