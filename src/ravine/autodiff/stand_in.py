"""Stand-ins for a box's inputs, to call a box's ``bprop`` on raw arrays without a graph.

A box's ``bprop`` asks ``self.inputs[i].requires_grad`` to skip gradients nobody needs. Code that
calls boxes directly (the compiled gradient, the losses' array path) sets ``box.inputs`` to these
stand-ins instead of Tensors: ``CONSTANT`` for data and targets, ``VARIABLE`` for everything that
needs a gradient.
"""

from __future__ import annotations


class InputStandIn:
    """Stands for a box input in ``bprop``'s ``self.inputs[i].requires_grad`` checks."""

    __slots__ = ("requires_grad",)

    def __init__(self, requires_grad: bool):
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        return "VARIABLE" if self.requires_grad else "CONSTANT"


CONSTANT, VARIABLE = InputStandIn(False), InputStandIn(True)
