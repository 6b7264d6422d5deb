"""Adam and AdamW, as ``torch.optim.Adam`` and ``torch.optim.AdamW``.

Example::

    opt = rv.optim.AdamW(model.named_parameters(), lr=1e-3, weight_decay=1e-2)
"""

from __future__ import annotations

from .._checks import check_flag, check_number
from .optimizer import Optimizer
from .transforms import add_decayed_weights, scale_by_adam

__all__ = ["Adam", "AdamW", "check_betas"]


def check_betas(value, *, owner: str | None = None) -> tuple[float, float]:
    """``value`` as a pair of floats (β₁, β₂), each in [0, 1), or an error naming the one at fault.

    Example::

        check_betas((0.9, 1.0), owner="Adam")   # ValueError: Adam: betas[1] must be in [0, 1); got 1.0
    """
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        prefix = f"{owner}: " if owner else ""
        raise ValueError(f"{prefix}betas must be a pair (β₁, β₂); got {value!r}")
    return tuple(check_number(f"betas[{i}]", beta, low=0.0, high=1.0, high_open=True, owner=owner)
                 for i, beta in enumerate(value))


class Adam(Optimizer):
    r"""Adam: momentum on the gradient, RMSProp's scaling, both bias-corrected.

    With learning rate α, (β₁, β₂) = ``betas``, weight decay λ, at update t (1, 2, ...):

        g ← ∇ + λθ                            (L2 in the gradient, before the scaling)
        m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g⊙g       (both start at 0)
        m̂ ← m/(1 − β₁ᵗ),  v̂ ← v/(1 − β₂ᵗ)                 (undo the bias towards 0)
        amsgrad: v̂ ← v_max/(1 − β₂ᵗ) with v_max ← max(v_max, v)
        θ ← θ − α m̂/(√v̂ + ε)

    chain(add_decayed_weights(λ), scale_by_adam(betas, ε, amsgrad)), then the step. The step of
    each coordinate is about α whatever the gradient's scale. Note that the decay λθ here passes
    through the scaling: coordinates with large gradients are decayed less — see ``AdamW``.

    Hyperparameters (torch.optim's names and defaults): ``lr=1e-3``, ``betas=(0.9, 0.999)`` (each
    in [0, 1)), ``eps=1e-8``, ``weight_decay=0`` (≥ 0), ``amsgrad=False``.

    Example::

        opt = Adam(model.named_parameters(), lr=1e-3)
    """

    hyperparameters = ("lr", "betas", "eps", "weight_decay", "amsgrad")

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad))

    def check(self, h: dict) -> dict:
        name = self._name
        for key in ("lr", "eps", "weight_decay"):
            h[key] = check_number(key, h[key], low=0.0, owner=name)
        h["betas"] = check_betas(h["betas"], owner=name)
        h["amsgrad"] = check_flag("amsgrad", h["amsgrad"], owner=name)
        return h

    def transforms(self, h: dict):
        chain = [add_decayed_weights(h["weight_decay"])] if h["weight_decay"] else []
        chain.append(scale_by_adam(h["betas"], h["eps"], h["amsgrad"]))
        return chain


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter): θ ← θ(1 − αλ), then the Adam step.

        θ ← θ − α (m̂/(√v̂ + ε) + λθ) = θ(1 − αλ) − α m̂/(√v̂ + ε)

    chain(scale_by_adam(betas, ε, amsgrad), add_decayed_weights(λ)): the decay is added *after*
    the adaptive scaling. Why this differs from L2: adding (λ/2)‖θ‖² to the loss (or Adam's
    ``weight_decay``, the same thing) puts λθ into g, where it is divided by √v̂ like the rest of
    the gradient — weights whose gradients are large or noisy are hardly decayed, and the decay
    is entangled with the gradient's history in m and v. Decoupled, every weight shrinks by the
    same factor (1 − αλ) per step, as plain SGD's weight decay does; λ and α become independent
    knobs. (For SGD, L2 and decoupled decay coincide up to the scale of λ.)

    Hyperparameters: as ``Adam``, but ``weight_decay=1e-2`` by default.

    Example::

        opt = AdamW(rv.optim.decay_groups(model, weight_decay=0.05), lr=1e-3)
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)

    def transforms(self, h: dict):
        chain = [scale_by_adam(h["betas"], h["eps"], h["amsgrad"])]
        if h["weight_decay"]:
            chain.append(add_decayed_weights(h["weight_decay"]))
        return chain
