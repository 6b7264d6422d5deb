"""``Module``: a piece of a model that owns parameters, buffers and sub-modules, found by name.

Names are dotted paths (``"0.weight"``, ``"2.running_mean"``), so a state dict, an optimizer's state
or a per-layer diagnostic never depends on the order things were created in. Parameters are the
Tensors the optimizer trains; buffers are arrays a module keeps but does not train (batch-norm's
running statistics). ``train()`` / ``eval()`` set a mode on this module and its children only:
there is no global training flag.

Example::

    model = rv.nn.MLP(4, [8], 3, seed=0)
    dict(model.named_parameters()).keys()     # '0.weight', '0.bias', '2.weight', '2.bias'
    model.load_state_dict(model.state_dict())
"""

from __future__ import annotations

from collections import OrderedDict
from contextlib import contextmanager
from typing import Iterator

import numpy as np

from .._checks import check_finite, check_flag
from ..autodiff.params import named_params  # noqa: F401 - the nn layer's name for it
from ..autodiff.tensor import Tensor, constant


class Parameter(Tensor):
    """A Tensor the optimizer trains (``requires_grad=True``).

    ``regularize`` says whether weight penalties (L1, L2) apply to it: true for connection weights,
    false for biases and batch-norm's scale and shift.
    """

    __slots__ = ("regularize",)

    def __init__(self, data, regularize: bool = True, dtype=None):
        super().__init__(data, requires_grad=True, dtype=dtype)
        self.regularize = bool(regularize)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Tensor"):]


class ParameterList(list):
    """A list of parameters that also knows their dotted names (``.names``), for optimizers."""

    def __init__(self, named=()):
        named = list(named)
        super().__init__(p for _, p in named)
        self.names = [n for n, _ in named]


