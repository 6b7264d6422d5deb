"""Boxes that move entries without changing them: reshape, transpose, indexing.

Their bprop moves g back: a reshape's gradient is reshaped back, a transpose's transposed back, and
an indexing's gradient is scattered back into zeros (adding where an index repeats, since such an
entry was used more than once).
"""

from __future__ import annotations

import numpy as np

from .tensor import Op, Tensor, apply


class Reshape(Op):
    """y = a viewed with ``shape``;  ∂L/∂a = g reshaped to a's shape."""

    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = shape

    def fprop(self, a):
        return a.reshape(self.shape)

    def bprop(self, g, a, y):
        return (g.reshape(a.shape),)


class Transpose(Op):
    """y = a with axes permuted;  ∂L/∂a = g with the inverse permutation."""

    __slots__ = ("axes",)

    def __init__(self, axes):
        self.axes = axes

    def fprop(self, a):
        return a.transpose(self.axes)

    def bprop(self, g, a, y):
        return (g.transpose(tuple(np.argsort(self.axes))),)


def _cannot_repeat(index) -> bool:
    """True for an index of ints, slices, None, Ellipsis and boolean masks: no entry is taken twice."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(
        p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice))
        or (isinstance(p, np.ndarray) and p.dtype == np.bool_)
        for p in parts
    )


def _normalize_index(index):
    """Tensors and lists in an index become arrays (an index is a constant, never differentiated)."""
    def one(p):
        if isinstance(p, Tensor):
            return p.data.astype(np.intp) if p.data.dtype.kind == "f" else p.data
        if isinstance(p, list):
            return np.asarray(p)
        return p

    return tuple(one(p) for p in index) if isinstance(index, tuple) else one(index)


def scatter_add(g, index, shape):
    """zeros(shape) with g added at ``index`` — the bprop of indexing."""
    if isinstance(g, Tensor):
        return apply(ScatterAdd(index, tuple(shape)), g)
    out = np.zeros(shape, dtype=g.dtype)
    if _cannot_repeat(index):
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


class GetItem(Op):
    """y = a[index];  ∂L/∂a = zeros with g added at index."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index

    def fprop(self, a):
        return np.asarray(a[self.index])

    def bprop(self, g, a, y):
        return (scatter_add(g, self.index, a.shape),)


class ScatterAdd(Op):
    """y = zeros(shape) with a added at index;  ∂L/∂a = g[index]."""

    __slots__ = ("index", "shape")

    def __init__(self, index, shape):
        self.index, self.shape = index, shape

    def fprop(self, a):
        return scatter_add(a, self.index, self.shape)

    def bprop(self, g, a, y):
        return (g[self.index],)


def reshape(a, *shape):
    """``a`` with a new shape of the same size (one dimension may be −1)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if isinstance(a, Tensor):
        try:
            return apply(Reshape(shape), a)
        except ValueError:
            raise ValueError(f"cannot reshape a Tensor of shape {a.shape} into {shape}") from None
    return np.reshape(a, shape)


def transpose(a, *axes):
    """``a`` with its axes permuted (reversed when none are given)."""
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    if isinstance(a, Tensor):
        ndim = a.ndim
        axes = tuple(reversed(range(ndim))) if not axes else tuple(int(x) % max(ndim, 1) for x in axes)
        if sorted(axes) != list(range(ndim)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of {ndim} dimensions")
        return apply(Transpose(axes), a)
    return np.transpose(a, axes or None)


def getitem(a, index):
    """``a[index]``: slices, integers, integer or boolean arrays, as NumPy."""
    index = _normalize_index(index)
    if isinstance(a, Tensor):
        try:
            return apply(GetItem(index), a)
        except IndexError as err:
            raise IndexError(f"index {index!r} does not fit a Tensor of shape {a.shape}: {err}") from None
    return a[index]
