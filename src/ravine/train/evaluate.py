"""Evaluating a model: its output on data, and the mean loss and classification error there."""

from __future__ import annotations

import math

import numpy as np

from ..autodiff.mode import no_grad
from ..nn import functional as F

LOSSES = {"cross_entropy": F.cross_entropy, "mse": F.mse_loss}


def predict_output(model, X, batch_size: int = 4096) -> np.ndarray:
    """The model's raw output (logits or regression values) for every row of X, in eval mode."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            parts = [model(X[i:i + batch_size]).data for i in range(0, len(X), batch_size)]
    finally:
        model.train(was_training)
    if parts:
        return np.concatenate(parts)
    return np.empty((0, getattr(model, "out_features", 0)))


def evaluate(model, X, y, loss: str = "cross_entropy") -> dict:
    """{'loss': mean loss, 'error': fraction misclassified (classification)} of ``model`` on (X, y)."""
    out = predict_output(model, X)
    if loss == "mse":
        y = np.asarray(y, dtype=out.dtype).reshape(out.shape)
    with no_grad():
        value = LOSSES[loss](out, y).item() if len(X) else math.nan
    result = {"loss": value}
    if loss == "cross_entropy":
        result["error"] = float(np.mean(out.argmax(axis=1) != y)) if len(X) else math.nan
    return result
