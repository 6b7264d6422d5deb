"""``CompiledStep``: one training step of a standard MLP with the graph bookkeeping taken out.

For a network whose shape is known in advance — Linear layers, each followed by tanh, sigmoid, ReLU
or nothing, then cross-entropy or squared error, plus L1/L2 penalties — the flow graph is the same
at every step. So instead of recording it (Tensors, boxes, a heap to find the backward order),
this step calls the very same boxes' ``fprop`` in forward order and their ``bprop`` in the reverse
order, on raw arrays. It is the same function, computed by the same code in the same order: the
gradients are bit for bit those of ``loss.backward()`` (the tests check this), at a fraction of
the Python overhead — which is most of the cost on small networks.

It writes each parameter's ``.grad`` (as ``backward()`` does, after ``zero_grad``) and returns the
step's figures; the optimizer then updates as usual. Inputs are not checked here: the Trainer
checks the whole data set once, before training.

Example::

    step = rv.fast.CompiledStep(model, loss="cross_entropy", regularizers=[rv.nn.L2(1e-4)])
    for xb, yb in batches:
        loss, objective, logits = step(xb, yb)
        opt.step()
"""

from __future__ import annotations

import numpy as np

from ..autodiff.elementwise import Mul, Sub
from ..autodiff.linalg import Dense, Linear as LinearBox
from ..autodiff.reductions import Mean
from ..autodiff.softmax import CrossEntropy
from ..autodiff.tensor import constant
from ..nn.layers import Identity, Linear, ReLU, Sigmoid, Tanh
from ..nn.mlp import MLP
from ..nn.regularizers import L1, L2

_ACTIVATIONS = {Tanh: "tanh", Sigmoid: "sigmoid", ReLU: "relu"}


class _Needs:
    """Stands for a box input in ``bprop``'s ``self.inputs[i].requires_grad`` checks."""

    __slots__ = ("requires_grad",)

    def __init__(self, requires_grad: bool):
        self.requires_grad = requires_grad


_DATA, _HIDDEN = _Needs(False), _Needs(True)


def _layers(model) -> list[tuple[Linear, str | None]] | None:
    """(Linear, activation name or None) per layer, or None if the model is not a plain MLP."""
    if not isinstance(model, MLP):
        return None
    layers: list = []
    for module in model:
        if isinstance(module, Linear):
            layers.append([module, None])
        elif type(module) in _ACTIVATIONS and layers and layers[-1][1] is None:
            layers[-1][1] = _ACTIVATIONS[type(module)]
        elif not isinstance(module, Identity):
            return None  # batch norm, dropout, or anything else: the graph handles it
    return [tuple(layer) for layer in layers]


def why_not_compiled(model, loss: str, regularizers) -> str | None:
    """None if ``CompiledStep`` applies, else the reason it does not."""
    if _layers(model) is None:
        return "the model is not a plain MLP (Linear layers and tanh/sigmoid/ReLU only)"
    if loss not in ("cross_entropy", "mse"):
        return f"the loss {loss!r} is not cross_entropy or mse"
    for reg in regularizers:
        if type(reg) not in (L1, L2):
            return f"the penalty {reg!r} is not L1 or L2"
    return None


class CompiledStep:
    """Forward, loss and backward of a plain MLP by its boxes' own fprop/bprop, without a graph."""

    def __init__(self, model, loss: str = "cross_entropy", regularizers=()):
        reason = why_not_compiled(model, loss, regularizers)
        if reason is not None:
            raise ValueError(f"CompiledStep does not apply: {reason}")
        self.model, self.loss = model, loss
        # One box per layer, made once: Linear and Dense boxes keep nothing between calls.
        self.plan = []
        for k, (layer, activation) in enumerate(_layers(model)):
            box = LinearBox() if activation is None else Dense(activation)
            w, b = layer.weight, layer.bias
            below = _DATA if k == 0 else _HIDDEN  # the data needs no gradient; hidden layers do
            box.inputs = (below, w) if b is None else (below, w, b)
            self.plan.append((box, w, b, box.inputs[1:]))
        self.penalties = [(reg, [p for p in model.parameters() if p.regularize])
                          for reg in regularizers if reg.strength > 0]
        self.one = np.ones((), dtype=model.dtype)

    def __call__(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float, np.ndarray]:
        """Set every parameter's ``.grad``; return (data loss, objective, model output)."""
        saved = []
        h = x
        for box, w, b, _ in self.plan:
            args = (h, w.data) if b is None else (h, w.data, b.data)
            h = box.fprop(*args)
            saved.append(args)
        loss, g = self._loss_and_gradient(h, y)
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

    def _loss_and_gradient(self, out: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        one = self.one
        if self.loss == "cross_entropy":
            box = CrossEntropy(y)
            value = box.fprop(out)
            box.inputs = (_HIDDEN,)
            return float(value), box.bprop(one, out, value)[0]
        # mse_loss = mean((out − y)²), as the graph builds it: Sub, Mul(d, d), Mean
        sub, mul, mean = Sub(), Mul(), Mean(tuple(range(out.ndim)), False)
        sub.inputs, mul.inputs = (_HIDDEN, _DATA), (_HIDDEN, _HIDDEN)
        d = sub.fprop(out, y)
        sq = mul.fprop(d, d)
        value = mean.fprop(sq)
        g_sq = mean.bprop(one, sq, value)[0]
        g_a, g_b = mul.bprop(g_sq, d, d, sq)
        g_d = g_a + g_b
        return float(value), sub.bprop(g_d, out, y, d)[0]

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


__all__ = ["CompiledStep", "why_not_compiled"]
