"""Checks of user input shared by every layer: errors that say what was wrong and where.

Data: ``check_finite`` names the first NaN or infinity. Arguments: ``check_number``,
``check_positive``, ``check_int``, ``check_choice``, ``check_flag``.
"""

from __future__ import annotations

import math
import numbers

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


# --- Arguments --------------------------------------------------------------------------------
# One family of checks for every layer, so that the same mistake gets the same exception and the
# same wording wherever it is made: a value of the wrong kind is a TypeError, a value of the right
# kind outside its range a ValueError, and the message reads "<owner>: <name> must be <what>; got
# <value>". ``True`` is never a number or a count here (``isinstance(True, int)`` holds in Python).

def _prefix(owner: str | None) -> str:
    return f"{owner}: " if owner else ""


def _is_bool(value) -> bool:
    return isinstance(value, (bool, np.bool_))


def _interval(low, high, low_open: bool, high_open: bool) -> str:
    """'≥ 0', '> 0', '≤ 1', 'in [0, 1)' ... for the bounds given."""
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '≥'} {low:g}"
    if high is not None:
        return f"{'<' if high_open else '≤'} {high:g}"
    return ""


def check_number(name: str, value, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False, owner: str | None = None) -> float:
    """``value`` as a finite float within the bounds given, or an error naming ``name``.

    ``low``/``high``: the bounds, closed unless ``low_open``/``high_open``. NaN and ±inf are
    refused; so are bools and strings (a TypeError).

    Example::

        check_number("lr", -1, low=0, owner="SGD")      # ValueError: SGD: lr must be ≥ 0; got -1
        check_number("momentum", 0.9, low=0, high=1, high_open=True)
    """
    where = _interval(low, high, low_open, high_open)
    if _is_bool(value) or not isinstance(value, numbers.Real):
        raise TypeError(f"{_prefix(owner)}{name} must be a number{' ' + where if where else ''}; "
                        f"got {value!r}")
    number = float(value)
    ok = math.isfinite(number)
    if low is not None:
        ok = ok and (number > low if low_open else number >= low)
    if high is not None:
        ok = ok and (number < high if high_open else number <= high)
    if not ok:
        what = where if math.isfinite(number) else f"a finite number{' ' + where if where else ''}"
        raise ValueError(f"{_prefix(owner)}{name} must be {what}; got {value!r}")
    return number


def check_positive(name: str, value, *, owner: str | None = None) -> float:
    """``value`` as a finite float > 0 (a step size, a tolerance, a clipping threshold)."""
    return check_number(name, value, low=0.0, low_open=True, owner=owner)


def check_int(name: str, value, *, minimum: int | None = None, maximum: int | None = None,
              owner: str | None = None) -> int:
    """``value`` as an int within [minimum, maximum], or an error (``True`` is not an integer).

    Example::

        check_int("epochs", True, minimum=0)    # TypeError: epochs must be an integer ≥ 0; got True
    """
    where = _interval(minimum, maximum, False, False)
    if _is_bool(value) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{_prefix(owner)}{name} must be an integer{' ' + where if where else ''}; "
                        f"got {value!r}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{_prefix(owner)}{name} must be an integer {where}; got {value!r}")
    return int(value)


def check_choice(name: str, value, choices, *, owner: str | None = None):
    """``value`` if it is one of ``choices``, else a ValueError listing them."""
    choices = tuple(choices)
    if isinstance(value, str) or not isinstance(value, (list, dict, set)):
        if value in choices and not (_is_bool(value) and not any(_is_bool(c) for c in choices)):
            return value
    listed = ", ".join(repr(c) for c in choices)
    raise ValueError(f"{_prefix(owner)}{name} must be one of {listed}; got {value!r}")


def check_flag(name: str, value, *, owner: str | None = None) -> bool:
    """``value`` as a bool, if it is True or False (not 0, 1 or a string)."""
    if not _is_bool(value):
        raise TypeError(f"{_prefix(owner)}{name} must be True or False; got {value!r}")
    return bool(value)
