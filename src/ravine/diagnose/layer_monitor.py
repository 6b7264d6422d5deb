"""``LayerMonitor``: vanishing and exploding gradients, layer by layer, along training.

Every ``every`` updates it records, for each layer's weight matrix W (named as in
``named_parameters``, e.g. ``0.weight``):

- ``grad_norm[0.weight]`` = ‖∂J/∂W‖_F — shrinking towards the input layer means vanishing gradients,
  growing means exploding ones;
- ``weight_norm[0.weight]`` = ‖W‖_F after the update;
- ``update_ratio[0.weight]`` = ‖ΔW‖_F / ‖W‖_F for the update just made, W before it (a common rule of thumb
  is ~1e-3: much smaller and the layer hardly learns, much larger and it thrashes);
- ``saturation[1]`` for each activation module with a saturation threshold (named by its
  position): the fraction of its units' pre-activations a with |a| beyond the threshold, where the
  derivative is nearly 0 — saturated units pass almost no gradient back. The thresholds are the
  activation registry's (``ravine.autodiff.activations``: tanh 2, tanh'(2) ≈ 0.07; sigmoid 4,
  σ'(±4) ≈ 0.018); ``thresholds`` overrides them, keyed by activation name or module class
  ({"tanh": 3.0} or {rv.nn.Tanh: 3.0}; None turns one off).

Rows go into ``history.steps`` (and ``monitor.rows``).

Example::

    trainer = rv.train.Trainer(model, opt, callbacks=[rv.diagnose.LayerMonitor(every=50)])
"""

from __future__ import annotations

import numpy as np

from .._checks import check_choice, check_int, check_optional, check_positive
from ..autodiff.activations import ACTIVATIONS
from ..autodiff.mode import no_grad
from ..nn.layers import activation_name
from ..nn.side_effects import no_side_effects
from ..train.callbacks import Callback

#: |a| beyond which a unit counts as saturated, by activation name (from the registry).
DEFAULT_THRESHOLDS = {name: spec.saturation for name, spec in ACTIVATIONS.items()
                      if spec.saturation is not None}


def _norm(a: np.ndarray) -> float:
    return float(np.sqrt(np.dot(a.reshape(-1).astype(np.float64), a.reshape(-1).astype(np.float64))))


def check_thresholds(thresholds, owner: str = "LayerMonitor") -> dict:
    """``thresholds`` checked: keys activation names or module classes, values > 0 or None."""
    if thresholds is None:
        return {}
    if not isinstance(thresholds, dict):
        raise TypeError(f"{owner}: thresholds must be a dict or None; got {thresholds!r}")
    for key, value in thresholds.items():
        if isinstance(key, str):
            check_choice("thresholds key", key, ACTIVATIONS, owner=owner)
        elif not isinstance(key, type):
            raise TypeError(f"{owner}: thresholds keys must be activation names or module classes; "
                            f"got {key!r}")
        check_optional(check_positive, f"thresholds[{key!r}]", value, owner=owner)
    return thresholds


def _limit(module, thresholds: dict) -> float | None:
    """The saturation threshold for ``module``: the user's (by name or class), else the registry's."""
    name = activation_name(module)
    for key, limit in thresholds.items():
        if (key == name) if isinstance(key, str) else isinstance(module, key):
            return limit
    return DEFAULT_THRESHOLDS.get(name)


def saturation(model, x, thresholds=None) -> dict[str, float]:
    """Fraction of saturated pre-activations per activation module with a threshold (tanh, sigmoid
    by default) of a Sequential model on ``x``."""
    thresholds = check_thresholds(thresholds, owner="saturation")
    if not hasattr(model, "_modules") or not hasattr(model, "__iter__"):
        return {}
    out: dict[str, float] = {}
    h = x
    with no_side_effects(model), no_grad():
        if hasattr(model, "dtype"):
            from ..nn.module import as_input

            h = as_input(h, model.dtype)
        for name, module in model._modules.items():
            limit = _limit(module, thresholds)
            if limit is not None:
                out[name] = float(np.mean(np.abs(h.data) > limit))
            h = module(h)
    return out


class LayerMonitor(Callback):
    """Records per-layer gradient norms, weight norms, update ratios and saturation every N updates."""

    def __init__(self, every: int = 10, thresholds: dict | None = None):
        self.every = check_int("every", every, minimum=1, owner="LayerMonitor")
        self.thresholds = check_thresholds(thresholds)
        self.rows: list[dict] = []
        self._before = None

    def _weights(self):
        return [(n, p) for n, p in self.trainer.model.named_parameters() if p.regularize]

    def on_batch_begin(self, step: int, logs: dict) -> None:
        if (step - 1) % self.every:
            self._before = None
            return
        self._before = {n: p.data.copy() for n, p in self._weights()}
        self._inputs = logs["inputs"]

    def on_batch_end(self, step: int, logs: dict) -> None:
        if self._before is None:
            return
        row: dict = {"step": step, "epoch": self.trainer.epoch}
        for name, p in self._weights():
            before = self._before[name]
            weight_norm = _norm(before)
            row[f"grad_norm[{name}]"] = _norm(p.grad.data) if p.grad is not None else float("nan")
            row[f"weight_norm[{name}]"] = _norm(p.data)
            row[f"update_ratio[{name}]"] = _norm(p.data - before) / weight_norm if weight_norm else float("nan")
        for name, fraction in saturation(self.trainer.model, self._inputs, self.thresholds).items():
            row[f"saturation[{name}]"] = fraction
        self._before = None
        self.rows.append(row)
        self.trainer.history.record_step(row)