class Module:
    """Base class of layers and models: subclasses set attributes and implement ``forward``."""

    #: The fewest examples a mini-batch may have in training mode (batch norm needs two).
    min_batch_examples = 1

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() first")
        for registry in (self._parameters, self._modules):
            registry.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        elif name in self._buffers:
            self._buffers[name] = value
        object.__setattr__(self, name, value)

    def register_buffer(self, name: str, array: np.ndarray) -> None:
        """Keep ``array`` as state that is saved and loaded but not trained."""
        self._buffers[name] = array
        object.__setattr__(self, name, array)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not implement forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # --- walking the tree ---------------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        """This module and every descendant, with dotted names ("" for this one), depth first."""
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            yield name, module
            children = [(f"{name}.{k}" if name else k, m) for k, m in module._modules.items()]
            stack.extend(reversed(children))

    def children(self) -> Iterator["Module"]:
        return iter(self._modules.values())

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter) for every parameter, each once, in definition order."""
        seen: set[int] = set()
        for prefix, module in self.named_modules():
            for name, p in module._parameters.items():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{prefix}.{name}" if prefix else name), p

    def parameters(self) -> "ParameterList":
        """Every parameter once, as a list that also carries their dotted names (``.names``),
        so ``SGD(model.parameters(), ...)`` keys its state by name."""
        return ParameterList(self.named_parameters())

    def named_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        for prefix, module in self.named_modules():
            for name, b in module._buffers.items():
                yield (f"{prefix}.{name}" if prefix else name), b

    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    # --- modes and gradients ------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Training mode (batch statistics, dropout on) for this module and its descendants."""
        for _, module in self.named_modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        """Evaluation mode (running statistics, dropout off)."""
        return self.train(False)

    @contextmanager
    def mode(self, training: bool | None = None):
        """Run a block in training (``True``) or evaluation (``False``) mode, then put every
        module's own flag back, as it was, even when the modules differed or the block raised.

        ``training=None`` changes nothing on entry and only restores the flags on exit (for code
        that may switch modes itself). Yields this module.

        Example::

            with model.mode(training=False):
                out = model(x)              # batch norm uses running statistics, dropout is off
        """
        if training is not None:
            training = check_flag("training", training, owner=f"{type(self).__name__}.mode")
        flags = [(module, module.training) for _, module in self.named_modules()]
        try:
            if training is not None:
                self.train(training)
            yield self
        finally:
            for module, flag in flags:
                object.__setattr__(module, "training", flag)

    def zero_grad(self) -> None:
        """Forget accumulated gradients: ``p.grad = None`` for every parameter."""
        for p in self.parameters():
            p.grad = None

    # --- state ------------------------------------------------------------------------------
    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Copies of every parameter and buffer, keyed by dotted name."""
        state = OrderedDict((name, p.data.copy()) for name, p in self.named_parameters())
        state.update((name, np.array(b, copy=True)) for name, b in self.named_buffers())
        return state

    def load_state_dict(self, state, strict: bool = True) -> tuple[list[str], list[str]]:
        """Copy values from ``state`` (name → array) into this module's parameters and buffers.

        Values are written into the existing arrays, so an optimizer holding the parameters keeps
        working. With ``strict`` (the default), missing keys, unexpected keys and shape or dtype
        mismatches raise one ValueError listing them all; otherwise the keys that were missing and
        unexpected are returned and the matching ones loaded.
        """
        targets: dict[str, np.ndarray] = {n: p.data for n, p in self.named_parameters()}
        targets.update(self.named_buffers())
        missing = [k for k in targets if k not in state]
        unexpected = [k for k in state if k not in targets]
        problems = []
        for name, target in targets.items():
            if name not in state:
                continue
            value = np.asarray(state[name])
            if value.shape != np.shape(target):
                problems.append(f"{name}: shape {value.shape} in the state, {np.shape(target)} in the model")
            elif value.dtype.kind not in "biuf":
                problems.append(f"{name}: dtype {value.dtype} is not numeric")
        if strict and (missing or unexpected or problems):
            parts = []
            if missing:
                parts.append("missing keys: " + ", ".join(missing))
            if unexpected:
                parts.append("unexpected keys: " + ", ".join(unexpected))
            parts.extend(problems)
            raise ValueError("load_state_dict: " + "; ".join(parts))
        if problems:
            raise ValueError("load_state_dict: " + "; ".join(problems))
        for name, target in targets.items():
            if name in state:
                _copy_into(self, name, target, state[name])
        return missing, unexpected

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, child in self._modules.items():
            lines.append(f"  ({name}): " + repr(child).replace("\n", "\n  "))
        return lines[0] + ")" if len(lines) == 1 else "\n".join(lines) + "\n)"


def pack_parameters(module: Module) -> None:
    """Lay the parameters of ``module`` back to back in one array per dtype, in definition order.

    Each ``p.data`` becomes a view into that array (same values, shape and dtype), so that an
    optimizer updates all of a group's parameters with one NumPy call per operation, in place
    (see ``ravine/optim/flat.py``). It replaces the arrays: call it while building a model, before
    anyone holds a ``p.data``; afterwards nothing replaces them again.

    Example::

        pack_parameters(model)
        np.shares_memory(model[0].weight.data, model[0].bias.data)   # True: one array
    """
    params = [p for _, p in module.named_parameters()]
    for dtype in dict.fromkeys(p.data.dtype for p in params):
        same = [p for p in params if p.data.dtype == dtype]
        flat = np.empty(sum(p.data.size for p in same), dtype)
        start = 0
        for p in same:
            stop = start + p.data.size
            flat[start:stop] = p.data.reshape(-1)
            p.data = flat[start:stop].reshape(p.data.shape)
            start = stop


def _copy_into(root: Module, name: str, target, value) -> None:
    """Write ``value`` into the array behind ``name`` in place (buffers that are scalars: replace)."""
    value = np.asarray(value)
    if isinstance(target, np.ndarray) and target.ndim > 0:
        np.copyto(target, value.astype(target.dtype, copy=False))
        return
    *path, leaf = name.split(".")
    owner = root
    for part in path:
        owner = owner._modules[part]
    if leaf in owner._parameters:
        owner._parameters[leaf].data[...] = value
    else:
        owner.register_buffer(leaf, np.array(value, dtype=np.asarray(target).dtype))


def as_input(x, dtype: np.dtype, what: str = "input") -> Tensor:
    """A model's input as a Tensor of the model's dtype, checked finite; arrays are not copied.

    Float arrays of the other float dtype are refused (never cast silently); Python lists and
    integer arrays are converted to the model's dtype.
    """
    if type(x) is np.ndarray and x.dtype == dtype:  # the common case, first
        check_finite(x, what)
        return constant(x)
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    if data.dtype != dtype:
        if data.dtype.kind == "f" and isinstance(x, (Tensor, np.ndarray)):
            raise TypeError(
                f"{what} has dtype {data.dtype} but the model is {dtype}; convert the input with "
                f".astype(np.{dtype}) or build the model with dtype='{data.dtype}'"
            )
        if data.dtype.kind not in "biuf":
            raise TypeError(f"{what} must be numbers; got an array of dtype {data.dtype}")
        data = data.astype(dtype)
    check_finite(data, what)
    return x if isinstance(x, Tensor) and x.data is data else constant(data)
