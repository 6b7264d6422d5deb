"""Layers: ``Linear`` (an affine map) and the activation functions, as modules (one class per entry
of the activation registry, ``ravine.autodiff.activations``, made from it).

Example::

    layer = rv.nn.Linear(64, 100, seed=0)     # a = x Wᵀ + b, W of shape (100, 64), b = 0
    h = rv.nn.Tanh()(layer(x))
"""

from __future__ import annotations

import numpy as np

from .._checks import check_int
from ..autodiff.activations import ACTIVATIONS as REGISTRY, get as get_activation
from ..autodiff.linalg import Linear as LinearOp
from ..autodiff.tensor import Tensor, apply, as_tensor, resolve_dtype
from . import init as initializers
from .module import Module, Parameter, as_input


class Linear(Module):
    """a = x Wᵀ + b, for a batch x of shape (m, in_features); W has shape (out, in), b starts at 0.

    ``init`` names the weight initializer (``nn.init``); ``seed`` is an int or a Generator.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 init="glorot_uniform", seed=None, dtype="float32"):
        super().__init__()
        self.in_features = check_int("in_features", in_features, minimum=1, owner="Linear")
        self.out_features = check_int("out_features", out_features, minimum=1, owner="Linear")
        dtype = resolve_dtype(dtype)
        shape = (self.out_features, self.in_features)
        weight = initializers.get(init)(shape, rng=initializers.as_generator(seed), dtype=dtype)
        self.weight = Parameter(weight, regularize=True, dtype=dtype)
        self.bias = Parameter(np.zeros(self.out_features, dtype=dtype), regularize=False) if bias else None

    def forward(self, x) -> Tensor:
        if not isinstance(x, Tensor):
            x = as_input(x, self.weight.data.dtype)
        data = x.data
        if data.ndim != 2 or data.shape[1] != self.in_features:
            raise ValueError(
                f"{self!r} expects input of shape (batch, {self.in_features}); got shape {x.shape}"
            )
        if data.dtype != self.weight.data.dtype:
            raise TypeError(f"{self!r} is {self.weight.dtype} but its input is {x.dtype}")
        if self.bias is None:
            return apply(LinearOp(), x, self.weight)
        return apply(LinearOp(), x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """h = a (a linear output or a linear 'activation')."""

    def forward(self, x: Tensor) -> Tensor:
        return x


class Activation(Module):
    """h = φ(a) elementwise, for φ an activation of the registry (``ravine.autodiff.activations``).

    ``Activation("softplus")`` makes the registry's module for that name: an instance of its class
    (``rv.nn.Softplus``), the same as ``rv.nn.Softplus()``. There is one such class per entry,
    made from the registry below (``rv.nn.Tanh``, ``rv.nn.Sigmoid``, ``rv.nn.ReLU`` ...), so adding
    an activation to the registry adds its module too. Arrays are wrapped into Tensors first.
    """

    name: str | None = None  # the registry name, set by each activation's class
    box = None               # its elementwise box

    def __new__(cls, name: str | None = None):
        if cls is Activation:
            if name is None:
                raise TypeError("Activation needs the name of an activation, e.g. "
                                "Activation('tanh')")
            cls = ACTIVATION_MODULES[get_activation(name).name]
        return super().__new__(cls)

    def __init__(self, name: str | None = None):
        if name is not None and name != self.name:
            raise ValueError(f"{type(self).__name__} is the {self.name!r} activation; got name={name!r}")
        super().__init__()

    def forward(self, x) -> Tensor:
        if not isinstance(x, Tensor):
            x = as_tensor(x)
        return apply(self.box(), x)


def _module_class(spec) -> type:
    return type(spec.class_name, (Activation,),
                {"name": spec.name, "box": spec.box, "__doc__": spec.doc, "__module__": __name__,
                 "__qualname__": spec.class_name})


#: The module class of each activation in the registry, by name: ``{"tanh": Tanh, ...}``.
ACTIVATION_MODULES: dict[str, type] = {name: _module_class(spec) for name, spec in REGISTRY.items()}
globals().update({cls.__name__: cls for cls in ACTIVATION_MODULES.values()})  # Tanh, ReLU, ...

#: Every name ``activation`` (hence ``MLP``) accepts: the registry's, and "identity".
ACTIVATION_NAMES: tuple[str, ...] = (*ACTIVATION_MODULES, "identity")


def activation(name: str) -> Module:
    """A fresh activation module from its name: the registry's, or ``Identity`` for "identity"."""
    if name == "identity":
        return Identity()
    if not isinstance(name, str) or name not in ACTIVATION_MODULES:
        raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(ACTIVATION_NAMES)}")
    return ACTIVATION_MODULES[name]()


def activation_name(module) -> str | None:
    """The registry name of an activation module (one of ``ACTIVATION_MODULES``' classes exactly,
    so a subclass that changes ``forward`` is never taken for the activation itself), else None."""
    name = getattr(type(module), "name", None)
    return name if isinstance(module, Activation) and ACTIVATION_MODULES.get(name) is type(module) else None
