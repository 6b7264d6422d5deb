"""Schedules from a command-line string (``ravine train --schedule``) or from plain data.

Grammar (whitespace around names, keys and values is ignored)::

    spec  := NAME [ ":" args ]
    args  := arg { "," arg }
    arg   := KEY "=" VALUE            VALUE: a number, or min/max/rel/abs for reduce_on_plateau
           | "then=" spec             the nested spec takes the rest of the string,
                                      so then= is the last argument of its schedule

so ``hold:k=100,then=warmup:steps=10,then=cosine:lr=0.1,steps=5000`` has exactly one reading.
Integer arguments (steps, step_size, k, patience, cooldown) accept ``1000`` or ``1e3``, not ``1.5``.
"""

from __future__ import annotations

import difflib
import math
from typing import Any

from ._base import Schedule


def get(spec: Any, lr: float | None = None) -> Schedule:
    """A schedule from a spec string, a ``to_dict()`` dict, or a schedule (returned as is).

    With ``lr``, every schedule in a spec string that takes an lr and gives none starts from it
    (``ravine train --schedule cosine:steps=1000 --lr 0.1``). Errors are ValueErrors that quote the
    spec and name the bad part.

    >>> from ravine.optim import schedules
    >>> schedules.get("inverse_time:lr=0.1,decay=1e-3")
    inverse_time(lr=0.1, decay=0.001, power=1.0)
    >>> schedules.get("hold:k=100,then=step_decay:lr=0.1,step_size=30")
    hold(k=100, then=step_decay(lr=0.1, step_size=30, gamma=0.1))
    >>> schedules.get("cosine:lr=0.1,stps=5000")
    Traceback (most recent call last):
    ...
    ValueError: bad schedule spec 'cosine:lr=0.1,stps=5000': cosine has no argument 'stps' (its arguments: lr, steps, final_lr)
    """
    if isinstance(spec, Schedule):
        return spec
    if isinstance(spec, dict):
        return Schedule.from_dict(spec)
    if not isinstance(spec, str):
        raise TypeError(f"a schedule spec must be a string such as 'cosine:lr=0.1,steps=1000', a "
                        f"dict or a schedule; got {spec!r} of type {type(spec).__name__}")
    if lr is not None:
        spec = with_default_lr(spec, lr)
    try:
        return _parse(spec)
    except ValueError as error:
        raise ValueError(f"bad schedule spec {spec!r}: {error}") from None


def with_default_lr(spec: str, lr: float) -> str:
    """``spec`` with ``lr=<lr>`` added to each schedule in it that takes an lr and gives none.

    >>> with_default_lr("hold:k=10,then=cosine:steps=100", 0.5)
    'hold:k=10,then=cosine:lr=0.5,steps=100'
    """
    parts = spec.split("then=")
    for i, part in enumerate(parts):
        name, _, args = part.partition(":")
        family = Schedule.registry.get(name.strip())
        own = [a for a in args.split(",") if a.strip()]
        if family is None or "lr" not in family._kinds or any(a.strip().startswith("lr=") for a in own):
            continue
        parts[i] = f"{name}:lr={lr!r}" + (f",{args}" if args else "")
    return "then=".join(parts)


def from_dict(data: dict) -> Schedule:
    """The schedule that ``data = schedule.to_dict()`` describes (``Schedule.from_dict``).

    >>> from ravine.optim import schedules
    >>> schedules.from_dict({"name": "exponential", "lr": 0.1, "gamma": 0.99})
    exponential(lr=0.1, gamma=0.99)
    """
    return Schedule.from_dict(data)


def _family(name: str) -> type[Schedule]:
    known = sorted(Schedule.registry)
    if not name:
        raise ValueError(f"no schedule name (known: {', '.join(known)})")
    family = Schedule.registry.get(name)
    if family is None:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown schedule {name!r} (known: {', '.join(known)}){hint}")
    return family


def _value(family: type[Schedule], key: str, text: str) -> Any:
    kind = family._kinds[key]
    if not text:
        raise ValueError(f"{family.name}: {key}= has no value")
    if kind is str:
        return text
    try:
        number = float(text)
    except ValueError:
        expected = "an integer" if kind is int else "a number"
        raise ValueError(f"{family.name}: {key} must be {expected}; got {text!r}") from None
    if kind is int:
        try:
            return int(text)
        except ValueError:
            if math.isfinite(number) and number.is_integer():
                return int(number)
            raise ValueError(f"{family.name}: {key} must be an integer; got {text!r}") from None
    return number


def _parse(text: str) -> Schedule:
    name, colon, rest = text.partition(":")
    family = _family(name.strip())
    if colon and not rest.strip():
        raise ValueError(f"nothing after '{name.strip()}:'")
    args: dict[str, Any] = {}
    while rest.strip():
        item, comma, tail = rest.partition(",")
        key, equals, value = item.partition("=")
        key = key.strip()
        if not equals:
            raise ValueError(f"{family.name}: {item.strip()!r} is not key=value")
        if key not in family._kinds:
            family.check_arguments({key: None})  # raises, naming the family's arguments
        if key in args:
            raise ValueError(f"{family.name}: {key} is given twice")
        if family._kinds[key] is Schedule:
            nested = rest.partition("=")[2].strip()
            try:
                args[key] = _parse(nested)
            except ValueError as error:
                raise ValueError(f"in {family.name}'s {key}={nested!r} (which takes the rest of the "
                                 f"spec, so it goes last): {error}") from None
            break
        args[key] = _value(family, key, value.strip())
        if comma and not tail.strip():
            raise ValueError(f"{family.name}: a ',' with no argument after it")
        rest = tail
    family.check_arguments(args)
    try:
        return family(**args)
    except TypeError as error:  # e.g. a stateful schedule after then=
        raise ValueError(str(error)) from None
