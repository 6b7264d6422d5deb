"""AdaGrad, as ``torch.optim.Adagrad``.

Example::

    opt = rv.optim.AdaGrad(model.named_parameters(), lr=0.05)
"""

from __future__ import annotations

from .._checks import check_number
from .optimizer import Optimizer
from .transforms import add_decayed_weights, scale_by_adagrad, scale_by_schedule

__all__ = ["AdaGrad", "Adagrad"]


class _InverseTime:
    """t ↦ 1 / (1 + (t − 1)·δ), AdaGrad's ``lr_decay``."""

    def __init__(self, decay: float):
        self.decay = decay

    def __call__(self, step: int) -> float:
        return 1.0 / (1.0 + (step - 1) * self.decay)

    def __repr__(self) -> str:
        return f"1 / (1 + (t - 1) * {self.decay!r})"


class AdaGrad(Optimizer):
    r"""AdaGrad: each coordinate's learning rate shrinks with the squared gradients it has seen.

    With learning rate α, decay δ (``lr_decay``), weight decay λ, at update t (1, 2, ...):

        g ← ∇ + λθ
        s ← s + g⊙g                      (s starts at ``initial_accumulator_value``)
        θ ← θ − α/(1 + (t − 1)δ) · g / (√s + ε)

    chain(add_decayed_weights(λ), scale_by_adagrad(s₀, ε), scale_by_schedule(1/(1 + (t−1)δ))).
    Coordinates with rare or small gradients keep large steps; the steps of all decrease for ever,
    which suits convex problems and can stop deep-net training too early (hence RMSProp).

    Hyperparameters (torch.optim's names and defaults): ``lr=1e-2``, ``lr_decay=0``,
    ``weight_decay=0``, ``initial_accumulator_value=0``, ``eps=1e-10`` (all ≥ 0).

    Example::

        opt = AdaGrad(model.named_parameters(), lr=0.05, lr_decay=1e-4)
    """

    hyperparameters = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))

    def check(self, h: dict) -> dict:
        for key in self.hyperparameters:
            h[key] = check_number(key, h[key], low=0.0, owner=self._name)
        return h

    def transforms(self, h: dict):
        chain = []
        if h["weight_decay"]:
            chain.append(add_decayed_weights(h["weight_decay"]))
        chain.append(scale_by_adagrad(h["initial_accumulator_value"], h["eps"]))
        if h["lr_decay"]:
            chain.append(scale_by_schedule(_InverseTime(h["lr_decay"])))
        return chain


Adagrad = AdaGrad
