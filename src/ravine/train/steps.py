"""The training step as one object: forward, gradient, clipping and update on one mini-batch.

A step minimizes the objective on a mini-batch B of m examples,
    J(θ) = (1/m) Σ_{t∈B} l(f(x⁽ᵗ⁾; θ), y⁽ᵗ⁾) + Σ_r λ_r Ω_r(θ),
by computing J, its gradient ∇J (backprop), optionally clipping it, and letting the optimizer
update θ. Three kinds compute the same function in different ways:

- ``GraphStep`` records the flow graph of J (``model(x)``, the loss, the penalties) and calls
  ``backward()``: it works for every model (batch norm, dropout, custom modules).
- ``CompiledStep`` calls the very same boxes' fprop and bprop in a fixed order without recording a
  graph (``rv.fast.CompiledGradient``): a plain MLP only, bit for bit the gradients of the graph.
- ``ClosureStep`` is for optimizers that evaluate the objective themselves (Newton's method forms
  the Hessian by double backprop): it hands them a closure and computes no gradient for them.

Each is called as ``step(xb, yb) -> (loss, objective, output)``: the mean data loss and the
objective J before the update (Python floats) and the model's output on the batch (an array).
A non-finite loss or objective leaves the parameters as they were (no update is made); the caller
decides what to do (the Trainer restores the epoch's starting weights and stops).

``choose_step(...)`` picks the kind once, from the model, the optimizer and the options.

Example::

    step = choose_step(model, rv.optim.SGD(model, lr=0.1), rv.nn.losses.get("cross_entropy"))
    step.kind                       # "compiled" for a plain MLP
    loss, objective, logits = step(xb, yb)
"""

from __future__ import annotations

import math

from .._checks import check_positive
from ..fast import CompiledGradient, why_not_compiled
from ..optim.clip import clip_grad_norm_, clip_grad_value_


def check_clipping(optimizer, clip_norm, clip_value) -> tuple[float | None, float | None]:
    """(clip_norm, clip_value), each None or a positive number; refused for closure optimizers.

    Clipping bounds the gradient before a first-order update. Newton's step is solved from the
    Hessian and the gradient it computes itself, so a clipping option would silently do nothing.
    """
    clip_norm = None if clip_norm is None else check_positive("clip_norm", clip_norm)
    clip_value = None if clip_value is None else check_positive("clip_value", clip_value)
    if optimizer.needs_closure and (clip_norm is not None or clip_value is not None):
        which = "clip_norm" if clip_norm is not None else "clip_value"
        raise ValueError(f"{which} cannot apply to {type(optimizer).__name__}: its step is solved from "
                         f"the Hessian and a gradient it computes itself, so clipping would do nothing; "
                         f"bound the step with its damping instead, or use a first-order optimizer")
    return clip_norm, clip_value


def objective(model, loss, regularizers, out, yb):
    """(data loss l(out, yb), J = loss + Σ_r λ_r Ω_r(model)) as Tensors of the flow graph."""
    value = loss(out, yb)
    total = value
    for reg in regularizers:
        total = total + reg(model)
    return value, total


class _Step:
    """What the three kinds share: the parts of the objective and the clipping."""

    kind = ""

    def __init__(self, model, optimizer, loss, regularizers=(), clip_norm=None, clip_value=None):
        self.model, self.optimizer, self.loss = model, optimizer, loss
        self.regularizers = list(regularizers)
        self.clip_norm, self.clip_value = check_clipping(optimizer, clip_norm, clip_value)
        self.params = model.parameters()

    def objective(self, out, yb):
        """(data loss, J = loss + penalties) as Tensors of the flow graph."""
        return objective(self.model, self.loss, self.regularizers, out, yb)

    def _clip(self) -> None:
        if self.clip_norm is not None:
            clip_grad_norm_(self.params, self.clip_norm)
        if self.clip_value is not None:
            clip_grad_value_(self.params, self.clip_value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kind={self.kind!r})"


class GraphStep(_Step):
    """Records J on the flow graph, backpropagates, clips, updates."""

    kind = "graph"

    def __call__(self, xb, yb):
        out = self.model(xb)
        loss, objective = self.objective(out, yb)
        value, total = loss.item(), objective.item()
        if math.isfinite(value) and math.isfinite(total):
            self.optimizer.zero_grad()
            objective.backward()
            self._clip()
            self.optimizer.step()
        return value, total, out.data


class CompiledStep(_Step):
    """The graph's boxes in a fixed order (``rv.fast.CompiledGradient``), then clip and update."""

    kind = "compiled"

    def __init__(self, model, optimizer, loss, regularizers=(), clip_norm=None, clip_value=None):
        super().__init__(model, optimizer, loss, regularizers, clip_norm, clip_value)
        self.gradient = CompiledGradient(model, loss, self.regularizers)

    def __call__(self, xb, yb):
        value, total, out = self.gradient(xb, yb)  # sets every .grad, as zero_grad + backward would
        if math.isfinite(value) and math.isfinite(total):
            self._clip()
            self.optimizer.step()
        return value, total, out


class _NotFinite(Exception):
    """Raised from a closure whose objective is not finite, so that no step is taken."""


class ClosureStep(_Step):
    """``optimizer.step(closure)``: the optimizer evaluates J (and its derivatives) itself.

    The loss, the objective and the output reported are those of the closure's first call, at the
    parameters before the step; no backward pass is run for the optimizer, which computes what it
    needs from the closure (Newton: g and H by double backprop).
    """

    kind = "closure"

    def __call__(self, xb, yb):
        first: list = []

        def closure():
            out = self.model(xb)
            loss, objective = self.objective(out, yb)
            if not first:
                first.append((loss.item(), objective.item(), out.data))
                if not (math.isfinite(first[0][0]) and math.isfinite(first[0][1])):
                    raise _NotFinite
            return objective

        try:
            self.optimizer.step(closure)
        except _NotFinite:
            pass
        return first[0]


STEP_KINDS = {cls.kind: cls for cls in (GraphStep, CompiledStep, ClosureStep)}


def step_class(model, optimizer, loss, regularizers=(), compiled="auto") -> type:
    """The step kind that applies: closure for Newton-like optimizers, compiled for a plain MLP
    (unless ``compiled=False``), else the graph."""
    if optimizer.needs_closure:
        return ClosureStep
    if compiled == "auto" and why_not_compiled(model, loss, regularizers) is None:
        return CompiledStep
    return GraphStep


def choose_step(model, optimizer, loss, regularizers=(), clip_norm=None, clip_value=None,
                compiled="auto"):
    """A step object of the kind that applies (see ``step_class``)."""
    cls = step_class(model, optimizer, loss, regularizers, compiled)
    return cls(model, optimizer, loss, regularizers, clip_norm, clip_value)


__all__ = ["objective", "GraphStep", "CompiledStep", "ClosureStep", "STEP_KINDS", "choose_step", "step_class",
           "check_clipping"]
