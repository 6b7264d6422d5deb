"""Matrix products: ``matmul`` and the fused affine map ``linear`` of a layer.

For Y = A B:  ∂L/∂A = G Bᵀ and ∂L/∂B = Aᵀ G.
For a layer, a = x Wᵀ + b with W of shape (out, in) as in the lectures' a = b + W h (one example
per row):  ∂L/∂x = G W,  ∂L/∂W = Gᵀ x,  ∂L/∂b = Σ_rows G. One box instead of three (matmul,
transpose, broadcast add) keeps first-order training close to hand-written NumPy.
"""

from __future__ import annotations

import numpy as np

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
        needs = self.needs
        grads = (g @ w if needs[0] else None, g.T @ x if needs[1] else None)
        if len(rest) == 2:  # (b, output)
            grads += (g.sum(axis=0) if needs[2] else None,)
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


def linear(x, weight, bias=None):
    """The affine map of a layer, x Wᵀ + b, for x of shape (batch, in) and W of shape (out, in)."""
    x, weight = pair(x, weight, "linear")
    if x.ndim != 2:
        raise ValueError(f"linear expects x of shape (batch, features); got shape {x.shape}")
    if weight.ndim != 2 or x.shape[1] != weight.shape[1]:
        raise ValueError(
            f"linear shape mismatch: x has {x.shape[1]} features (shape {x.shape}) but the weight "
            f"has shape {weight.shape} (out, in)"
        )
    if bias is None:
        return apply(Linear(), x, weight)
    bias = pair(weight, bias, "linear")[1]
    if bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias must have shape ({weight.shape[0]},); got {bias.shape}")
    return apply(Linear(), x, weight, bias)
