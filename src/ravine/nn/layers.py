"""Layers: ``Linear`` (an affine map) and the activation functions, as modules.

Example::

    layer = rv.nn.Linear(64, 100, seed=0)     # a = x Wᵀ + b, W of shape (100, 64), b = 0
    h = rv.nn.Tanh()(layer(x))
"""

from __future__ import annotations

import numpy as np

from ..autodiff import elementwise as ew
from ..autodiff.linalg import Linear as LinearOp
from ..autodiff.tensor import Tensor, apply, as_tensor, resolve_dtype
from . import init as initializers
from .module import Module, Parameter, as_input


class Linear(Module):
    """a = x Wᵀ + b, for a batch x of shape (m, in_features); W has shape (out, in), b starts at 0.

    ``init`` names the weight initializer (``nn.init``); ``seed`` is an int or a Generator.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 init="glorot_uniform", seed=None, dtype="float32"):
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Linear: {name} must be a positive integer; got {value!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        dtype = resolve_dtype(dtype)
        shape = (self.out_features, self.in_features)
        weight = initializers.get(init)(shape, rng=initializers.as_generator(seed), dtype=dtype)
        self.weight = Parameter(weight, regularize=True, dtype=dtype)
        self.bias = Parameter(np.zeros(self.out_features, dtype=dtype), regularize=False) if bias else None

    def forward(self, x) -> Tensor:
        if not isinstance(x, Tensor):
            x = as_input(x, self.weight.data.dtype)
        data = x.data
        if data.ndim != 2 or data.shape[1] != self.in_features:
            raise ValueError(
                f"{self!r} expects input of shape (batch, {self.in_features}); got shape {x.shape}"
            )
        if data.dtype != self.weight.data.dtype:
            raise TypeError(f"{self!r} is {self.weight.dtype} but its input is {x.dtype}")
        if self.bias is None:
            return apply(LinearOp(), x, self.weight)
        return apply(LinearOp(), x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """h = a (a linear output or a linear 'activation')."""

    def forward(self, x: Tensor) -> Tensor:
        return x


class _Activation(Module):
    """An elementwise activation: its box applied to a Tensor (arrays are wrapped first)."""

    box = None

    def forward(self, x) -> Tensor:
        if not isinstance(x, Tensor):
            x = as_tensor(x)
        return apply(self.box(), x)


class Tanh(_Activation):
    """h = tanh a ∈ (−1, 1); tanh' = 1 − h², at most 1 (at a = 0)."""

    box = ew.Tanh


class Sigmoid(_Activation):
    """h = σ(a) = 1/(1 + e⁻ᵃ) ∈ (0, 1); σ' = h(1 − h), at most 1/4: gradients shrink layer by layer."""

    box = ew.Sigmoid


class ReLU(_Activation):
    """h = max(a, 0); derivative 1 for a > 0 and 0 otherwise (0 at the kink)."""

    box = ew.ReLU


ACTIVATIONS = {"tanh": Tanh, "sigmoid": Sigmoid, "relu": ReLU, "identity": Identity, "linear": Identity}


def activation(name: str) -> Module:
    """A fresh activation module from its name."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]()
