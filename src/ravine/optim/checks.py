"""Checking hyperparameters: a number in a range, a flag, a pair of betas; errors name the culprit.

Each check returns the value normalized (a float, a bool, a tuple of two floats) or raises a
ValueError/TypeError that names the optimizer, the hyperparameter, what was expected and what was
given.

Example::

    lr = check_number("SGD", "lr", lr)                          # "SGD: lr must be ≥ 0; got -1"
    momentum = check_number("SGD", "momentum", momentum, 0.0, 1.0)
    betas = check_betas("Adam", betas)                          # (β₁, β₂), each in [0, 1)
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["check_number", "check_flag", "check_betas"]


def check_number(owner: str, name: str, value, low: float = 0.0, high: float | None = None,
                 high_open: bool = True) -> float:
    """``value`` as a float, or a ValueError: ``"SGD: lr must be ≥ 0; got -1"``.

    Checks low ≤ value and value < high (≤ with ``high_open=False``); NaN and ±inf are refused.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number; got {value!r}")
    number = float(value)
    if high is None:
        ok, expected = number >= low, f"≥ {low:g}"
    else:
        ok = low <= number and (number < high if high_open else number <= high)
        expected = f"in [{low:g}, {high:g}{')' if high_open else ']'}"
    if not ok or not math.isfinite(number):
        finite = "a finite number " if ok else ""
        raise ValueError(f"{owner}: {name} must be {finite}{expected}; got {value!r}")
    return number


def check_flag(owner: str, name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be True or False; got {value!r}")
    return bool(value)


def check_betas(owner: str, value) -> tuple[float, float]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ValueError(f"{owner}: betas must be a pair (β₁, β₂); got {value!r}")
    return (check_number(owner, "betas[0]", value[0], 0.0, 1.0),
            check_number(owner, "betas[1]", value[1], 0.0, 1.0))
