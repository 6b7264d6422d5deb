"""``CurvatureMonitor``: the optimizer's view of the loss surface, measured along training.

For the gradient g of the training objective J on the current mini-batch and the Hessian H there,
a gradient step θ ← θ − εg changes J by, to second order,

    J(θ − εg) − J(θ) ≈ −ε gᵀg + ½ ε² gᵀHg.

The first term is the decrease the step was taken for; the second is what curvature adds. When
½ ε gᵀHg > gᵀg the second term wins and the step is predicted to *raise* the loss: the learning
rate is too large for the curvature along g — the lectures' ill-conditioning. The largest rate that
still decreases J along g is ε* = 2 gᵀg / gᵀHg (for gᵀHg > 0). gᵀHg is computed exactly, by one
Hessian-vector product (double backprop), never by forming H.

Example::

    monitor = rv.diagnose.CurvatureMonitor(every=20)
    trainer = rv.train.Trainer(model, opt, callbacks=[monitor])
    trainer.fit(X, y, epochs=10)
    trainer.history.steps[0]   # {'step': 1, 'gTg': ..., 'gTHg': ..., 'stable_lr': ..., ...}
"""

from __future__ import annotations

import math

import numpy as np

from .._checks import check_int
from ..autodiff.second_order import gradient_graph, hvp_from_gradient
from ..nn.side_effects import no_side_effects
from ..train.callbacks import Callback


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """⟨a, b⟩ accumulated in float64 (gᵀg of a float32 net can exceed float32's precision)."""
    return float(np.dot(a.reshape(-1).astype(np.float64, copy=False), b.reshape(-1).astype(np.float64, copy=False)))


def curvature_along_gradient(loss_fn, params, lr: float) -> dict:
    """gᵀg, gᵀHg and what they predict for the step −lr·g, at the current parameters.

    Returns ``gTg``, ``gTHg``, ``curvature`` (gᵀHg/gᵀg, the curvature along g), ``predicted_change``
    (½lr²gᵀHg − lr·gᵀg), ``ill_conditioned`` (½·lr·gᵀHg > gᵀg) and ``stable_lr`` (2gᵀg/gᵀHg, or inf
    when gᵀHg ≤ 0: no curvature bound along g).
    """
    params = list(params)
    loss, grads = gradient_graph(loss_fn, params)
    g = [t.data for t in grads]
    Hg = hvp_from_gradient(grads, params, g)
    gTg = sum(_dot(a, a) for a in g)
    gTHg = sum(_dot(a, b) for a, b in zip(g, Hg))
    return {
        "loss": float(loss.item()),
        "lr": float(lr),
        "gTg": gTg,
        "gTHg": gTHg,
        "curvature": gTHg / gTg if gTg > 0 else math.nan,
        "predicted_change": 0.5 * lr * lr * gTHg - lr * gTg,
        "ill_conditioned": bool(0.5 * lr * gTHg > gTg),
        "stable_lr": 2.0 * gTg / gTHg if gTHg > 0 else math.inf,
    }


class CurvatureMonitor(Callback):
    """Every ``every`` updates, before the update, records ``curvature_along_gradient`` of the
    training objective on that update's mini-batch (at the learning rate about to be used) as a row
    of ``history.steps``. Measuring changes nothing: batch-norm statistics and dropout generators are
    put back, so a monitored run ends with the same weights as an unmonitored one.
    """

    def __init__(self, every: int = 10):
        self.every = check_int("every", every, minimum=1, owner="CurvatureMonitor")
        self.rows: list[dict] = []

    def on_batch_begin(self, step: int, logs: dict) -> None:
        if (step - 1) % self.every:
            return
        trainer = self.trainer
        xb, yb = logs["inputs"], logs["targets"]
        lr = trainer.optimizer.param_groups[0]["lr"]
        with no_side_effects(trainer.model):
            row = curvature_along_gradient(lambda: trainer.objective(xb, yb)[1],
                                           trainer.model.parameters(), lr)
        row = {"step": step, "epoch": trainer.epoch, **row}
        self.rows.append(row)
        trainer.history.record_step(row)
