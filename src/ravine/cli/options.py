"""Parsers for option values, each failing with a message that says what was expected."""

from __future__ import annotations

import argparse
import math


def hidden_sizes(text: str) -> list[int]:
    """'100,100' → [100, 100]; '' → [] (a linear model)."""
    if text.strip() == "":
        return []
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers like 100,100; got {text!r}")
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"hidden sizes must be positive; got {text!r}")
    return sizes


def _number(cast, expected: str, ok):
    """A parser: ``cast(text)`` if that works, is finite and ``ok(value)``, else a clear error."""
    def parse(text: str):
        try:
            value = cast(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or not ok(value):
            raise argparse.ArgumentTypeError(f"expected {expected}; got {text!r}")
        return value

    return parse


positive_int = _number(int, "a positive integer", lambda v: v >= 1)
non_negative_int = _number(int, "an integer ≥ 0", lambda v: v >= 0)
positive_float = _number(float, "a finite number > 0", lambda v: v > 0)
non_negative_float = _number(float, "a finite number ≥ 0", lambda v: v >= 0)
below_one = _number(float, "a number in [0, 1)", lambda v: 0 <= v < 1)
