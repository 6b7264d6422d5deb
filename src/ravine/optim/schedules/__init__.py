"""Learning-rate schedules: pure functions ``schedule(step) -> lr``, as optax's.

``step`` is the number of updates done so far (an int >= 0). A schedule keeps no state, so
``schedule(t)`` is the same number whenever and in whatever order it is asked; schedules are
immutable. The one exception is ``reduce_on_plateau``, which is driven by a validation metric:
it is an object with ``observe(metric) -> lr`` and ``state_dict()/load_state_dict()``, and its
``schedule(step)`` returns the current lr.

=============================================  =================================================
family                                         α_t
=============================================  =================================================
``constant(lr)``                               α₀
``inverse_time(lr, decay, power=1)``           α₀ / (1 + δt)^p
``linear_decay(lr, steps, final_lr=lr/100)``   linear from ε₀ to ε_τ over τ = steps, then ε_τ
``hold(k, then)``                              then(0) for t < k, then then(t − k)
``step_decay(lr, step_size, gamma=0.1)``       α₀ γ^⌊t/step_size⌋
``exponential(lr, gamma)``                     α₀ γ^t
``cosine(lr, steps, final_lr=0)``              ε_τ + (α₀ − ε_τ)(1 + cos(πt/τ))/2, then ε_τ
``warmup(steps, then, start_factor=1/3)``      linear from f·then(0) to then(0), then then(t − steps)
``reduce_on_plateau(lr, factor=0.1, ...)``     α₀ · factor^(number of plateaus), torch's rule
=============================================  =================================================

Every schedule answers whether it meets the Robbins–Monro conditions of SGD, Σα_t = ∞ and
Σα_t² < ∞, with ``convergence()`` (a ``Convergence(sum_diverges, sum_of_squares_converges,
reason, sum_bound)``) and ``satisfies_robbins_monro``, derived from its parameters in its
docstring, never sampled.

**Optimizers and param groups.** A schedule gives the lr of a param group whose initial lr is
the schedule's ``base_lr``, its nominal α₀. That is ``schedule(0)`` for every family except
``warmup``, which starts at ``start_factor * base_lr`` (as torch's ``LinearLR`` starts at
``start_factor`` times the optimizer's lr). For an optimizer of any class, with groups of their own
lrs, set ``group["lr"] = group_initial_lr * schedule.multiplier(t)``, where
``multiplier(t) = schedule(t) / schedule.base_lr`` — torch's ``base_lr * factor``.

Schedules are plain data too: ``to_dict()``/``from_dict()`` (no pickle), and ``get(spec)`` reads the
command-line form, e.g. ``"hold:k=100,then=inverse_time:lr=0.1,decay=0.01"`` (see ``spec``).

>>> from ravine.optim import schedules
>>> s = schedules.warmup(100, schedules.cosine(0.1, steps=5000), start_factor=0.5)
>>> s(0), s(100), s(5100)
(0.05, 0.1, 0.0)
>>> s.convergence().satisfies_robbins_monro
False
>>> s == schedules.get(s.to_spec()) == schedules.from_dict(s.to_dict())
True
"""

from ._base import Convergence, Schedule, check_step
from .annealing import Cosine, LinearDecay
from .compose import Hold, Warmup
from .decay import Constant, Exponential, InverseTime, StepDecay
from .plateau import ReduceOnPlateau
from .spec import from_dict, get

constant = Constant
inverse_time = InverseTime
linear_decay = LinearDecay
hold = Hold
step_decay = StepDecay
exponential = Exponential
cosine = Cosine
warmup = Warmup
reduce_on_plateau = ReduceOnPlateau


def lr_at(schedule: Schedule, step: int) -> float:
    """The learning rate ``schedule`` gives after ``step`` updates: just ``schedule(step)``.

    >>> lr_at(constant(0.1), 7)
    0.1
    """
    return schedule(step)


__all__ = [
    "Schedule", "Convergence", "check_step", "lr_at", "get", "from_dict",
    "constant", "inverse_time", "linear_decay", "hold", "step_decay", "exponential", "cosine",
    "warmup", "reduce_on_plateau",
    "Constant", "InverseTime", "LinearDecay", "Hold", "StepDecay", "Exponential", "Cosine",
    "Warmup", "ReduceOnPlateau",
]
