"""``CompiledGradient``: the objective and gradient of a standard MLP, graph bookkeeping taken out.

For a network whose shape is known in advance — Linear layers, each followed by an activation of
the registry (``autodiff.activations``) or nothing, then a loss of ``rv.nn.losses`` (cross-entropy
or squared error), plus L1/L2 penalties — the flow graph is the same at every step. So instead of
recording it (Tensors, boxes, a heap to find the backward order), this calls the very same boxes' ``fprop`` in forward order and their ``bprop`` in the reverse
order, on raw arrays. It is the same function, computed by the same code in the same order: the
gradients are bit for bit those of ``loss.backward()`` (the tests check this), at a fraction of
the Python overhead — which is most of the cost on small networks.

It writes each parameter's ``.grad`` (as ``backward()`` does, after ``zero_grad``) and returns the
step's figures; the optimizer then updates as usual (``rv.train.CompiledStep`` does both). Inputs
are not checked here: the Trainer checks the whole data set once, before training.

Example::

    gradient = rv.fast.CompiledGradient(model, loss="cross_entropy", regularizers=[rv.nn.L2(1e-4)])
    for xb, yb in batches:
        loss, objective, logits = gradient(xb, yb)
        opt.step()
"""

from __future__ import annotations

import numpy as np

from ..autodiff.linalg import Dense, Linear as LinearBox
from ..autodiff.stand_in import CONSTANT, VARIABLE
from ..autodiff.tensor import constant
from ..nn.layers import Identity, Linear, activation_name
from ..nn.losses import Loss, get as get_loss
from ..nn.mlp import MLP
from ..nn.regularizers import L1, L2

def _layers(model) -> list[tuple[Linear, str | None]] | None:
    """(Linear, activation name or None) per layer, or None if the model is not a plain MLP."""
    if not isinstance(model, MLP):
        return None
    layers: list = []
    for module in model:
        name = activation_name(module)  # any activation of the registry: Dense runs it
        if isinstance(module, Linear):
            layers.append([module, None])
        elif name is not None and layers and layers[-1][1] is None:
            layers[-1][1] = name
        elif not isinstance(module, Identity):
            return None  # batch norm, dropout, or anything else: the graph handles it
    return [tuple(layer) for layer in layers]


def why_not_compiled(model, loss, regularizers) -> str | None:
    """None if ``CompiledGradient`` applies to this model, loss (a name or ``rv.nn.losses.Loss``)
    and penalties, else the reason it does not."""
    if _layers(model) is None:
        return "the model is not a plain MLP (Linear layers and their activations only)"
    loss = get_loss(loss)
    if type(loss).value_and_gradient is Loss.value_and_gradient:
        return f"the loss {loss!r} has no value_and_gradient on arrays"
    for reg in regularizers:
        if type(reg) not in (L1, L2):
            return f"the penalty {reg!r} is not L1 or L2"
    return None


class CompiledGradient:
    """Forward, loss and backward of a plain MLP by its boxes' own fprop/bprop, without a graph."""

    def __init__(self, model, loss="cross_entropy", regularizers=()):
        reason = why_not_compiled(model, loss, regularizers)
        if reason is not None:
            raise ValueError(f"CompiledGradient does not apply: {reason}")
        self.model, self.loss = model, get_loss(loss)
        # One box per layer, made once: Linear and Dense boxes keep nothing between calls.
        self.plan = []
        for k, (layer, activation) in enumerate(_layers(model)):
            box = LinearBox() if activation is None else Dense(activation)
            w, b = layer.weight, layer.bias
            below = CONSTANT if k == 0 else VARIABLE  # the data needs no gradient; hidden layers do
            box.inputs = (below, w) if b is None else (below, w, b)
            self.plan.append((box, w, b, box.inputs[1:]))
        self.penalties = [(reg, [p for p in model.parameters() if p.regularize])
                          for reg in regularizers if reg.strength > 0]

    def __call__(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float, np.ndarray]:
        """Set every parameter's ``.grad``; return (data loss, objective, model output)."""
        saved = []
        h = x
        for box, w, b, _ in self.plan:
            args = (h, w.data) if b is None else (h, w.data, b.data)
            h = box.fprop(*args)
            saved.append(args)
        loss, g = self.loss.value_and_gradient(h, y)
        objective = loss
        penalty_grads: dict = {}
        for reg, weights in self.penalties:
            objective += self._penalty(reg, weights, penalty_grads)
        out = h
        for (box, _, _, params), args in zip(reversed(self.plan), reversed(saved)):
            parts = box.bprop(g, *args, out)
            g, out = parts[0], args[0]
            for param, part in zip(params, parts[1:]):
                extra = penalty_grads.get(param)  # the graph adds the penalty's part first
                param.grad = constant(part if extra is None else extra + part)
        return loss, objective, h

    @staticmethod
    def _penalty(reg, weights, grads: dict) -> float:
        """λΩ and its gradient (added into ``grads``): L2: λ Σ‖W‖², 2λW;  L1: λ Σ|W|, λ sign(W)."""
        lam = reg.strength
        total = 0.0
        for w in weights:
            data = w.data
            if isinstance(reg, L2):
                total += float(np.add.reduce(data * data, axis=None))
                part = lam * data
                part = part + part
            else:
                total += float(np.add.reduce(np.abs(data), axis=None))
                part = lam * np.sign(data)
            grads[w] = part if w not in grads else grads[w] + part
        return lam * total


__all__ = ["CompiledGradient", "why_not_compiled"]
