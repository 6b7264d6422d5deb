"""Reductions (sum, mean, max over axes) and the two broadcasting boxes that are each other's bprop.

A reduction's bprop spreads g back over the reduced axes: every input entry of a sum contributed with
weight 1, of a mean with weight 1/n, of a max only where it was the maximum. ``broadcast_to`` copies
along axes and ``sum_to`` sums along them, so each is the other's bprop.
"""

from __future__ import annotations

import builtins

import numpy as np

from .tensor import Op, Tensor, apply


def _normalize_axis(axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for ax in axes:
        if not -ndim <= ax < builtins.max(ndim, 1):
            raise ValueError(f"axis {ax} is out of range for a Tensor with {ndim} dimensions")
        out.append(int(ax) % builtins.max(ndim, 1))
    return tuple(sorted(set(out)))


def _kept_shape(shape: tuple, axes: tuple) -> tuple:
    """The shape of a reduction with keepdims=True: reduced axes become 1."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _count(shape: tuple, axes: tuple) -> int:
    """How many entries each output of a reduction over ``axes`` averages."""
    n = 1
    for ax in axes:
        n *= shape[ax]
    return n


def _sum_to_array(g: np.ndarray, shape: tuple) -> np.ndarray:
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    )
    summed = g.sum(axis=axes, keepdims=True) if axes else g
    return summed.reshape(shape) if lead else summed


class SumTo(Op):
    """y = a summed down to ``shape`` (the inverse of broadcasting);  ∂L/∂a = g broadcast back."""

    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = tuple(shape)

    def fprop(self, a):
        return np.asarray(_sum_to_array(a, self.shape))

    def bprop(self, g, a, y):
        return (broadcast_to(g, a.shape),)


class BroadcastTo(Op):
    """y = a broadcast to ``shape``;  ∂L/∂a = g summed back to a's shape."""

    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = tuple(shape)

    def fprop(self, a):
        return np.broadcast_to(a, self.shape)

    def bprop(self, g, a, y):
        return (sum_to(g, a.shape),)


def sum_to(g, shape):
    """Sum ``g`` over the axes along which an array of ``shape`` was broadcast to g's shape."""
    shape = tuple(shape)
    if g.shape == shape:
        return g
    if isinstance(g, Tensor):
        return apply(SumTo(shape), g)
    return _sum_to_array(g, shape)


def broadcast_to(a, shape):
    """``a`` broadcast to ``shape`` (NumPy's rules)."""
    shape = tuple(shape)
    if a.shape == shape:
        return a
    if isinstance(a, Tensor):
        return apply(BroadcastTo(shape), a)
    return np.broadcast_to(a, shape)


class Sum(Op):
    """y = Σ a over ``axes``;  ∂L/∂a = g broadcast over the summed axes."""

    __slots__ = ("axes", "keepdims")

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def fprop(self, a):
        return np.asarray(a.sum(axis=self.axes, keepdims=self.keepdims))

    def bprop(self, g, a, y):
        return (broadcast_to(g.reshape(_kept_shape(a.shape, self.axes)), a.shape),)


class Mean(Op):
    """y = (1/n) Σ a over ``axes`` (n entries each);  ∂L/∂a = g/n broadcast over those axes."""

    __slots__ = ("axes", "keepdims")

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def fprop(self, a):
        total = np.add.reduce(a, axis=self.axes, keepdims=self.keepdims)
        return np.asarray(total * (1.0 / _count(a.shape, self.axes)))

    def bprop(self, g, a, y):
        spread = broadcast_to(g.reshape(_kept_shape(a.shape, self.axes)), a.shape)
        return (spread * (1.0 / _count(a.shape, self.axes)),)


class Max(Op):
    """y = max a over ``axes``;  ∂L/∂a = g at the maximal entries, shared equally among ties."""

    __slots__ = ("axes", "keepdims")

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def fprop(self, a):
        if a.size == 0:
            raise ValueError("max of an empty Tensor")
        return np.asarray(a.max(axis=self.axes, keepdims=self.keepdims))

    def bprop(self, g, a, y):
        kept = _kept_shape(a.shape, self.axes)
        av = a.data if isinstance(a, Tensor) else a
        yv = y.data if isinstance(y, Tensor) else y
        share = (av == yv.reshape(kept)).astype(av.dtype)
        share /= share.sum(axis=self.axes, keepdims=True)
        return (broadcast_to(g.reshape(kept), a.shape) * share,)


class VDot(Op):
    """y = Σᵢ aᵢbᵢ over every entry of two same-shaped inputs;  ∂L/∂a = g·b,  ∂L/∂b = g·a.

    One box (and one BLAS call) for what ``(a * b).sum()`` does in two: the inner product
    ⟨∇L, v⟩ of a Hessian-vector product over hundreds of thousands of weights.
    """

    __slots__ = ()

    def fprop(self, a, b):
        return np.asarray(np.vdot(a.reshape(-1), b.reshape(-1)), dtype=a.dtype)

    def bprop(self, g, a, b, y):
        need_a, need_b = self.needs
        return (g * b if need_a else None, g * a if need_b else None)


def vdot(a, b):
    """⟨a, b⟩ = Σᵢ aᵢbᵢ over every entry; a and b must have the same shape (nothing is broadcast)."""
    if not (isinstance(a, Tensor) or isinstance(b, Tensor)):
        return np.vdot(np.ravel(a), np.ravel(b))
    from .tensor import pair

    a, b = pair(a, b, "vdot")
    if a.shape != b.shape:
        raise ValueError(f"vdot: shapes {a.shape} and {b.shape} differ (nothing is broadcast)")
    return apply(VDot(), a, b)


def _reduce(op_class, a, axis, keepdims, array_fn):
    if isinstance(a, Tensor):
        return apply(op_class(_normalize_axis(axis, a.ndim), bool(keepdims)), a)
    return array_fn(a, axis=axis, keepdims=keepdims)


def sum(a, axis=None, keepdims=False):  # noqa: A001 - mirrors numpy.sum
    """Σ a over ``axis`` (an int, a tuple, or None for all)."""
    return _reduce(Sum, a, axis, keepdims, np.sum)


def mean(a, axis=None, keepdims=False):
    """The mean of a over ``axis`` (an int, a tuple, or None for all)."""
    return _reduce(Mean, a, axis, keepdims, np.mean)


def max(a, axis=None, keepdims=False):  # noqa: A001 - mirrors numpy.max
    """The maximum of a over ``axis``; the gradient goes to the maximal entries (ties share it)."""
    return _reduce(Max, a, axis, keepdims, np.max)
