"""RMSProp, as ``torch.optim.RMSprop``.

Example::

    opt = rv.optim.RMSProp(model.named_parameters(), lr=1e-3, momentum=0.9, centered=True)
"""

from __future__ import annotations

from .._checks import check_flag, check_number
from .optimizer import Optimizer
from .transforms import add_decayed_weights, scale_by_rms, trace

__all__ = ["RMSProp", "RMSprop"]


class RMSProp(Optimizer):
    r"""RMSProp: divide each coordinate's step by a moving root mean square of its gradients.

    With learning rate α, decay ρ (``alpha``), momentum μ, weight decay λ:

        g ← ∇ + λθ
        r ← ρr + (1 − ρ)g⊙g                                   (starts at 0)
        centered: m ← m + (1 − ρ)(g − m);  d ← √max(r − m⊙m, 0) + ε
        otherwise:                          d ← √r + ε
        μ > 0: b ← μb + g/d (starts at 0);  θ ← θ − αb
        μ = 0:                              θ ← θ − α g/d

    chain(add_decayed_weights(λ), scale_by_rms(ρ, ε, centered), trace(μ)). Unlike AdaGrad's sum,
    the moving average forgets: the step adapts to the recent scale of the gradient. ``centered``
    divides by an estimate of the gradient's standard deviation instead of its RMS.

    Hyperparameters (torch.optim's names and defaults): ``lr=1e-2``, ``alpha=0.99``, ``eps=1e-8``,
    ``weight_decay=0``, ``momentum=0`` (all ≥ 0), ``centered=False``.

    Example::

        opt = RMSProp(model.named_parameters(), lr=1e-3, alpha=0.9)
    """

    hyperparameters = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered")

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def check(self, h: dict) -> dict:
        for key in ("lr", "alpha", "eps", "weight_decay", "momentum"):
            h[key] = check_number(key, h[key], low=0.0, owner=self._name)
        h["centered"] = check_flag("centered", h["centered"], owner=self._name)
        return h

    def transforms(self, h: dict):
        chain = []
        if h["weight_decay"]:
            chain.append(add_decayed_weights(h["weight_decay"]))
        chain.append(scale_by_rms(h["alpha"], h["eps"], h["centered"]))
        if h["momentum"]:
            chain.append(trace(h["momentum"]))
        return chain


RMSprop = RMSProp
