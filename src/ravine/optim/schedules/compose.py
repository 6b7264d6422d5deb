"""Schedules built on another: hold a constant phase first, or warm up linearly first."""

from __future__ import annotations

from ..._checks import check_int, check_number
from ._base import Convergence, Schedule


def _check_then(who: str, then) -> Schedule:
    if isinstance(then, Schedule) and then.stateful:
        raise TypeError(f"{who}: then must be a pure schedule; {then.name} changes with a metric, "
                        "so it cannot be shifted in time")
    if not isinstance(then, Schedule):
        raise TypeError(f"{who}: then must be a ravine schedule (e.g. schedules.cosine(0.1, 1000)); "
                        f"got {then!r} of type {type(then).__name__}")
    return then


def _after_prefix(who: str, k: int, prefix_sum: float, then: Schedule) -> Convergence:
    inner = then.convergence()
    bound = None if inner.sum_bound is None else prefix_sum + inner.sum_bound
    return Convergence(inner.sum_diverges, inner.sum_of_squares_converges,
                       f"{who}: the first {k} terms are a finite prefix, which changes neither sum; "
                       f"then {then.name}: {inner.reason}", sum_bound=bound)


class Hold(Schedule):
    """Hold the lr constant for the first k updates, then follow another schedule from its start:
    α_t = then(0) for t < k, α_t = then(t − k) for t >= k. (The lectures' "constant for the
    first k updates, then decay".)

    Convergence: that of ``then`` — the first k terms are a finite prefix (their sum
    k·then(0) is added to ``sum_bound``).

    >>> from ravine.optim import schedules
    >>> s = schedules.hold(100, schedules.inverse_time(0.1, decay=0.01))
    >>> s(0), s(99), s(100), s(200)
    (0.1, 0.1, 0.1, 0.05)
    """

    name = "hold"
    _kinds = {"k": int, "then": Schedule}

    def __init__(self, k: int, then: Schedule):
        self._set(k=check_int("k", k, minimum=0, owner=self.name), then=_check_then(self.name, then))

    @property
    def base_lr(self) -> float:
        return self.then.base_lr

    def _at(self, t: int) -> float:
        return self.then._at(t - self.k if t >= self.k else 0)

    def convergence(self) -> Convergence:
        return _after_prefix(f"hold(k={self.k})", self.k, self.k * self.then._at(0), self.then)


class Warmup(Schedule):
    """Linear warm-up over ``steps`` updates, then another schedule from its start:
    α_t = then(0) (f + (1 − f) t / steps) for t < steps, α_t = then(t − steps) for t >= steps,
    with f = ``start_factor`` in (0, 1] (default 1/3, torch's ``LinearLR``). Equal to torch's
    ``SequentialLR([LinearLR(start_factor=f, total_iters=steps), then], milestones=[steps])``.

    Its ``base_lr`` is ``then.base_lr``; ``warmup(...)(0)`` is ``start_factor`` times that.

    Convergence: that of ``then`` — the warm-up is a finite prefix whose sum,
    then(0) (steps·f + (1 − f)(steps − 1)/2), is added to ``sum_bound``.

    >>> from ravine.optim import schedules
    >>> s = schedules.warmup(4, schedules.constant(0.1), start_factor=0.5)
    >>> [round(s(t), 6) for t in range(6)]
    [0.05, 0.0625, 0.075, 0.0875, 0.1, 0.1]
    """

    name = "warmup"
    _kinds = {"steps": int, "then": Schedule, "start_factor": float}

    def __init__(self, steps: int, then: Schedule, start_factor: float = 1.0 / 3):
        who = self.name
        start_factor = check_number("start_factor", start_factor, low=0.0, high=1.0, low_open=True,
                                    owner=who)
        self._set(steps=check_int("steps", steps, minimum=0, owner=who), then=_check_then(who, then),
                  start_factor=start_factor)

    @property
    def base_lr(self) -> float:
        return self.then.base_lr

    def _at(self, t: int) -> float:
        if t >= self.steps:
            return self.then._at(t - self.steps)
        f = self.start_factor
        return self.then._at(0) * (f + (1.0 - f) * t / self.steps)

    def convergence(self) -> Convergence:
        k, f = self.steps, self.start_factor
        prefix = self.then._at(0) * (k * f + (1.0 - f) * (k - 1) / 2) if k else 0.0
        return _after_prefix(f"warmup(steps={k})", k, prefix, self.then)
