"""``MLP``: the multilayer network of the lectures.

h⁽⁰⁾ = x;  a⁽ᵏ⁾ = W⁽ᵏ⁾ h⁽ᵏ⁻¹⁾ + b⁽ᵏ⁾,  h⁽ᵏ⁾ = g(a⁽ᵏ⁾) for each hidden layer k = 1..L;
the output layer is linear, a⁽ᴸ⁺¹⁾ = W⁽ᴸ⁺¹⁾ h⁽ᴸ⁾ + b⁽ᴸ⁺¹⁾: logits, turned into probabilities
f(x) = softmax(a⁽ᴸ⁺¹⁾) inside the cross-entropy loss (or read directly as a regression output).

Example::

    model = rv.nn.MLP(64, [100, 100], 10, activation="relu", init="he_uniform", seed=0)
    loss = rv.nn.functional.cross_entropy(model(x), y)
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..autodiff.tensor import resolve_dtype
from . import init as initializers
from .containers import Sequential
from .layers import Linear, activation as make_activation
from .module import as_input


def _hidden_sizes(hidden) -> tuple[int, ...]:
    if isinstance(hidden, (int, np.integer)):
        sizes = (hidden,)
    elif isinstance(hidden, (list, tuple, range, np.ndarray)):
        sizes = tuple(hidden)
    else:
        raise TypeError(f"MLP: hidden must be an int or a sequence of ints; got {hidden!r}")
    for size in sizes:
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 1:
            raise ValueError(f"MLP: hidden sizes must be positive integers; got {hidden!r}")
    return tuple(int(s) for s in sizes)


class MLP(Sequential):
    """A multilayer network: ``Linear`` + activation per hidden layer, then a linear output layer.

    ``hidden``: an int or a sequence of ints (empty: a linear model, e.g. softmax regression).
    ``activation``: "tanh", "sigmoid", "relu" or "identity". ``init``: an ``nn.init`` name.
    ``seed``: an int or a Generator; one generator draws every layer's weights in order, so the same
    seed gives the same network. ``dtype``: "float32" (default) or "float64".
    """

    def __init__(self, in_features: int, hidden: int | Sequence[int], out_features: int,
                 activation: str = "tanh", init="glorot_uniform", seed=None, dtype="float32"):
        sizes = _hidden_sizes(hidden)
        self_dtype = resolve_dtype(dtype)
        rng = initializers.as_generator(seed)
        widths = (in_features, *sizes, out_features)
        modules = []
        for k, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
            modules.append(Linear(fan_in, fan_out, init=init, seed=rng, dtype=self_dtype))
            if k < len(sizes):
                modules.append(make_activation(activation))
        super().__init__(*modules)
        self.in_features, self.hidden, self.out_features = in_features, sizes, out_features
        self.activation, self.init, self.dtype = activation, init, self_dtype

    def forward(self, x):
        """Logits for a batch ``x`` of shape (m, in_features), checked for dtype and finiteness."""
        return super().forward(as_input(x, self.dtype))

    def linear_layers(self) -> list[Linear]:
        return [m for m in self if isinstance(m, Linear)]

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, hidden={list(self.hidden)}, "
                f"out_features={self.out_features}, activation={self.activation!r}")
