"""Initial values of weights. Biases start at zero.

Glorot (Xavier) keeps the variance of activations and gradients roughly equal across tanh layers:
    glorot_uniform: W ~ U[−b, b],  b = √6 / √(H_k + H_{k−1})
    glorot_normal:  W ~ N(0, σ²),  σ = √2 / √(H_k + H_{k−1})
He does the same for ReLU layers, which zero half their inputs:
    he_uniform: b = √6 / √H_{k−1};   he_normal: σ = √2 / √H_{k−1}
with H_{k−1} = fan_in and H_k = fan_out. ``zeros`` and ``constant`` exist to show why they fail:
every unit of a layer computes the same function and receives the same gradient, so the layer stays
symmetric forever. They are never the default.

Every function takes a seed or a ``numpy.random.Generator``: same seed, same weights.

Example::

    W = rv.nn.init.glorot_uniform((100, 64), rng=0)     # shape (fan_out, fan_in)
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .._checks import check_number
from .._random import as_generator
from ..autodiff.tensor import resolve_dtype


def fans(shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (fan_out, fan_in)."""
    shape = tuple(shape)
    if len(shape) != 2:
        raise ValueError(f"a weight matrix has shape (fan_out, fan_in); got {shape}")
    return shape[1], shape[0]


def glorot_bound(fan_in: int, fan_out: int) -> float:
    """b = √6 / √(fan_in + fan_out), the half-width of Glorot's uniform distribution."""
    return math.sqrt(6.0 / (fan_in + fan_out))


def glorot_uniform(shape, rng=None, dtype="float32") -> np.ndarray:
    """W ~ U[−b, b] with b = √6 / √(fan_in + fan_out)."""
    fan_in, fan_out = fans(shape)
    b = glorot_bound(fan_in, fan_out)
    return as_generator(rng).uniform(-b, b, size=shape).astype(resolve_dtype(dtype))


def glorot_normal(shape, rng=None, dtype="float32") -> np.ndarray:
    """W ~ N(0, σ²) with σ = √2 / √(fan_in + fan_out)."""
    fan_in, fan_out = fans(shape)
    std = math.sqrt(2.0 / (fan_in + fan_out))
    return as_generator(rng).normal(0.0, std, size=shape).astype(resolve_dtype(dtype))


def he_uniform(shape, rng=None, dtype="float32") -> np.ndarray:
    """W ~ U[−b, b] with b = √6 / √fan_in (for ReLU layers)."""
    fan_in, _ = fans(shape)
    b = math.sqrt(6.0 / fan_in)
    return as_generator(rng).uniform(-b, b, size=shape).astype(resolve_dtype(dtype))


def he_normal(shape, rng=None, dtype="float32") -> np.ndarray:
    """W ~ N(0, σ²) with σ = √2 / √fan_in (for ReLU layers)."""
    fan_in, _ = fans(shape)
    return as_generator(rng).normal(0.0, math.sqrt(2.0 / fan_in), size=shape).astype(resolve_dtype(dtype))


def constant(shape, value: float, rng=None, dtype="float32") -> np.ndarray:
    """Every entry equal to ``value``: a symmetric layer, which stays symmetric under training."""
    return np.full(shape, check_number("value", value, owner="init.constant"),
                   dtype=resolve_dtype(dtype))


def zeros(shape, rng=None, dtype="float32") -> np.ndarray:
    """All zeros: every hidden unit identical (and, with tanh, every weight gradient zero)."""
    return np.zeros(shape, dtype=resolve_dtype(dtype))


INITIALIZERS: dict[str, Callable] = {
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "zeros": zeros,
}


def get(init) -> Callable:
    """An initializer from its name (``"constant:0.5"`` for a constant), or a callable as is.

    A callable is called as ``init(shape, rng=Generator, dtype=dtype)`` and returns an array.
    """
    if callable(init):
        return init
    if isinstance(init, str):
        if init.startswith("constant:"):
            try:
                value = float(init.split(":", 1)[1])
            except ValueError:
                raise ValueError(f"init {init!r}: write constant:<number>, e.g. constant:0.5") from None
            check_number("value", value, owner=f"init {init!r}")  # constant:nan is no init
            return lambda shape, rng=None, dtype="float32": constant(shape, value, dtype=dtype)
        if init in INITIALIZERS:
            return INITIALIZERS[init]
    names = ", ".join(list(INITIALIZERS) + ["constant:<value>"])
    raise ValueError(f"unknown init {init!r}; expected one of {names}, or a callable")
