"""``Optimizer``: parameter groups, per-parameter state keyed by name, and the update loop.

An optimizer holds parameter groups, each a dict of hyperparameters (``lr``, ``momentum``, ...) and
the group's parameters, and for every parameter a state dict (its update count ``step`` and the
buffers of its update rule, under torch.optim's names). A subclass says which hyperparameters it
has, how to check them, and which chain of transforms (``transforms.py``) they define; ``step()``
then runs, for each parameter θ with a gradient g:

    u ← g;  u ← tᵢ.update(u) for each transform tᵢ of the group's chain;  θ ← θ − α·u

with α the group's ``lr`` read at that step. So ``group["lr"] = ...`` (or any other hyperparameter)
between steps takes effect at the next step; a changed hyperparameter is checked then.

**Names.** State is keyed by the parameters' dotted names (``"0.weight"``), never by position:
given a Module, ``model.named_parameters()`` or (name, Tensor) pairs, those names are used. Given
plain Tensors (``model.parameters()`` today), the names are ``"<group>.<index>"`` (``"0.3"``), which
are positional: a state saved that way loads only into an optimizer built from the same list in the
same order. A list that carries a ``names`` attribute (one name per Tensor) supplies its names.

**Arrays.** Building an optimizer never replaces a parameter's array: ``p.data`` (and any
reference to it) is updated in place by every step. See ``flat.py`` for how the update of many
small parameters still costs one NumPy call per operation.

**Denormals.** Buffers that decay geometrically (momentum, moving averages) fill up, wherever the
gradient is exactly zero (dead ReLU units), with subnormal numbers (below 1.2e-38 in float32), and
x86 arithmetic on those is many times slower. Measured on a 40-100-100-10 ReLU net in float32:
``step()`` with every SGD momentum entry subnormal took 10–14× as long (Adam's: 7×), and
per-example SGD with momentum 0.9 took 1.5–2× as long per training step after one or two epochs
(half the entries subnormal). So every ``flush_every`` updates of a parameter (64 by default;
``None``: never) the subnormal entries of its state are set to zero, at a cost of 15–25 µs per
15,000 entries (under 0.4 µs a step), which keeps that training at its normal speed. Only numbers
below the smallest normal one change, far below the rounding of any step they take part in.

Beside this file: the reading of ``params`` into groups of named parameters (``naming.py``, with
``ravine.autodiff.params.named_params``), the flat blocks of the update (``flat.py``) and the checks
of a saved state before it loads (``state_io.py``); hyperparameters are checked with
``ravine._checks``.

Example::

    opt = rv.optim.SGD(model.named_parameters(), lr=0.1, momentum=0.9)
    opt.zero_grad(); loss.backward(); opt.step()
    opt.param_groups[0]["lr"] = 0.01        # the next step uses it
    saved = opt.state_dict()                # {"state": {"0.weight": {...}}, "param_groups": [...]}
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import itemgetter

import numpy as np

from ..autodiff.mode import enable_grad
from ..autodiff.tensor import Tensor
from .._checks import check_number
from .flat import FlatBlock, worth_a_block
from .naming import _groups_of, _named
from .state_io import _ALL_HYPERPARAMETERS, _check_loadable
from .transforms import ScalarTransform, chain, scale_by_adagrad, scale_by_adam, scale_by_rms, trace

__all__ = ["Optimizer"]

_multiply = np.multiply
_NEVER = 1 << 62  # flush_every=None: a step count never reached
_TINY = {np.dtype(np.float32): np.finfo(np.float32).tiny, np.dtype(np.float64): np.finfo(np.float64).tiny}


# Transforms that never read the parameters' values: a block of only these needs no copy of θ.
_PARAM_FREE = (trace, scale_by_adagrad, scale_by_rms, scale_by_adam)


def _nothing(group) -> tuple:
    return ()


class _Slot:
    """One parameter as the update loop sees it."""

    __slots__ = ("param", "name", "state", "work")

    def __init__(self, param: Tensor, name: str, state: dict):
        self.param, self.name, self.state, self.work = param, name, state, None


class _Plan:
    """A group's compiled update: hyperparameters it was built from, and runs of (chain, slots)."""

    __slots__ = ("key", "runs", "slots", "size", "keys", "lr", "rates", "blocks")

    def __init__(self, slots: list[_Slot]):
        self.key, self.runs, self.slots, self.size, self.keys = None, (), slots, len(slots), ()
        self.lr, self.rates, self.blocks = None, (), ()


# --- the optimizer ---------------------------------------------------------------------------------

