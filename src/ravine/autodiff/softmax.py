"""Softmax, log-softmax and the fused softmax + negative log-likelihood (cross-entropy).

softmax(a)ᵢ = e^{aᵢ} / Σⱼ e^{aⱼ}, computed after subtracting max a (the same value, no overflow).
Its Jacobian is diag(y) − y yᵀ, so ∂L/∂a = y ⊙ (g − ⟨g, y⟩).
log-softmax(a) = a − log Σⱼ e^{aⱼ};  ∂L/∂a = g − softmax(a)·Σⱼ gⱼ.

Cross-entropy of logits a with label y on a mini-batch of m examples is
L = −(1/m) Σ_t log softmax(a⁽ᵗ⁾)_{y⁽ᵗ⁾}, and its gradient at the pre-activation is the lectures'
∂L/∂a⁽ᵗ⁾ = (f(x⁽ᵗ⁾) − e(y⁽ᵗ⁾)) / m, where f = softmax(a) and e(y) is the one-hot vector of y.
"""

from __future__ import annotations

import numpy as np

from .elementwise import exp
from .tensor import Op, Tensor, apply, as_tensor


def _softmax_array(a: np.ndarray, axis: int) -> np.ndarray:
    e = a - a.max(axis=axis, keepdims=True)
    np.exp(e, out=e)
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _log_softmax_array(a: np.ndarray, axis: int) -> np.ndarray:
    shifted = a - a.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


class Softmax(Op):
    """y = softmax(a) along ``axis``;  ∂L/∂a = y ⊙ (g − Σ_axis g ⊙ y)."""

    __slots__ = ("axis",)

    def __init__(self, axis: int):
        self.axis = axis

    def fprop(self, a):
        return _softmax_array(a, self.axis)

    def bprop(self, g, a, y):
        return (y * (g - (g * y).sum(axis=self.axis, keepdims=True)),)


class LogSoftmax(Op):
    """y = log softmax(a) along ``axis``;  ∂L/∂a = g − e^y · Σ_axis g."""

    __slots__ = ("axis",)

    def __init__(self, axis: int):
        self.axis = axis

    def fprop(self, a):
        return _log_softmax_array(a, self.axis)

    def bprop(self, g, a, y):
        return (g - exp(y) * g.sum(axis=self.axis, keepdims=True),)


class CrossEntropy(Op):
    """L = −(1/m) Σ_t log softmax(a⁽ᵗ⁾)_{y⁽ᵗ⁾};  ∂L/∂a = g · (softmax(a) − onehot(y)) / m."""

    __slots__ = ("labels", "rows", "exps", "totals")

    def __init__(self, labels: np.ndarray):
        self.labels = labels
        self.rows = _rows(len(labels))

    def fprop(self, a):
        # log softmax(a)_y = (a_y − max a) − log Σⱼ e^{aⱼ − max a}; e and Σ are kept for bprop.
        shifted = a - np.maximum.reduce(a, axis=1, keepdims=True)
        e = self.exps = np.exp(shifted)
        total = self.totals = np.add.reduce(e, axis=1, keepdims=True)
        nll = np.log(total[:, 0]) - shifted[self.rows, self.labels]
        return np.asarray(np.add.reduce(nll) / len(self.labels))

    def bprop(self, g, a, y):
        scale = g * (1.0 / len(self.labels))
        if isinstance(a, Tensor):  # recorded: softmax(a) must be on the graph to be differentiated
            onehot = np.zeros(a.shape, dtype=a.dtype)
            onehot[self.rows, self.labels] = 1
            return ((softmax(a, axis=1) - onehot) * scale,)
        # the same rule on arrays, written in place: (p − e(y))·scale with p = e / Σ from fprop
        grad = self.exps / self.totals
        grad[self.rows, self.labels] -= 1
        grad *= scale
        return (grad,)


_ROWS: dict[int, np.ndarray] = {}


def _rows(m: int) -> np.ndarray:
    """0, 1, ..., m − 1 (read-only, cached: every mini-batch of the same size shares it)."""
    rows = _ROWS.get(m)
    if rows is None:
        rows = np.arange(m)
        rows.flags.writeable = False
        if len(_ROWS) < 64:
            _ROWS[m] = rows
    return rows


def _axis(axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of range for a Tensor with {ndim} dimensions")
    return axis % ndim


def softmax(a, axis: int = -1):
    """softmax along ``axis``: e^{aᵢ} / Σⱼ e^{aⱼ}, stable for large aᵢ."""
    if isinstance(a, Tensor):
        return apply(Softmax(_axis(axis, a.ndim)), a)
    return _softmax_array(np.asarray(a), axis)


def log_softmax(a, axis: int = -1):
    """log softmax along ``axis``: aᵢ − log Σⱼ e^{aⱼ}, stable for large aᵢ."""
    if isinstance(a, Tensor):
        return apply(LogSoftmax(_axis(axis, a.ndim)), a)
    return _log_softmax_array(np.asarray(a), axis)


_UNSIGNED = {np.dtype(f"i{n}"): np.dtype(f"u{n}") for n in (1, 2, 4, 8)}


def check_labels(labels, n_rows: int, n_classes: int) -> np.ndarray:
    """Labels as a 1-D integer array of ``n_rows`` entries in [0, n_classes), or a clear error."""
    y = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
    if y.ndim != 1:
        raise ValueError(f"labels must be a 1-D array of class indices; got shape {y.shape}")
    if len(y) != n_rows:
        raise ValueError(f"got {len(y)} labels for {n_rows} rows of logits")
    if y.dtype.kind not in "iu":
        if y.dtype.kind == "f":
            bad = np.flatnonzero(~np.isfinite(y) | (y != np.round(y)))
            if len(bad):
                raise ValueError(
                    f"labels must be integers in [0, {n_classes}); got {y[bad[0]].item()!r} at row {bad[0]}"
                )
        raise TypeError(
            f"labels must be integers in [0, {n_classes}); got an array of dtype {y.dtype} "
            f"(convert whole-number labels with .astype(int))"
        )
    # Viewed as unsigned, a negative label is huge: one max finds both kinds of bad label.
    if len(y) and np.maximum.reduce(y.view(_UNSIGNED.get(y.dtype, y.dtype))) >= n_classes:
        bad = np.flatnonzero((y < 0) | (y >= n_classes))
        raise ValueError(
            f"labels must be integers in [0, {n_classes}); got {y[bad[0]]} at row {bad[0]}"
        )
    return y


def cross_entropy(logits, labels):
    """Mean negative log-likelihood of integer ``labels`` under softmax(``logits``).

    ``logits``: (m, C) pre-activations of the output layer; ``labels``: m integers in [0, C).
    L = −(1/m) Σ_t log softmax(a⁽ᵗ⁾)_{y⁽ᵗ⁾}, one fused box whose bprop is (softmax(a) − e(y)) / m.

    Example::

        loss = rv.nn.functional.cross_entropy(model(x), y)
    """
    logits = as_tensor(logits)
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy expects logits of shape (batch, classes); got {logits.shape}")
    y = check_labels(labels, logits.shape[0], logits.shape[1])
    return apply(CrossEntropy(y), logits)
