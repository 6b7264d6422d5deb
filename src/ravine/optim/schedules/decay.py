"""Schedules that decay forever: constant, inverse time, step, exponential."""

from __future__ import annotations

from ..._checks import check_int, check_number, check_positive
from ._base import Convergence, Schedule, eventually_constant


def _gamma(who: str, gamma) -> float:
    return check_number("gamma", gamma, low=0.0, high=1.0, low_open=True, owner=who,
                        hint="a decay factor")


class Constant(Schedule):
    """A constant learning rate: α_t = α₀.

    Convergence: Σα_t = Σα₀ = ∞, but Σα_t² = Σα₀² = ∞ as well: SGD with a constant step keeps
    bouncing in a region around the minimum whose size grows with α₀. Fails Robbins–Monro.

    >>> from ravine.optim import schedules
    >>> s = schedules.constant(0.1)
    >>> s(0), s(1000)
    (0.1, 0.1)
    >>> s.satisfies_robbins_monro
    False
    """

    name = "constant"
    _kinds = {"lr": float}

    def __init__(self, lr: float):
        self._set(lr=check_positive("lr", lr, owner=self.name))

    def _at(self, t: int) -> float:
        return self.lr

    def convergence(self) -> Convergence:
        return eventually_constant(f"α₀ = {self.lr!r}", "constant")


class InverseTime(Schedule):
    """Inverse-time decay with decrease constant δ: α_t = α₀ / (1 + δ t)^p  (p = ``power``, default 1).

    Convergence, by the integral test (Σ_t (1 + δt)^(-q) is finite iff q > 1, for δ > 0):
    Σα_t = ∞ iff p <= 1, and Σα_t² = α₀² Σ(1 + δt)^(-2p) < ∞ iff p > 1/2. So p in (1/2, 1], and in
    particular the classic p = 1, satisfies both; p <= 1/2 decays too slowly to average the noise;
    p > 1 stops too early, Σα_t <= α₀ (1 + 1/(δ(p − 1))). With δ = 0 it is ``constant(α₀)``.

    >>> from ravine.optim import schedules
    >>> s = schedules.inverse_time(0.1, decay=0.01)
    >>> s(0), s(100)
    (0.1, 0.05)
    >>> s.satisfies_robbins_monro
    True
    """

    name = "inverse_time"
    _kinds = {"lr": float, "decay": float, "power": float}

    def __init__(self, lr: float, decay: float, power: float = 1.0):
        who = self.name
        decay = check_number("decay", decay, low=0.0, owner=who, hint="the decrease constant δ")
        power = check_positive("power", power, owner=who)
        self._set(lr=check_positive("lr", lr, owner=who), decay=decay, power=power)

    def _at(self, t: int) -> float:
        return self.lr / (1.0 + self.decay * t) ** self.power

    def convergence(self) -> Convergence:
        p = self.power
        if self.decay == 0:
            return eventually_constant(f"α₀ = {self.lr!r}", "inverse_time with decay δ = 0 is constant")
        law = f"α_t = α₀(1 + δt)^-{p!r} ~ t^-{p!r}, and Σ t^-q < ∞ iff q > 1 (integral test)"
        if p <= 0.5:
            return Convergence(True, False, f"{law}: p = {p!r} <= 1 gives Σα_t = ∞, but "
                               f"2p = {2 * p!r} <= 1 gives Σα_t² = ∞ (fails the second condition)")
        if p <= 1:
            return Convergence(True, True, f"{law}: p = {p!r} <= 1 gives Σα_t = ∞ and "
                               f"2p = {2 * p!r} > 1 gives Σα_t² < ∞ (both conditions hold)")
        bound = self.lr * (1.0 + 1.0 / (self.decay * (p - 1.0)))
        return Convergence(False, True, f"{law}: p = {p!r} > 1 gives Σα_t <= α₀(1 + 1/(δ(p − 1))) "
                           f"= {bound!r} < ∞ (fails the first condition: the steps stop too soon)",
                           sum_bound=bound)


class StepDecay(Schedule):
    """Step decay: α_t = α₀ γ^⌊t / step_size⌋ (torch's ``StepLR``).

    Convergence: with γ < 1 the lrs form blocks of ``step_size`` equal terms of a geometric series,
    Σα_t = α₀ step_size / (1 − γ) < ∞ (fails the first condition), Σα_t² < ∞. With γ = 1 it is
    ``constant(α₀)``.

    >>> from ravine.optim import schedules
    >>> s = schedules.step_decay(0.1, step_size=30, gamma=0.5)
    >>> s(29), s(30), s(60)
    (0.1, 0.05, 0.025)
    """

    name = "step_decay"
    _kinds = {"lr": float, "step_size": int, "gamma": float}

    def __init__(self, lr: float, step_size: int, gamma: float = 0.1):
        who = self.name
        self._set(lr=check_positive("lr", lr, owner=who),
                  step_size=check_int("step_size", step_size, minimum=1, owner=who),
                  gamma=_gamma(who, gamma))

    def _at(self, t: int) -> float:
        return self.lr * self.gamma ** (t // self.step_size)

    def convergence(self) -> Convergence:
        if self.gamma == 1:
            return eventually_constant(f"α₀ = {self.lr!r}", "step_decay with gamma = 1 is constant")
        bound = self.lr * self.step_size / (1.0 - self.gamma)
        return Convergence(False, True, f"geometric in blocks of {self.step_size}: Σα_t = α₀ "
                           f"step_size / (1 − γ) = {bound!r} < ∞ (fails the first condition), and "
                           "Σα_t² is geometric with ratio γ² < 1, finite", sum_bound=bound)


class Exponential(Schedule):
    """Exponential decay: α_t = α₀ γ^t (torch's ``ExponentialLR``).

    Convergence: with γ < 1, a geometric series: Σα_t = α₀ / (1 − γ) < ∞ (fails the first
    condition: the parameters can move at most that far in gradient units), Σα_t² = α₀² / (1 − γ²).
    With γ = 1 it is ``constant(α₀)``.

    >>> from ravine.optim import schedules
    >>> s = schedules.exponential(0.1, gamma=0.5)
    >>> s(0), s(3)
    (0.1, 0.0125)
    >>> s.convergence().sum_bound
    0.2
    """

    name = "exponential"
    _kinds = {"lr": float, "gamma": float}

    def __init__(self, lr: float, gamma: float):
        who = self.name
        self._set(lr=check_positive("lr", lr, owner=who), gamma=_gamma(who, gamma))

    def _at(self, t: int) -> float:
        return self.lr * self.gamma ** t

    def convergence(self) -> Convergence:
        if self.gamma == 1:
            return eventually_constant(f"α₀ = {self.lr!r}", "exponential with gamma = 1 is constant")
        bound = self.lr / (1.0 - self.gamma)
        return Convergence(False, True, f"geometric: Σα_t = α₀ / (1 − γ) = {bound!r} < ∞ (fails the "
                           "first condition), Σα_t² = α₀² / (1 − γ²) < ∞", sum_bound=bound)
