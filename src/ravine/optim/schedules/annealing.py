"""Schedules that anneal over a fixed horizon of τ updates and then stay put: linear, cosine."""

from __future__ import annotations

import math

from ..._checks import check_int, check_number, check_positive
from ._base import Convergence, Schedule, eventually_constant


def _check(who: str, lr, steps, final_lr) -> tuple[float, int, float]:
    lr = check_positive("lr", lr, owner=who)
    steps = check_int("steps", steps, minimum=1, owner=who)
    final_lr = check_number("final_lr", final_lr, low=0.0, high=lr, owner=who,
                            hint=f"between 0 and lr = {lr!r}")
    return lr, steps, final_lr


def _horizon_convergence(who: str, lr: float, steps: int, final_lr: float) -> Convergence:
    if final_lr > 0:
        return eventually_constant(f"ε_τ = {final_lr!r}", f"{who} ends at final_lr > 0 after "
                                   f"τ = {steps} updates")
    bound = lr * (steps + 1) / 2
    return Convergence(False, True, f"{who} reaches 0 at t = τ = {steps}: finitely many nonzero "
                       f"terms, Σα_t = α₀(τ + 1)/2 = {bound!r} < ∞ (fails the first condition)",
                       sum_bound=bound)


class LinearDecay(Schedule):
    """Linear decay over τ = ``steps`` updates, then constant:
    α_t = (1 − t/τ) ε₀ + (t/τ) ε_τ for t <= τ, α_t = ε_τ for t >= τ,
    with ε₀ = ``lr`` and ε_τ = ``final_lr`` (default ε₀/100). torch's ``LinearLR`` with
    start_factor 1 and end_factor ε_τ/ε₀.

    Convergence: with ε_τ > 0 the tail is constant, so Σα_t = ∞ and Σα_t² = ∞ (fails the second);
    with ε_τ = 0 only τ terms are nonzero, Σα_t = ε₀(τ + 1)/2 < ∞ (fails the first).

    >>> from ravine.optim import schedules
    >>> s = schedules.linear_decay(0.1, steps=100)
    >>> s(0), s(50), s(100), s(10**6)
    (0.1, 0.0505, 0.001, 0.001)
    """

    name = "linear_decay"
    _kinds = {"lr": float, "steps": int, "final_lr": float}

    def __init__(self, lr: float, steps: int, final_lr: float | None = None):
        if final_lr is None:
            lr = check_positive("lr", lr, owner=self.name)
            final_lr = lr / 100
        self._set(**dict(zip(("lr", "steps", "final_lr"), _check(self.name, lr, steps, final_lr))))

    def _at(self, t: int) -> float:
        if t >= self.steps:
            return self.final_lr
        a = t / self.steps
        return (1.0 - a) * self.lr + a * self.final_lr

    def convergence(self) -> Convergence:
        return _horizon_convergence(self.name, self.lr, self.steps, self.final_lr)


class Cosine(Schedule):
    """Cosine annealing over τ = ``steps`` updates, then constant (SGDR without restarts):
    α_t = ε_τ + (α₀ − ε_τ)(1 + cos(π t/τ))/2 for t <= τ, α_t = ε_τ for t >= τ.

    Computed as α₀ sin²(π(τ − t)/(2τ)) + ε_τ sin²(π t/(2τ)), the same number by
    (1 + cos x)/2 = cos²(x/2), but accurate to a few ulps even near t = τ where 1 + cos(πt/τ)
    cancels, and exactly α₀ at t = 0 and ε_τ at t = τ. Equal to torch's ``CosineAnnealingLR`` for
    t <= T_max (torch continues with a second half-period; this stays at ε_τ).

    Convergence: as ``linear_decay``: ε_τ > 0 fails Σα_t² < ∞; ε_τ = 0 gives
    Σα_t = α₀(τ + 1)/2 < ∞ (the cosine terms cancel in pairs t, τ − t).

    >>> from ravine.optim import schedules
    >>> s = schedules.cosine(0.1, steps=100)
    >>> [round(s(t), 15) for t in (0, 50, 100, 200)]
    [0.1, 0.05, 0.0, 0.0]
    """

    name = "cosine"
    _kinds = {"lr": float, "steps": int, "final_lr": float}

    def __init__(self, lr: float, steps: int, final_lr: float = 0.0):
        self._set(**dict(zip(("lr", "steps", "final_lr"), _check(self.name, lr, steps, final_lr))))

    def _at(self, t: int) -> float:
        if t >= self.steps:
            return self.final_lr
        half = 2 * self.steps
        w_start = math.sin(math.pi * (self.steps - t) / half) ** 2
        w_end = math.sin(math.pi * t / half) ** 2
        return self.lr * w_start + self.final_lr * w_end

    def convergence(self) -> Convergence:
        return _horizon_convergence(self.name, self.lr, self.steps, self.final_lr)
