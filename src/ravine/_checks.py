"""Checks of user input shared by every layer: errors that say what was wrong and where.

Data: ``check_finite`` names the first NaN or infinity. Arguments: ``check_number``,
``check_positive``, ``check_int``, ``check_choice``, ``check_flag``, ``check_seed``,
``check_optional``.
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


def _hinted(where: str, hint: str | None) -> str:
    """The expectation, followed by the hint in parentheses when there is one."""
    return f"{where} ({hint})" if hint else where


def check_number(name: str, value, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False, owner: str | None = None,
                 hint: str | None = None) -> float:
    """``value`` as a finite float within the bounds given, or an error naming ``name``.

    ``low``/``high``: the bounds, closed unless ``low_open``/``high_open``. NaN and ±inf are
    refused; so are bools and strings (a TypeError). ``hint``, if given, follows the expectation
    in parentheses: what the number means, or why the bound is there.

    Example::

        check_number("lr", -1, low=0, owner="SGD")      # ValueError: SGD: lr must be ≥ 0; got -1
        check_number("momentum", 0.9, low=0, high=1, high_open=True)
    """
    where = _interval(low, high, low_open, high_open)
    if _is_bool(value) or not isinstance(value, numbers.Real):
        raise TypeError(f"{_prefix(owner)}{name} must be "
                        f"{_hinted('a number' + (' ' + where if where else ''), hint)}; got {value!r}")
    number = float(value)
    ok = math.isfinite(number)
    if low is not None:
        ok = ok and (number > low if low_open else number >= low)
    if high is not None:
        ok = ok and (number < high if high_open else number <= high)
    if not ok:
        what = where if math.isfinite(number) else f"a finite number{' ' + where if where else ''}"
        raise ValueError(f"{_prefix(owner)}{name} must be {_hinted(what, hint)}; got {value!r}")
    return number


def check_positive(name: str, value, *, owner: str | None = None, hint: str | None = None) -> float:
    """``value`` as a finite float > 0 (a step size, a tolerance, a clipping threshold)."""
    return check_number(name, value, low=0.0, low_open=True, owner=owner, hint=hint)


def check_int(name: str, value, *, minimum: int | None = None, maximum: int | None = None,
              owner: str | None = None, hint: str | None = None) -> int:
    """``value`` as an int within [minimum, maximum], or an error (``True`` is not an integer).

    NumPy integers pass (and come back as ``int``); floats, even integral ones such as ``3.0``,
    are a TypeError.

    Example::

        check_int("epochs", True, minimum=0)    # TypeError: epochs must be an integer ≥ 0; got True
    """
    where = _interval(minimum, maximum, False, False)
    expected = _hinted("an integer" + (" " + where if where else ""), hint)
    if _is_bool(value) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{_prefix(owner)}{name} must be {expected}; got {value!r}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{_prefix(owner)}{name} must be {expected}; got {value!r}")
    return int(value)


def check_choice(name: str, value, choices, *, owner: str | None = None):
    """``value`` if it is one of ``choices``, else a ValueError listing them."""
    choices = tuple(choices)
    if isinstance(value, str) or not isinstance(value, (list, dict, set, np.ndarray)):
        try:
            found = value in choices
        except (TypeError, ValueError):  # a value whose == is not a truth value
            found = False
        if found and not (_is_bool(value) and not any(_is_bool(c) for c in choices)):
            return value
    listed = ", ".join(repr(c) for c in choices)
    raise ValueError(f"{_prefix(owner)}{name} must be one of {listed}; got {value!r}")


def check_flag(name: str, value, *, owner: str | None = None) -> bool:
    """``value`` as a bool, if it is True or False (not 0, 1 or a string)."""
    if not _is_bool(value):
        raise TypeError(f"{_prefix(owner)}{name} must be True or False; got {value!r}")
    return bool(value)


def check_seed(name: str, value, *, owner: str | None = None, allow_none: bool = True):
    """``value`` if it is a seed: an integer ≥ 0, a ``numpy.random.Generator`` or (with
    ``allow_none``) ``None``; an int comes back as ``int``. Turning it into a Generator is
    ``ravine._random.as_generator``'s job.

    Example::

        check_seed("seed", -1)    # ValueError: seed must be an integer ≥ 0, a numpy.random.Generator or None; got -1
    """
    if isinstance(value, np.random.Generator) or (value is None and allow_none):
        return value
    expected = ("an integer ≥ 0, a numpy.random.Generator" + (" or None" if allow_none else ""))
    if _is_bool(value) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{_prefix(owner)}{name} must be {expected}; got {value!r}")
    if value < 0:
        raise ValueError(f"{_prefix(owner)}{name} must be {expected}; got {value!r}")
    return int(value)


def check_optional(check, name: str, value, **options):
    """``None`` if ``value`` is None, else ``check(name, value, **options)``; an error from the
    check says that None was allowed too.

    Example::

        check_optional(check_int, "max_entries", 0, minimum=1)
        # ValueError: max_entries must be an integer ≥ 1 or None; got 0
    """
    if value is None:
        return None
    try:
        return check(name, value, **options)
    except (TypeError, ValueError) as error:
        message = str(error)
        head, sep, tail = message.partition("; got ")
        if not sep:
            raise
        raise type(error)(f"{head} or None{sep}{tail}") from None
