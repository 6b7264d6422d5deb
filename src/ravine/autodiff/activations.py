"""The activations: one registry, read by everything that names an activation.

Each entry ties a name ("tanh") to its elementwise box (``elementwise.Tanh``: fprop, the in-place
fprop of the fused ``Dense`` box, and the derivative read off the output, φ'(a) from h = φ(a)),
with what the rest of ravine needs to know about it: the name of its module class
(``rv.nn.Tanh``), a one-line statement of its maths, and the |a| beyond which a unit counts as
saturated (``rv.diagnose.LayerMonitor``; None where no such two-sided threshold makes sense).

The layers, the fused ``Dense`` box, ``MLP``, the compiled gradient, the command's
``--activation`` choices, the scikit-learn estimators, the symmetry tools and the saturation
monitor all read this table: adding an activation is writing its box in ``elementwise.py`` and one
entry here. The functions ``rv.<name>``, ``rv.nn.functional.<name>`` and the method
``Tensor.<name>()`` are made from it too (``FUNCTIONS``).

The identity is not an entry: it has no box (the ``rv.nn.Identity`` module passes its input on), and
the places that accept it ("identity" in ``MLP``) say so themselves.

Example::

    from ravine.autodiff.activations import ACTIVATIONS, get
    get("softplus").box                # elementwise.Softplus
    ACTIVATIONS["tanh"].saturation     # 2.0
    rv.nn.MLP(4, [8], 3, activation="softplus")   # fused Dense boxes, compiled step and all
"""

from __future__ import annotations

from dataclasses import dataclass

from . import elementwise as ew
from .tensor import Tensor, apply


@dataclass(frozen=True)
class ActivationSpec:
    """One activation: its name, its box, its module's class name, its maths, its saturation."""

    name: str
    box: type  # an ``elementwise.Activation`` subclass
    class_name: str
    doc: str
    saturation: float | None = None


def _entries(*entries: ActivationSpec) -> dict[str, ActivationSpec]:
    return {entry.name: entry for entry in entries}


ACTIVATIONS: dict[str, ActivationSpec] = _entries(
    ActivationSpec("tanh", ew.Tanh, "Tanh",
               "h = tanh a ∈ (−1, 1); tanh' = 1 − h², at most 1 (at a = 0).", saturation=2.0),
    ActivationSpec("sigmoid", ew.Sigmoid, "Sigmoid",
               "h = σ(a) = 1/(1 + e⁻ᵃ) ∈ (0, 1), computed without overflow; σ' = h(1 − h), at most "
               "1/4: gradients shrink layer by layer.", saturation=4.0),
    ActivationSpec("relu", ew.ReLU, "ReLU",
               "h = max(a, 0); derivative 1 for a > 0 and 0 otherwise (0 at the kink, as PyTorch)."),
    ActivationSpec("softplus", ew.Softplus, "Softplus",
               "h = log(1 + eᵃ) > 0, a smooth ReLU computed without overflow; h' = σ(a) = 1 − e⁻ʰ."),
    ActivationSpec("elu", ew.ELU, "ELU",
               "h = a for a > 0, eᵃ − 1 ∈ (−1, 0] otherwise (α = 1); h' = h + 1 for h < 0, 1 "
               "otherwise (1 at a = 0, and h'' = 0 there, as PyTorch)."),
)


def get(name: str) -> ActivationSpec:
    """The registry's entry for ``name``, or a ValueError listing the names it knows."""
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name ({', '.join(ACTIVATIONS)}); got {name!r}")
    entry = ACTIVATIONS.get(name)
    if entry is None:
        raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)}")
    return entry


def _function(entry: ActivationSpec):
    box = entry.box

    def function(a):
        if isinstance(a, Tensor):
            return apply(box(), a)
        return box().fprop(a)

    function.__name__ = function.__qualname__ = entry.name
    function.__doc__ = f"{entry.doc}\n\nElementwise, on a Tensor (recorded) or an array (array out)."
    return function


def _method(entry: ActivationSpec):
    box = entry.box

    def method(self):
        return apply(box(), self)

    method.__name__ = method.__qualname__ = entry.name
    method.__doc__ = entry.doc
    return method


#: ``rv.tanh``, ``rv.softplus`` ...: one function per entry, Tensor in, Tensor out; array in, array out.
FUNCTIONS = {name: _function(entry) for name, entry in ACTIVATIONS.items()}

#: ``x.tanh()``, ``x.softplus()`` ...: one Tensor method per entry (bound in ``methods.py``).
METHODS = {name: _method(entry) for name, entry in ACTIVATIONS.items()}

__all__ = ["ActivationSpec", "ACTIVATIONS", "FUNCTIONS", "METHODS", "get"]
