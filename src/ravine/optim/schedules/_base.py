"""What every schedule shares: the step check, argument checks, the convergence answer, plain-data form.

A schedule's configuration is its constructor arguments, listed in ``_kinds`` (name -> type) in
constructor order. From that one list come ``__repr__``, ``to_dict``/``from_dict``, ``to_spec`` and
equality, so a new family only writes its formula, its checks and its convergence derivation.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, ClassVar

from ..._checks import check_int


def check_step(step: Any) -> int:
    """Return ``step`` as an int, or raise: a step is the number of updates done so far, an int ≥ 0.

    >>> check_step(3)
    3
    >>> check_step(-1)
    Traceback (most recent call last):
    ...
    ValueError: step must be an integer ≥ 0 (the number of updates done so far); got -1
    """
    return check_int("step", step, minimum=0, hint="the number of updates done so far")


@dataclass(frozen=True)
class Convergence:
    """Whether a schedule meets the conditions of SGD's convergence (Robbins–Monro):
    Σ_t α_t = ∞ (the iterates can reach any minimum however far) and Σ_t α_t² < ∞ (the gradient
    noise, whose variance enters scaled by α_t², is averaged away).

    ``None`` means "depends on things the schedule does not know" (the metric of a plateau rule).
    ``sum_bound`` is an upper bound on Σ_t α_t when that sum is finite (exact where the sum has a
    closed form), else None.

    >>> c = Convergence(True, True, "an example")
    >>> c.satisfies_robbins_monro
    True
    """

    sum_diverges: bool | None
    sum_of_squares_converges: bool | None
    reason: str
    sum_bound: float | None = None

    @property
    def satisfies_robbins_monro(self) -> bool | None:
        """Both conditions hold (True), one fails (False), or it cannot be known (None)."""
        if self.sum_diverges is False or self.sum_of_squares_converges is False:
            return False
        if self.sum_diverges is None or self.sum_of_squares_converges is None:
            return None
        return True


def eventually_constant(floor: str, why: str) -> Convergence:
    """The answer for a schedule that ends at (or never falls below) a positive lr ``floor``."""
    return Convergence(
        True, False,
        f"{why}: α_t >= {floor} > 0 for all later t, so Σα_t >= Σ {floor} = ∞ (good) but also "
        f"Σα_t² = ∞: the gradient noise is never averaged away (fails the second condition)")


def _format_value(value: Any) -> str:
    # repr of a float is the shortest string that reads back to the same float, so specs round-trip
    return repr(value) if isinstance(value, float) else str(value)


class Schedule:
    """Base class of learning-rate schedules: ``schedule(step) -> lr``.

    Subclasses set ``name`` (the lowercase family name used by ``repr``, ``to_dict`` and
    ``schedules.get``), ``_kinds`` (constructor arguments -> float, int, str or Schedule) and
    implement ``_at(t)`` and ``convergence()``. Pure schedules are immutable.

    >>> from ravine.optim import schedules
    >>> s = schedules.exponential(0.1, gamma=0.5)
    >>> s(2), s.base_lr, s.multiplier(2)
    (0.025, 0.1, 0.25)
    """

    name: ClassVar[str] = ""
    stateful: ClassVar[bool] = False
    _kinds: ClassVar[dict[str, type]] = {}
    registry: ClassVar[dict[str, type[Schedule]]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("name"):
            Schedule.registry[cls.name] = cls

    # -- the value --------------------------------------------------------------------------------

    def __call__(self, step: int) -> float:
        """The learning rate after ``step`` updates (``step`` an int >= 0)."""
        return self._at(check_step(step))

    def _at(self, t: int) -> float:  # t already checked
        raise NotImplementedError

    @property
    def base_lr(self) -> float:
        """The nominal lr α₀: the optimizer lr this schedule scales (torch's ``base_lrs``).

        It is ``schedule(0)`` for every family except ``warmup``, which starts at
        ``start_factor * base_lr``.
        """
        return self.lr

    def multiplier(self, step: int) -> float:
        """``schedule(step) / base_lr``: the factor for a param group whose own lr is the nominal one."""
        return self(step) / self.base_lr

    # -- convergence ------------------------------------------------------------------------------

    def convergence(self) -> Convergence:
        """Σα_t = ∞ and Σα_t² < ∞?, derived from the parameters (see the class docstring)."""
        raise NotImplementedError

    @property
    def satisfies_robbins_monro(self) -> bool | None:
        """``convergence().satisfies_robbins_monro``."""
        return self.convergence().satisfies_robbins_monro

    # -- configuration as plain data --------------------------------------------------------------

    def _set(self, **values: Any) -> None:
        for key, value in values.items():
            object.__setattr__(self, key, value)

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(f"{self.name} schedules are immutable (a schedule is a pure function of "
                             f"the step); build a new one instead of setting {key!r}")

    def config(self) -> dict[str, Any]:
        """The constructor arguments, in order (a nested schedule stays an object)."""
        return {key: getattr(self, key) for key in self._kinds}

    def to_dict(self) -> dict[str, Any]:
        """Plain data (str, int, float, nested dicts) that ``from_dict`` turns back into this schedule.

        >>> from ravine.optim import schedules
        >>> schedules.hold(10, schedules.constant(0.1)).to_dict()
        {'name': 'hold', 'k': 10, 'then': {'name': 'constant', 'lr': 0.1}}
        """
        out: dict[str, Any] = {"name": self.name}
        for key, value in self.config().items():
            out[key] = value.to_dict() if isinstance(value, Schedule) else value
        return out

    @classmethod
    def from_dict(cls, data: Any) -> Schedule:
        """Build a schedule from ``to_dict()`` output; on the base class, any family by its name.

        >>> from ravine.optim import schedules
        >>> schedules.Schedule.from_dict({"name": "cosine", "lr": 0.1, "steps": 100})
        cosine(lr=0.1, steps=100, final_lr=0.0)
        """
        if not isinstance(data, dict):
            raise TypeError(f"a schedule dict must be a dict; got {type(data).__name__}")
        if "name" not in data:
            raise ValueError(f"schedule dict has no 'name' key: {data!r}")
        name = data["name"]
        family = Schedule.registry.get(name) if isinstance(name, str) else None
        if family is None:
            raise ValueError(f"unknown schedule {name!r}; known: {', '.join(sorted(Schedule.registry))}")
        if cls is not Schedule and family is not cls:
            raise ValueError(f"{cls.name}.from_dict got a dict for {name!r}")
        args = {key: value for key, value in data.items() if key != "name"}
        family.check_arguments(args)
        for key, value in args.items():
            if family._kinds[key] is Schedule and isinstance(value, dict):
                args[key] = Schedule.from_dict(value)
        return family(**args)

    @classmethod
    def check_arguments(cls, args: dict[str, Any]) -> None:
        """Raise ValueError naming unknown or missing constructor arguments of this family."""
        unknown = [key for key in args if key not in cls._kinds]
        if unknown:
            raise ValueError(f"{cls.name} has no argument {unknown[0]!r} "
                             f"(its arguments: {', '.join(cls._kinds)})")
        params = inspect.signature(cls.__init__).parameters
        missing = [key for key in cls._kinds
                   if params[key].default is inspect.Parameter.empty and key not in args]
        if missing:
            raise ValueError(f"{cls.name} needs {', '.join(missing)} "
                             f"(its arguments: {', '.join(cls._kinds)})")

    def to_spec(self) -> str:
        """The string ``schedules.get`` parses back into this schedule.

        >>> from ravine.optim import schedules
        >>> schedules.hold(100, schedules.inverse_time(0.1, 0.01)).to_spec()
        'hold:k=100,then=inverse_time:lr=0.1,decay=0.01,power=1.0'
        """
        parts = []
        nested = None
        for key, value in self.config().items():
            if isinstance(value, Schedule):
                nested = f"{key}={value.to_spec()}"  # takes the rest of the string, so it goes last
            else:
                parts.append(f"{key}={_format_value(value)}")
        if nested is not None:
            parts.append(nested)
        return f"{self.name}:{','.join(parts)}"

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.config().items())
        return f"{self.name}({args})"

    def __eq__(self, other: object) -> bool:
        if self.stateful or not isinstance(other, Schedule) or other.stateful:
            return self is other
        return type(self) is type(other) and self.config() == other.config()

    def __hash__(self) -> int:
        if self.stateful:
            return id(self)
        return hash((type(self), tuple(self.config().items())))
