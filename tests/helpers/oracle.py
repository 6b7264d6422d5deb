"""Comparing ravine with an oracle (PyTorch, NumPy): the relative error the oracle tests assert on,
and PyTorch's counterparts of ravine's activations."""

from __future__ import annotations

import numpy as np


def rel_err(actual, expected) -> float:
    """‖actual − expected‖∞ / ‖expected‖∞; the oracle must not be all zero (that would prove nothing)."""
    actual = np.asarray(getattr(actual, "data", actual), dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"shapes differ: {actual.shape} vs {expected.shape}"
    scale = float(np.max(np.abs(expected), initial=0.0))
    assert scale > 0, "the oracle's value is all zero: the comparison would prove nothing"
    return float(np.max(np.abs(actual - expected))) / scale


def torch_activations() -> dict:
    """PyTorch's functions for ravine's activation names (torch imported only when asked)."""
    import torch

    return {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
            "softplus": torch.nn.functional.softplus, "elu": torch.nn.functional.elu,
            "identity": lambda a: a}


def torch_twin(model):
    """A ``torch.nn.Sequential`` computing the same function as a plain ravine ``MLP`` (float64),
    with its weights copied; the parameters are named alike ("0.weight", ...)."""
    import torch

    activation = torch_activations()[model.activation]
    linears = model.linear_layers()
    layers = []
    for k, linear in enumerate(linears):
        t = torch.nn.Linear(linear.in_features, linear.out_features, dtype=torch.float64)
        with torch.no_grad():
            t.weight.copy_(torch.from_numpy(linear.weight.data))
            t.bias.copy_(torch.from_numpy(linear.bias.data))
        layers.append(t)
        if k < len(linears) - 1:
            layers.append(_module_of(activation))
    reference = torch.nn.Sequential(*layers)
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in reference.named_parameters()]
    return reference


def _module_of(fn):
    import torch

    class Apply(torch.nn.Module):
        def forward(self, x):
            return fn(x)

    return Apply()
