"""Reduce-on-plateau: the one stateful schedule, driven by a validation metric."""

from __future__ import annotations

import math
import numbers
from typing import Any

from ..._checks import check_choice, check_int, check_number, check_positive
from ._base import Convergence, Schedule, check_step, eventually_constant

_STATE_KEYS = ("lr", "best", "num_bad_epochs", "cooldown_counter", "last_epoch")


class ReduceOnPlateau(Schedule):
    """Multiply the lr by ``factor`` when a metric has not improved for more than ``patience``
    observations — torch's ``ReduceLROnPlateau``, the same rule step for step.

    Unlike every other schedule it has state, fed by ``observe(metric)`` (call it once per
    evaluation, e.g. per epoch, with the validation loss); ``schedule(step)`` returns the current lr
    whatever the step. ``state_dict()``/``load_state_dict()`` save and restore that state.

    Each ``observe(m)``: m improves on the best so far when
    ``m < best (1 − threshold)`` (mode "min", threshold_mode "rel"), ``m < best − threshold``
    ("min", "abs"), ``m > best (1 + threshold)`` ("max", "rel") or ``m > best + threshold``
    ("max", "abs"); an improvement resets the count of bad observations, anything else (NaN
    included) adds one. During ``cooldown`` observations after a reduction the count is held at 0.
    When the count exceeds ``patience``: new = max(lr · factor, min_lr), applied only if
    lr − new > eps; then the count resets and the cooldown starts.

    Convergence: the lr never increases, and a reduction needs lr − max(lr·factor, min_lr) > eps,
    so with min_lr > 0 the lr stays >= min(α₀, min_lr), and with eps > 0 it stays
    >= min(α₀, eps·factor/(1 − factor)). Either way it takes finitely many values and is eventually
    a positive constant: Σα_t = ∞, Σα_t² = ∞, whatever the metric. Only with min_lr = 0 and
    eps = 0 can it go to 0, and then both answers depend on the metric: reported as None.

    With the Trainer's per-group scaling (``group lr = its initial lr · multiplier``), groups with
    different lrs share one factor; torch applies min_lr and eps to each group's own lr.

    >>> from ravine.optim import schedules
    >>> s = schedules.reduce_on_plateau(0.1, factor=0.5, patience=1)
    >>> [s.observe(loss) for loss in [1.0, 0.9, 0.95, 0.95, 0.95]]
    [0.1, 0.1, 0.1, 0.05, 0.05]
    >>> s(12345)
    0.05
    """

    name = "reduce_on_plateau"
    stateful = True
    _kinds = {"lr": float, "factor": float, "patience": int, "mode": str, "threshold": float,
              "threshold_mode": str, "cooldown": int, "min_lr": float, "eps": float}

    __setattr__ = object.__setattr__  # the one mutable schedule

    def __init__(self, lr: float, factor: float = 0.1, patience: int = 10, mode: str = "min",
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float = 0.0, eps: float = 1e-8):
        who = self.name
        self.lr = check_positive("lr", lr, owner=who)
        self.factor = check_number("factor", factor, low=0.0, high=1.0, low_open=True,
                                   high_open=True, owner=who)
        self.patience = check_int("patience", patience, minimum=0, owner=who)
        self.mode = check_choice("mode", mode, ("min", "max"), owner=who)
        self.threshold = check_number("threshold", threshold, low=0.0, owner=who)
        self.threshold_mode = check_choice("threshold_mode", threshold_mode, ("rel", "abs"),
                                           owner=who)
        self.cooldown = check_int("cooldown", cooldown, minimum=0, owner=who)
        self.min_lr = check_number("min_lr", min_lr, low=0.0, owner=who)
        self.eps = check_number("eps", eps, low=0.0, owner=who)
        self.reset()

    def reset(self) -> None:
        """Back to the state of a fresh schedule: lr = α₀, no best metric yet, no bad epochs."""
        self.current_lr = self.lr
        self.best = math.inf if self.mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0  # the number of observations so far, as torch counts them

    def __call__(self, step: int) -> float:
        """The current lr (it depends on the metrics observed so far, not on ``step``)."""
        check_step(step)
        return self.current_lr

    def _at(self, t: int) -> float:
        return self.current_lr

    def _is_better(self, value: float) -> bool:
        # torch's comparisons verbatim, including how they treat negative metrics in "rel" mode
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return value < self.best * (1.0 - self.threshold)
            return value < self.best - self.threshold
        if self.threshold_mode == "rel":
            return value > self.best * (self.threshold + 1.0)
        return value > self.best + self.threshold

    def observe(self, metric: float) -> float:
        """Record one value of the monitored metric; return the lr to use from now on."""
        if isinstance(metric, bool) or not isinstance(metric, numbers.Real):
            if getattr(metric, "shape", None) != ():  # a 0-d array is one number
                raise TypeError(f"{self.name}.observe: metric must be a real number; got "
                                f"{metric!r} of type {type(metric).__name__}")
        value = float(metric)
        self.last_epoch += 1
        if self._is_better(value):
            self.best = value
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad observations during the cooldown do not count
        if self.num_bad_epochs > self.patience:
            new_lr = max(self.current_lr * self.factor, self.min_lr)
            if self.current_lr - new_lr > self.eps:
                self.current_lr = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        return self.current_lr

    def state_dict(self) -> dict[str, Any]:
        """The state as plain data: the current lr, the best metric and the counters.

        >>> from ravine.optim import schedules
        >>> schedules.reduce_on_plateau(0.1).state_dict()
        {'lr': 0.1, 'best': inf, 'num_bad_epochs': 0, 'cooldown_counter': 0, 'last_epoch': 0}
        """
        return {"lr": self.current_lr, "best": self.best, "num_bad_epochs": self.num_bad_epochs,
                "cooldown_counter": self.cooldown_counter, "last_epoch": self.last_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state_dict()`` output; missing or unexpected keys are reported.

        >>> from ravine.optim import schedules
        >>> s = schedules.reduce_on_plateau(0.1)
        >>> s.load_state_dict({'lr': 0.01, 'best': 0.5, 'num_bad_epochs': 3,
        ...                    'cooldown_counter': 0, 'last_epoch': 20})
        >>> s(0)
        0.01
        """
        if not isinstance(state, dict):
            raise TypeError(f"{self.name}.load_state_dict: state must be a dict; "
                            f"got {type(state).__name__}")
        missing = [key for key in _STATE_KEYS if key not in state]
        unexpected = [key for key in state if key not in _STATE_KEYS]
        if missing or unexpected:
            raise ValueError(f"{self.name}.load_state_dict: missing keys {missing}, "
                             f"unexpected keys {unexpected}")
        who = f"{self.name}.load_state_dict"
        lr = check_positive("lr", state["lr"], owner=who)
        best = state["best"]
        if isinstance(best, bool) or not isinstance(best, numbers.Real):
            raise TypeError(f"{who}: best must be a real number; got {best!r}")
        counters = {key: check_int(key, state[key], minimum=0, owner=who)
                    for key in ("num_bad_epochs", "cooldown_counter", "last_epoch")}
        self.current_lr, self.best = lr, float(best)
        self.num_bad_epochs = counters["num_bad_epochs"]
        self.cooldown_counter = counters["cooldown_counter"]
        self.last_epoch = counters["last_epoch"]

    def lower_bound(self) -> float:
        """A positive lower bound on every lr this schedule can reach, or 0.0 if it can reach 0."""
        if self.min_lr > 0:
            return min(self.lr, self.min_lr)
        if self.eps > 0:
            return min(self.lr, self.eps * self.factor / (1.0 - self.factor))
        return 0.0

    def convergence(self) -> Convergence:
        floor = self.lower_bound()
        if floor > 0:
            why = ("reduce_on_plateau never raises the lr and reduces it only by more than eps and "
                   "never below min_lr, so it is reduced finitely often whatever the metric")
            return eventually_constant(repr(floor), why)
        return Convergence(None, None, "reduce_on_plateau with min_lr = 0 and eps = 0 can drive the "
                           "lr to 0 or keep it constant depending on the metric sequence: both sums "
                           "depend on the data")
