"""Randomness without global state: every random choice takes a seed or a Generator."""

from __future__ import annotations

import numbers

import numpy as np


def as_generator(seed, name: str = "seed") -> np.random.Generator:
    """A ``numpy.random.Generator`` from an int seed, ``None`` (fresh OS entropy) or a Generator.

    A Generator passed in is returned as is, so successive calls continue its stream: one
    generator can draw every layer's weights, or every epoch's shuffle, in turn.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{name} must be an int, None or a numpy.random.Generator; got "
                        f"{type(seed).__name__} {seed!r}")
    if seed < 0:
        raise ValueError(f"{name} must be >= 0; got {seed}")
    return np.random.default_rng(int(seed))
