"""Functions of the model and its losses, on Tensors (or NumPy arrays).

Activations: one function per entry of the activation registry (``tanh``, ``sigmoid``, ``relu``,
``softplus`` ... see ``ravine.autodiff.activations``), ``softmax``, ``log_softmax``; the affine
map ``linear``.
Losses, averaged over the mini-batch (empirical risk):
    cross_entropy(logits, labels) = −(1/m) Σ_t log softmax(a⁽ᵗ⁾)_{y⁽ᵗ⁾}   (fused; bprop (f − e(y))/m)
    nll_loss(log_probs, labels)   = −(1/m) Σ_t log_probs⁽ᵗ⁾_{y⁽ᵗ⁾}
    mse_loss(pred, target)        = (1/N) Σ (pred − target)²  over all N entries (as PyTorch)

Example::

    loss = F.cross_entropy(model(x), y) + rv.nn.L2(1e-4)(model)
"""

from __future__ import annotations

import numpy as np

from ..autodiff.activations import FUNCTIONS as _ACTIVATION_FUNCTIONS
from ..autodiff.linalg import linear
from ..autodiff.softmax import check_labels, cross_entropy, log_softmax, softmax
from ..autodiff.tensor import Tensor, as_tensor, pair

globals().update(_ACTIVATION_FUNCTIONS)  # tanh, sigmoid, relu, softplus ...: one per registry entry

__all__ = [*_ACTIVATION_FUNCTIONS, "softmax", "log_softmax", "linear", "cross_entropy", "nll_loss",
           "mse_loss"]


def nll_loss(log_probs, labels) -> Tensor:
    """−(1/m) Σ_t log_probs[t, y_t]: the negative log-likelihood of integer labels."""
    log_probs = as_tensor(log_probs)
    if log_probs.ndim != 2:
        raise ValueError(f"nll_loss expects log-probabilities of shape (batch, classes); got {log_probs.shape}")
    y = check_labels(labels, log_probs.shape[0], log_probs.shape[1])
    return -log_probs[np.arange(len(y)), y].mean()


def mse_loss(pred, target) -> Tensor:
    """(1/N) Σ (pred − target)² over all N entries. Shapes must match: nothing is broadcast."""
    pred, target = pair(as_tensor(pred) if not isinstance(pred, Tensor) else pred, target, "mse_loss")
    if pred.shape != target.shape:
        raise ValueError(
            f"mse_loss: pred has shape {pred.shape} but target has shape {target.shape}; "
            f"they must match (nothing is broadcast)"
        )
    diff = pred - target
    return (diff * diff).mean()
