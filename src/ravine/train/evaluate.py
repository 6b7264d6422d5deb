"""Evaluating a model: its output on data, and the mean loss and classification error there."""

from __future__ import annotations

import math

import numpy as np

from ..autodiff.mode import no_grad
from ..nn import losses


def predict_output(model, X, batch_size: int = 4096) -> np.ndarray:
    """The model's raw output (logits or regression values) for every row of X, in eval mode."""
    with model.mode(training=False), no_grad():
        parts = [model(X[i:i + batch_size]).data for i in range(0, len(X), batch_size)]
    if parts:
        return np.concatenate(parts)
    return np.empty((0, getattr(model, "out_features", 0)))


def evaluate(model, X, y, loss="cross_entropy", checked: bool = False) -> dict:
    """{'loss': mean loss, 'error': fraction misclassified (classification)} of ``model`` on (X, y).

    ``loss``: a name or an ``rv.nn.losses.Loss``; (X, y) as the loss's ``targets`` shapes them
    (``checked=True``: y is so already, as the Trainer's checked validation data are).
    """
    loss = losses.get(loss)
    out = predict_output(model, X)
    if len(X) == 0:
        return {"loss": math.nan, **({"error": math.nan} if loss.task == "classification" else {})}
    if not checked:
        y = loss.targets(y, len(X), out.shape[1], out.dtype, "evaluation")
    with no_grad():
        result = {"loss": loss(out, y).item()}
    wrong = loss.errors(out, y)
    if wrong is not None:
        result["error"] = wrong / len(X)
    return result
