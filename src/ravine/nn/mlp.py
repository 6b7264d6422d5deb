"""``MLP``: the multilayer network of the lectures.

h⁽⁰⁾ = x;  a⁽ᵏ⁾ = W⁽ᵏ⁾ h⁽ᵏ⁻¹⁾ + b⁽ᵏ⁾,  h⁽ᵏ⁾ = g(a⁽ᵏ⁾) for each hidden layer k = 1..L;
the output layer is linear, a⁽ᴸ⁺¹⁾ = W⁽ᴸ⁺¹⁾ h⁽ᴸ⁾ + b⁽ᴸ⁺¹⁾: logits, turned into probabilities
f(x) = softmax(a⁽ᴸ⁺¹⁾) inside the cross-entropy loss (or read directly as a regression output).

With ``batchnorm=True`` each hidden layer normalizes its pre-activation over the mini-batch,
h⁽ᵏ⁾ = g(BN(W⁽ᵏ⁾ h⁽ᵏ⁻¹⁾)), and with ``dropout=p`` each hidden layer's output is dropped out:
Linear → [BatchNorm1d] → activation → [Dropout], then the linear output layer.

Example::

    model = rv.nn.MLP(64, [100, 100], 10, activation="relu", init="he_uniform", seed=0)
    loss = rv.nn.functional.cross_entropy(model(x), y)
    model = rv.nn.MLP(64, [100, 100], 10, batchnorm=True, dropout=0.2, seed=0)
    model.eval()      # running statistics, no dropout
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .._checks import check_flag, check_int
from ..autodiff.linalg import Dense
from ..autodiff.tensor import apply, resolve_dtype
from . import init as initializers
from .batchnorm import BatchNorm1d
from .containers import Sequential
from .dropout import Dropout, check_dropout_rate
from .layers import Linear, activation as make_activation, activation_name
from .module import as_input, pack_parameters


def _hidden_sizes(hidden) -> tuple[int, ...]:
    if isinstance(hidden, (int, np.integer, np.bool_)):
        return (check_int("hidden", hidden, minimum=1, owner="MLP"),)
    if not isinstance(hidden, (list, tuple, range, np.ndarray)):
        raise TypeError(f"MLP: hidden must be an int or a sequence of ints; got {hidden!r}")
    return tuple(check_int(f"hidden[{i}]", size, minimum=1, owner="MLP") for i, size in enumerate(hidden))


def _fused_steps(modules: list) -> list[tuple]:
    """The forward pass as (module, activation) pairs: a Linear with the name of the activation
    that follows it directly (run as one Dense box), or any module with None (run as itself).
    Plain data, not closures, so that copying the model copies its plan too."""
    steps, i = [], 0
    while i < len(modules):
        module = modules[i]
        following = modules[i + 1] if i + 1 < len(modules) else None
        fused = activation_name(following) if isinstance(module, Linear) else None
        if fused is not None:  # any activation of the registry: its box has Dense's in-place fprop
            steps.append((module, fused))
            i += 2
        else:
            steps.append((module, None))
            i += 1
    return steps


class MLP(Sequential):
    """A multilayer network: ``Linear`` + activation per hidden layer, then a linear output layer.

    ``hidden``: an int or a sequence of ints (empty: a linear model, e.g. softmax regression).
    ``activation``: one of ``nn.layers.ACTIVATION_NAMES``, the activation registry's names ("tanh",
    "sigmoid", "relu", "softplus" ...) and "identity". ``init``: an ``nn.init`` name.
    ``batchnorm``: put a ``BatchNorm1d`` between each hidden ``Linear`` and its activation; that
    ``Linear`` then has no bias, since subtracting the batch mean cancels any bias exactly (its
    gradient is identically zero in training mode, and it adds a flat direction — a zero Hessian
    eigenvalue — to the loss); BN's β is the layer's shift. ``dropout``: p ∈ [0, 1), a ``Dropout``
    after each hidden activation (0: none). Hidden layer k is then the modules
    Linear → [BatchNorm1d] → activation → [Dropout], named "0", "1", ... in that order.
    ``seed``: an int or a Generator; one generator draws every layer's weights in order, so the same
    seed gives the same network; the dropout layers' generators are spawned from it afterwards
    (the weights do not depend on ``dropout``, and the same seed gives the same masks).
    ``dtype``: "float32" (default) or "float64".
    """

    def __init__(self, in_features: int, hidden: int | Sequence[int], out_features: int,
                 activation: str = "tanh", init="glorot_uniform", seed=None, dtype="float32",
                 batchnorm: bool = False, dropout: float = 0.0):
        sizes = _hidden_sizes(hidden)
        self_dtype = resolve_dtype(dtype)
        batchnorm = check_flag("batchnorm", batchnorm, owner="MLP")
        dropout = check_dropout_rate(dropout, owner="MLP", name="dropout")
        rng = initializers.as_generator(seed)
        widths = (in_features, *sizes, out_features)
        linears = [Linear(fan_in, fan_out, bias=not (batchnorm and k < len(sizes)), init=init,
                          seed=rng, dtype=self_dtype)
                   for k, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:]))]
        # Spawned after every weight is drawn, so the weights do not depend on ``dropout``.
        drop_rngs = rng.spawn(len(sizes)) if dropout > 0.0 else []
        modules = []
        for k, size in enumerate(sizes):
            modules.append(linears[k])
            if batchnorm:
                modules.append(BatchNorm1d(size, dtype=self_dtype))
            modules.append(make_activation(activation))
            if dropout > 0.0:
                modules.append(Dropout(dropout, seed=drop_rngs[k]))
        modules.append(linears[-1])
        super().__init__(*modules)
        pack_parameters(self)  # one array for all: an optimizer updates them in one call
        self.in_features, self.hidden, self.out_features = in_features, sizes, out_features
        self.activation, self.init, self.dtype = activation, init, self_dtype
        self.batchnorm, self.dropout = bool(batchnorm), dropout
        self._steps = _fused_steps(list(self._modules.values()))

    def forward(self, x):
        """Logits for a batch ``x`` of shape (m, in_features), checked for dtype and finiteness.

        A Linear layer followed directly by its activation runs as one ``Dense`` box (the same
        function, fewer boxes); everything else runs module by module.
        """
        h = as_input(x, self.dtype)
        if h.data.ndim != 2 or h.data.shape[1] != self.in_features:
            raise ValueError(f"MLP expects input of shape (batch, {self.in_features}); got shape {h.shape}")
        for module, activation in self._steps:
            if activation is None:
                h = module.forward(h)
            elif module.bias is None:
                h = apply(Dense(activation), h, module.weight)
            else:
                h = apply(Dense(activation), h, module.weight, module.bias)
        return h

    def linear_layers(self) -> list[Linear]:
        return [m for m in self if isinstance(m, Linear)]

    def extra_repr(self) -> str:
        extra = (", batchnorm=True" if self.batchnorm else "") + \
            (f", dropout={self.dropout:g}" if self.dropout else "")
        return (f"in_features={self.in_features}, hidden={list(self.hidden)}, "
                f"out_features={self.out_features}, activation={self.activation!r}{extra}")
