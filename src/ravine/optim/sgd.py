"""Stochastic gradient descent, with momentum and Nesterov momentum, as ``torch.optim.SGD``.

Example::

    opt = rv.optim.SGD(model.named_parameters(), lr=0.1, momentum=0.9)
    opt.zero_grad(); loss.backward(); opt.step()
"""

from __future__ import annotations

from .._checks import check_flag, check_number
from .optimizer import Optimizer
from .transforms import add_decayed_weights, trace

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent: per example when a batch holds one example, mini-batch otherwise.

    With learning rate α, momentum μ, dampening τ and weight decay λ, at each step and for each
    parameter θ with gradient ∇ (of the mean loss over the batch):

        g ← ∇ + λθ                                  (λ > 0: the gradient of (λ/2)‖θ‖²)
        b ← g (first step),  b ← μb + (1 − τ)g      (μ > 0)
        g ← g + μb (Nesterov)  or  g ← b            (μ > 0)
        θ ← θ − αg

    chain(add_decayed_weights(λ), trace(μ, τ, nesterov)), then the step.

    **The two momentum forms of the lectures.** *Velocity*: v ← μv − α∇, θ ← θ + v. *Exponential
    average of the gradients* (the form used here, as torch.optim.SGD): ∇̄ ← ∇ + β∇̄, θ ← θ − α∇̄
    (β = μ, τ = 0; with τ = β, ∇̄ ← (1 − β)∇ + β∇̄ is a true moving average, a step α/(1 − β) times
    smaller in the long run). They coincide when α is constant: by induction v = −α∇̄, since if
    vₜ₋₁ = −α∇̄ₜ₋₁ then vₜ = μvₜ₋₁ − α∇ₜ = −α(∇ₜ + μ∇̄ₜ₋₁) = −α∇̄ₜ, so both take the same steps.
    When α changes (a schedule) they differ: the velocity keeps the old rates inside v, while here
    the whole buffer is scaled by the current α, so a smaller rate takes effect at once.

    **Nesterov** evaluates the gradient at the look-ahead point θ + μv; in the buffer form this is
    the step g + μb above (Sutskever et al. 2013, as torch computes it). It needs μ > 0 and τ = 0.

    Hyperparameters (torch.optim's names and defaults): ``lr=1e-3``, ``momentum=0`` (≥ 0),
    ``dampening=0`` (in [0, 1]), ``weight_decay=0`` (≥ 0), ``nesterov=False``.

    Example::

        opt = SGD(model.named_parameters(), lr=0.05, momentum=0.9, nesterov=True)
        for xb, yb in batches:
            opt.zero_grad(); F.cross_entropy(model(xb), yb).backward(); opt.step()
    """

    hyperparameters = ("lr", "momentum", "dampening", "weight_decay", "nesterov")

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def check(self, h: dict) -> dict:
        name = self._name
        for key in ("lr", "momentum", "weight_decay"):
            h[key] = check_number(key, h[key], low=0.0, owner=name)
        h["dampening"] = check_number("dampening", h["dampening"], low=0.0, high=1.0, owner=name)
        h["nesterov"] = check_flag("nesterov", h["nesterov"], owner=name)
        if h["nesterov"] and (h["momentum"] <= 0 or h["dampening"] != 0):
            raise ValueError(f"{name}: nesterov=True needs momentum > 0 and dampening = 0; "
                             f"got momentum={h['momentum']!r}, dampening={h['dampening']!r}")
        return h

    def transforms(self, h: dict):
        chain = []
        if h["weight_decay"]:
            chain.append(add_decayed_weights(h["weight_decay"]))
        if h["momentum"]:
            chain.append(trace(h["momentum"], h["dampening"], h["nesterov"]))
        return chain
