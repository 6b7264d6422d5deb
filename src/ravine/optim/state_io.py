"""Checking an optimizer state before it is loaded: every problem found, before anything changes.

A state saved by ``Optimizer.state_dict()`` loads only into an optimizer with the same groups and
parameter names, the same kind of optimizer (its hyperparameters and no other's) and, for every
parameter, the state keys its update rule needs with arrays of the parameter's shape.
``_check_loadable`` collects every problem and raises one ValueError listing them all.

Example::

    saved_groups, saved_state = _check_loadable(opt, state_dict)   # or a ValueError:
    # "SGD.load_state_dict: param_groups[0]: missing parameter names: 0.bias; state of '0.weight':
    #  momentum_buffer has shape (3,); the parameter has shape (2, 3)"
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .transforms import chain

# Every hyperparameter name any optimizer has: a saved group holding one this optimizer lacks comes
# from another kind of optimizer (an error), while other extra keys ("initial_lr", set by the
# Trainer) are carried along.
_ALL_HYPERPARAMETERS: set[str] = set()


def _check_loadable(opt, state_dict) -> tuple[list, Mapping]:
    """``(saved param_groups, saved state)`` of ``state_dict`` if it fits ``opt``; else a ValueError
    (or TypeError) naming every problem (see ``Optimizer.load_state_dict``)."""
    me = f"{opt._name}.load_state_dict"
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"{me}: expected a dict; got {type(state_dict).__name__}")
    top = _diff(["state", "param_groups"], list(state_dict), "keys")
    if top:
        raise ValueError(f"{me}: {top}")
    saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
    if not isinstance(saved_groups, (list, tuple)) or not isinstance(saved_state, Mapping):
        raise TypeError(f"{me}: 'param_groups' must be a list and 'state' a dict")
    if len(saved_groups) != len(opt.param_groups):
        raise ValueError(f"{me}: the state has {len(saved_groups)} parameter groups; "
                         f"this optimizer has {len(opt.param_groups)}")
    problems: list[str] = []
    for i, (saved, group) in enumerate(zip(saved_groups, opt.param_groups)):
        where = f"param_groups[{i}]"
        if not isinstance(saved, Mapping):
            problems.append(f"{where} is not a dict")
            continue
        names = list(saved.get("params", []))
        if "params" not in saved:
            problems.append(f"{where} has no 'params'")
        elif len(set(names)) != len(names):
            problems.append(f"{where} names a parameter twice")
        diff = _diff(group["param_names"], names, "parameter names")
        if diff:
            problems.append(f"{where}: {diff}")
        hyper = [k for k in saved if k in _ALL_HYPERPARAMETERS]
        diff = _diff(list(opt._hyper), hyper, "hyperparameters")
        if diff:
            problems.append(f"{where}: {diff}")
            continue
        try:
            h = opt.check({k: saved[k] for k in opt._hyper})
            keys = tuple(k for t in chain(*opt.transforms(h)) for k in t.keys)
        except (ValueError, TypeError) as error:
            problems.append(f"{where}: {error}")
            continue
        for name, p in zip(group["param_names"], group["params"]):
            if name in saved_state:
                problems.extend(_check_state(name, saved_state[name], keys, p.data.shape))
    unknown = [n for n in saved_state if n not in opt.state]
    missing = [n for n in opt.state if n not in saved_state]
    if unknown:
        problems.append("unknown parameter names in 'state': " + ", ".join(map(str, unknown)))
    if missing:
        problems.append("parameters missing from 'state': " + ", ".join(missing))
    if problems:
        raise ValueError(f"{me}: " + "; ".join(problems))
    return saved_groups, saved_state


def _diff(expected: list, given: list, what: str) -> str:
    missing = [k for k in expected if k not in given]
    unexpected = [k for k in given if k not in expected]
    parts = []
    if missing:
        parts.append(f"missing {what}: " + ", ".join(map(str, missing)))
    if unexpected:
        parts.append(f"unexpected {what}: " + ", ".join(map(str, unexpected)))
    return "; ".join(parts)


def _check_state(name: str, saved, keys: tuple, shape: tuple) -> list[str]:
    """Problems with one parameter's saved state (keys, the step count, array shapes)."""
    if not isinstance(saved, Mapping):
        return [f"state of {name!r} is not a dict"]
    problems = []
    diff = _diff(["step", *keys], list(saved), "keys")
    if diff:
        problems.append(f"state of {name!r}: {diff}")
    if "step" in saved:
        step = saved["step"]
        value = np.asarray(step)
        if (value.size != 1 or value.dtype.kind not in "iuf" or not float(value) == int(value.item())
                or int(value.item()) < 0):
            problems.append(f"state of {name!r}: step must be a non-negative integer; got {step!r}")
    for k in keys:
        if k not in saved:
            continue
        value = np.asarray(saved[k])
        if value.dtype.kind not in "biuf":
            problems.append(f"state of {name!r}: {k} must be numbers; got dtype {value.dtype}")
        elif value.shape != tuple(shape):
            problems.append(f"state of {name!r}: {k} has shape {value.shape}; "
                            f"the parameter has shape {tuple(shape)}")
    return problems