class Optimizer:
    """Base class: ``Optimizer(params, defaults)``.

    ``params``: a Module, an iterable of Tensors, of (name, Tensor) pairs, or of group dicts
    ``{"params": ..., "lr": ..., ...}`` whose missing hyperparameters come from ``defaults``.

    A subclass passes its hyperparameters' default values as ``defaults`` (``lr`` among them),
    names them in the class attribute ``hyperparameters`` (so that loading another optimizer's
    state is recognized as a mistake), and implements ``check(h) -> h`` (validate and normalize a
    dict of hyperparameters, raising ValueError or TypeError naming the one at fault) and
    ``transforms(h) -> chain`` (the update rule they define). An optimizer that is no chain of
    transforms (Newton's method) overrides ``step`` and keeps its state in ``self.state[name]``.

    Attributes: ``param_groups`` (list of dicts: the hyperparameters, ``params`` — the Tensors — and
    ``param_names``), ``state`` (name → state dict, live: change arrays in place or use
    ``load_state_dict``), ``defaults``, ``flush_every``.

    Example (heavy-ball momentum with a decoupled decay, from transforms)::

        class Heavy(Optimizer):
            hyperparameters = ("lr", "momentum")

            def __init__(self, params, lr=0.1, momentum=0.9):
                super().__init__(params, dict(lr=lr, momentum=momentum))

            def check(self, h):
                h["lr"] = check_number("lr", h["lr"], low=0, owner="Heavy")
                h["momentum"] = check_number("momentum", h["momentum"], low=0, high=1,
                                             high_open=True, owner="Heavy")
                return h

            def transforms(self, h):
                return chain(trace(h["momentum"]), add_decayed_weights(1e-4))
    """

    hyperparameters: tuple[str, ...] = ("lr",)
    flush_every: int | None = 64
    #: True for optimizers whose ``step(closure)`` re-evaluates the objective itself (Newton):
    #: the Trainer then hands them a closure instead of computing the gradient for them.
    needs_closure: bool = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _ALL_HYPERPARAMETERS.update(cls.hyperparameters)

    def __init__(self, params, defaults: dict):
        self._name = type(self).__name__
        if not isinstance(defaults, Mapping) or "lr" not in defaults:
            raise TypeError(f"{self._name}: defaults must be a dict of hyperparameters including 'lr'")
        self.defaults = self.check(dict(defaults))
        self._hyper = tuple(self.defaults)
        others = [k for k in self._hyper if k != "lr"]
        # reads the group's hyperparameters other than lr, to see at each step whether they changed
        self._read_hyper = itemgetter(*others) if others else _nothing
        _ALL_HYPERPARAMETERS.update(self._hyper)
        self.param_groups: list[dict] = []
        self.state: dict[str, dict] = {}
        self._plans: list[_Plan] = []
        self._work: dict[np.dtype, tuple[np.ndarray, np.ndarray]] = {}
        self._params: tuple[Tensor, ...] = ()
        for group in _groups_of(params, self._name):
            self.add_param_group(group)

    # --- subclass interface ------------------------------------------------------------------
    def check(self, h: dict) -> dict:
        """Validate and normalize hyperparameters (ValueError/TypeError naming the one at fault)."""
        if "lr" in h:
            h["lr"] = check_number("lr", h["lr"], low=0, owner=self._name)
        return h

    def transforms(self, h: dict):
        """The chain of transforms the hyperparameters ``h`` define (see ``transforms.py``).

        None here: the base optimizer is plain gradient descent, θ ← θ − α∇.
        """
        return ()

    # --- groups --------------------------------------------------------------------------------
    def add_param_group(self, group: Mapping) -> None:
        """Add a group ``{"params": ..., hyperparameter: value, ...}``; defaults fill the rest."""
        index = len(self.param_groups)
        if not isinstance(group, Mapping):
            raise TypeError(f"{self._name}: a parameter group must be a dict; got {type(group).__name__}")
        if "params" not in group:
            raise ValueError(f"{self._name}: parameter group {index} has no 'params'")
        unknown = [k for k in group if k not in ("params", "param_names") and k not in self.defaults]
        if unknown:
            raise ValueError(f"{self._name}: unknown hyperparameter{'s' if len(unknown) > 1 else ''} "
                             f"{', '.join(map(repr, unknown))} in parameter group {index}; expected "
                             f"{', '.join(self.defaults)}")
        params = group["params"]
        if "param_names" in group:
            params = list(zip(group["param_names"], [params] if isinstance(params, Tensor) else params))
        pairs = _named(params, index, self._name)
        if not pairs:
            raise ValueError(f"{self._name}: parameter group {index} is empty")
        h = self.check({k: group.get(k, v) for k, v in self.defaults.items()})
        names: dict[str, str] = {}
        ids = {id(p): n for g in self.param_groups for n, p in zip(g["param_names"], g["params"])}
        for name, p in pairs:  # (names are strings and p Tensors: _named checked)
            if not p.is_leaf:
                raise ValueError(f"{self._name}: can't optimize {name!r}: it is not a leaf Tensor "
                                 f"(it was computed from others)")
            other = ids.get(id(p))
            if other is not None:
                raise ValueError(f"{self._name}: parameter {name!r} is the same Tensor as "
                                 f"{other!r}; each parameter may appear only once")
            if name in self.state or name in names:
                raise ValueError(f"{self._name}: two parameters are named {name!r}")
            names[name] = name
            ids[id(p)] = name
        new = dict(h)
        new["params"] = [p for _, p in pairs]
        new["param_names"] = [n for n, _ in pairs]
        slots = []
        for name, p in pairs:
            self.state[name] = {"step": 0}
            slots.append(_Slot(p, name, self.state[name]))
        self.param_groups.append(new)
        self._plans.append(_Plan(slots))
        self._params += tuple(new["params"])
        self._refresh_work()
        self._build(new, self._plans[-1])

    def _refresh_work(self) -> None:
        """Two work arrays per dtype, as large as the largest parameter; every slot gets views."""
        sizes: dict[np.dtype, int] = {}
        for plan in self._plans:
            for slot in plan.slots:
                data = slot.param.data
                sizes[data.dtype] = max(sizes.get(data.dtype, 0), data.size)
        for dtype, size in sizes.items():
            if dtype not in self._work or self._work[dtype][0].size < size:
                self._work[dtype] = (np.empty(size, dtype), np.empty(size, dtype))
                for plan in self._plans:
                    plan.key = None  # rebuild the runs with the new views at the next step
        for plan in self._plans:
            for slot in plan.slots:
                data = slot.param.data
                flat0, flat1 = self._work[data.dtype]
                slot.work = (flat0[:data.size].reshape(data.shape), flat1[:data.size].reshape(data.shape))

    def _build(self, group: dict, plan: _Plan) -> None:
        """Check the group's hyperparameters, build its chain, fit every state dict to it."""
        missing = [k for k in self._hyper if k not in group]
        if missing:
            raise KeyError(f"{self._name}: param_groups[{self._plans.index(plan)}] has no "
                           f"{', '.join(map(repr, missing))} any more")
        h = self.check({k: group[k] for k in self._hyper})
        group.update(h)  # normalized (betas as a tuple of floats, ...)
        transforms = chain(*self.transforms(h))
        cut = len(transforms)
        while cut and isinstance(transforms[cut - 1], ScalarTransform):
            cut -= 1
        arrays, scalars = transforms[:cut], transforms[cut:]
        keys = tuple(k for t in transforms for k in t.keys)
        by_dtype: dict[np.dtype, list[_Slot]] = {}
        for slot in plan.slots:
            by_dtype.setdefault(slot.param.data.dtype, []).append(slot)
            state = slot.state
            for stale in [k for k in state if k != "step" and k not in keys]:
                del state[stale]
            for t in transforms:
                if any(k not in state for k in t.keys):
                    fresh = t.init(slot.param.data)
                    for k in t.keys:
                        state.setdefault(k, fresh[k])
        plan.runs = tuple((tuple(t.cast(dtype).update for t in arrays), scalars, dtype.type,
                           tuple((s.param, s.state, *s.work) for s in slots))
                          for dtype, slots in by_dtype.items())
        # Several small parameters of a dtype: re-home their state into one block, so that one
        # call per operation updates them all (see flat.py); the parameters' arrays stay theirs.
        reads_params = not all(type(t) in _PARAM_FREE for t in arrays)
        plan.blocks = tuple(
            FlatBlock([s.param for s in slots], [s.state for s in slots], keys, dtype, reads_params)
            if worth_a_block([s.param.data.size for s in slots]) else None
            for dtype, slots in by_dtype.items())
        plan.keys = keys
        plan.key = self._read_hyper(group)
        plan.lr = None

    # --- the update ----------------------------------------------------------------------------
    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss if given.

        ``closure`` (optional) re-evaluates the model and returns the loss; it runs first, with
        gradient recording on. A parameter whose ``.grad`` is None is skipped: its state is untouched.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        every = self.flush_every or _NEVER
        read = self._read_hyper
        for group, plan in zip(self.param_groups, self._plans):
            try:
                changed = read(group) != plan.key
            except KeyError:
                changed = True
            if changed:
                self._build(group, plan)
            if len(group["params"]) != plan.size:
                raise ValueError(f"{self._name}: param_groups[{self.param_groups.index(group)}]['params'] "
                                 f"was changed; add parameters with add_param_group()")
            lr = group["lr"]
            if lr != plan.lr:
                check_number("lr", lr, low=0, owner=self._name)
                plan.lr, plan.rates = lr, tuple(run[2](lr) for run in plan.runs)
            for (updates, scalars, ftype, slots), rate, block in zip(plan.runs, plan.rates, plan.blocks):
                t = block.step_if_ready() if block is not None else 0
                if t:  # the whole block at once
                    theta, (w0, w1) = block.gather_params(), block.work
                    u, out = block.gather_gradients(), w0
                    for update in updates:
                        u = update(u, block.state, theta, t, out)
                        out = w1 if out is w0 else w0
                    factor = rate
                    if scalars:
                        factor = lr
                        for s in scalars:
                            factor *= s.factor(t)
                        factor = ftype(factor)
                    _multiply(u, factor, out)
                    block.apply(out)
                    if not t % every:
                        _flush(block.state, w0)
                    continue
                if not updates and not scalars:  # plain gradient descent
                    for param, state, w0, w1 in slots:
                        grad = param.grad
                        if grad is None:
                            continue
                        state["step"] += 1
                        _multiply(grad.data, rate, w0)
                        param.data -= w0
                    continue
                if len(updates) == 1 and not scalars:  # the common case, with less Python per parameter
                    update = updates[0]
                    for param, state, w0, w1 in slots:
                        grad = param.grad
                        if grad is None:
                            continue
                        t = state["step"] + 1
                        state["step"] = t
                        theta = param.data
                        _multiply(update(grad.data, state, theta, t, w0), rate, w1)
                        theta -= w1
                        if not t % every:
                            _flush(state, w0)
                    continue
                for param, state, w0, w1 in slots:
                    grad = param.grad
                    if grad is None:
                        continue
                    t = state["step"] + 1
                    state["step"] = t
                    theta = param.data
                    u = grad.data
                    out = w0
                    for update in updates:
                        u = update(u, state, theta, t, out)
                        out = w1 if out is w0 else w0
                    if scalars:
                        factor = lr
                        for s in scalars:
                            factor *= s.factor(t)
                        _multiply(u, ftype(factor), out)
                    else:
                        _multiply(u, rate, out)
                    theta -= out
                    if not t % every:
                        _flush(state, w0)
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``p.grad = None`` (or fill them with zeros, ``set_to_none=False``)."""
        if set_to_none:
            for p in self._params:
                p.grad = None
            return
        for p in self._params:
            if p.grad is not None:
                p.grad.data.fill(0)

    @property
    def lr(self) -> float:
        """The first group's learning rate; setting it sets every group's."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        value = check_number("lr", value, low=0, owner=self._name)
        for group in self.param_groups:
            group["lr"] = value

    # --- state -----------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{"state": {name: {key: array or number}}, "param_groups": [{..., "params": [names]}]}``.

        Copies: training on does not change a saved state dict.
        """
        state = {name: {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in st.items()}
                 for name, st in self.state.items()}
        groups = []
        for group in self.param_groups:
            saved = {k: (list(v) if isinstance(v, list) else v) for k, v in group.items()
                     if k not in ("params", "param_names")}
            saved["params"] = list(group["param_names"])
            groups.append(saved)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping) -> None:
        """Load a state saved by ``state_dict()``: hyperparameters, step counts and buffers.

        Everything is checked before anything changes: the same groups with the same parameter
        names, every hyperparameter of this optimizer and no other's, for every parameter the state
        keys its update rule needs with arrays of its shape. A ValueError lists every problem.
        Buffers are copied in (the given dict is not kept). Groups' extra keys (``initial_lr``) are
        restored too.
        """
        saved_groups, saved_state = _check_loadable(self, state_dict)
        for saved, group, plan in zip(saved_groups, self.param_groups, self._plans):
            for k, v in saved.items():
                if k not in ("params", "param_names"):
                    group[k] = list(v) if isinstance(v, list) else v
            self._build(group, plan)
            for slot in plan.slots:
                for k, v in saved_state[slot.name].items():
                    if k == "step":
                        slot.state["step"] = int(v)
                    else:
                        np.copyto(slot.state[k], np.asarray(v), casting="unsafe")

    def __repr__(self) -> str:
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k, v in group.items():
                if k not in ("params", "param_names"):
                    lines.append(f"    {k}: {v}")
            lines.append(f"    params: {', '.join(group['param_names'])}")
        return "\n".join(lines) + "\n)"


def _flush(state: dict, scratch: np.ndarray) -> None:
    """Set the subnormal entries of a parameter's state arrays to zero (see the module docstring)."""
    for value in state.values():
        if type(value) is np.ndarray and value.shape == scratch.shape and value.dtype == scratch.dtype:
            np.abs(value, out=scratch)
            np.copyto(value, 0, where=scratch < _TINY[value.dtype])
