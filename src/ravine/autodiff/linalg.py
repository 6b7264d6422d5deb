"""Matrix products: ``matmul`` and the fused affine map ``linear`` of a layer.

For Y = A B:  ∂L/∂A = G Bᵀ and ∂L/∂B = Aᵀ G.
For a layer, a = x Wᵀ + b with W of shape (out, in) as in the lectures' a = b + W h (one example
per row):  ∂L/∂x = G W,  ∂L/∂W = Gᵀ x,  ∂L/∂b = Σ_rows G. One box instead of three (matmul,
transpose, broadcast add) keeps first-order training close to hand-written NumPy.
"""

from __future__ import annotations

import numpy as np

from .activations import get as get_activation
from .tensor import Op, Tensor, apply, pair


class MatMul(Op):
    """Y = A B for 2-D A (m×k) and B (k×n);  ∂L/∂A = G Bᵀ,  ∂L/∂B = Aᵀ G."""

    __slots__ = ()

    def fprop(self, a, b):
        return a @ b

    def bprop(self, g, a, b, y):
        need_a, need_b = self.needs
        return (g @ b.T if need_a else None, a.T @ g if need_b else None)


class Linear(Op):
    """a = x Wᵀ + b (b optional);  ∂L/∂x = G W,  ∂L/∂W = Gᵀ x,  ∂L/∂b = Σ_rows G."""

    __slots__ = ()

    def fprop(self, x, w, b=None):
        out = x @ w.T
        if b is not None:
            out += b
        return out

    def bprop(self, g, x, w, *rest):
        inputs = self.inputs
        grads = (g @ w if inputs[0].requires_grad else None, g.T @ x if inputs[1].requires_grad else None)
        if len(rest) == 2:  # (b, output)
            grads += (sum_rows(g) if inputs[2].requires_grad else None,)
        return grads


def sum_rows(g):
    """Σ over the rows (axis 0): a bias's gradient. The ufunc itself on arrays (the ``.sum`` method's
    Python wrapper costs about a microsecond a call, which shows on small layers)."""
    return g.sum(axis=0) if isinstance(g, Tensor) else np.add.reduce(g, axis=0)


class Dense(Op):
    """h = φ(x Wᵀ + b) for φ any activation of the registry: a layer and its activation in one box.

    With a = x Wᵀ + b and ∂L/∂a = g ⊙ φ'(a), where φ' is read off the output h by the activation's
    box (``derivative``: tanh' = 1 − h², σ' = h(1 − h), relu' = [h > 0] ...);
    then ∂L/∂x = (∂L/∂a) W,  ∂L/∂W = (∂L/∂a)ᵀ x,  ∂L/∂b = Σ_rows ∂L/∂a.
    The same function as ``linear`` followed by the activation's box, in one box instead of two
    (the MLP uses it wherever a Linear layer feeds an activation directly).
    """

    __slots__ = ("activation", "box")

    def __init__(self, activation: str):
        self.activation = activation
        self.box = get_activation(activation).box

    def fprop(self, x, w, b=None):
        out = x @ w.T
        if b is not None:
            out += b
        return self.box.into(out)

    def bprop(self, g, x, w, *rest):
        ga = g * self.box.derivative(rest[-1])  # rest: (b, h) or (h,)
        inputs = self.inputs
        grads = (ga @ w if inputs[0].requires_grad else None, ga.T @ x if inputs[1].requires_grad else None)
        if len(rest) == 2:  # (b, output)
            grads += (sum_rows(ga) if inputs[2].requires_grad else None,)
        return grads


def _matmul_shapes_error(a_shape, b_shape) -> ValueError:
    return ValueError(
        f"matmul shape mismatch: {a_shape} @ {b_shape}: the inner dimensions "
        f"{a_shape[-1] if a_shape else '?'} and {b_shape[0] if b_shape else '?'} differ"
    )


def matmul(a, b):
    """The matrix product ``a @ b`` of 1-D or 2-D operands (NumPy's rules for 1-D operands)."""
    if not (isinstance(a, Tensor) or isinstance(b, Tensor)):
        return np.matmul(a, b)
    a, b = pair(a, b, "matmul")
    if not (1 <= a.ndim <= 2 and 1 <= b.ndim <= 2):
        raise ValueError(f"matmul takes 1-D or 2-D operands; got shapes {a.shape} and {b.shape}")
    if a.shape[-1] != b.shape[0]:
        raise _matmul_shapes_error(a.shape, b.shape)
    if a.ndim == 2 and b.ndim == 2:
        return apply(MatMul(), a, b)
    out_shape = a.shape[:-1] + b.shape[1:]
    a2 = a if a.ndim == 2 else a.reshape(1, -1)
    b2 = b if b.ndim == 2 else b.reshape(-1, 1)
    return apply(MatMul(), a2, b2).reshape(out_shape)


def _linear_inputs(x, weight, bias, name: str) -> tuple:
    """(x, W) or (x, W, b) as Tensors of one dtype with matching shapes, or a clear error."""
    x, weight = pair(x, weight, name)
    if x.ndim != 2:
        raise ValueError(f"{name} expects x of shape (batch, features); got shape {x.shape}")
    if weight.ndim != 2 or x.shape[1] != weight.shape[1]:
        raise ValueError(
            f"{name} shape mismatch: x has {x.shape[1]} features (shape {x.shape}) but the weight "
            f"has shape {weight.shape} (out, in)"
        )
    if bias is None:
        return x, weight
    bias = pair(weight, bias, name)[1]
    if bias.shape != (weight.shape[0],):
        raise ValueError(f"{name}: bias must have shape ({weight.shape[0]},); got {bias.shape}")
    return x, weight, bias


def linear(x, weight, bias=None):
    """The affine map of a layer, x Wᵀ + b, for x of shape (batch, in) and W of shape (out, in)."""
    return apply(Linear(), *_linear_inputs(x, weight, bias, "linear"))


def dense(x, weight, bias=None, activation: str = "tanh"):
    """φ(x Wᵀ + b) in one box, for φ named in ``activations.ACTIVATIONS`` (see ``Dense``)."""
    return apply(Dense(activation), *_linear_inputs(x, weight, bias, "dense"))
