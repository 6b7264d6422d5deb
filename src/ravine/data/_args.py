"""Checks of the arguments shared by the data layer: seeds, dtypes, counts and fractions."""

from __future__ import annotations

import math
import numbers

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


def check_int(value, name: str, minimum: int = 0) -> int:
    """``value`` as an int, if it is an integer ``>= minimum`` (bools refused)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    return int(value)


def check_real(value, name: str, minimum: float | None = None) -> float:
    """``value`` as a finite float, if it is a real number ``>= minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number; got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    return value
