"""Randomness without global state: every random choice takes a seed or a Generator."""

from __future__ import annotations

import numpy as np

from ._checks import check_seed


def as_generator(seed, name: str = "seed", owner: str | None = None) -> np.random.Generator:
    """A ``numpy.random.Generator`` from an int seed, ``None`` (fresh OS entropy) or a Generator.

    A Generator passed in is returned as is, so successive calls continue its stream: one
    generator can draw every layer's weights, or every epoch's shuffle, in turn. A bad seed is
    ``check_seed``'s error, naming ``owner`` when given.
    """
    seed = check_seed(name, seed, owner=owner)
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)  # None: fresh OS entropy
