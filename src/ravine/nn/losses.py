"""Losses as objects: each knows its task, the shape of its targets, its value and its gradient.

A loss l(f(x), y) turns the model's output and the targets into the number that training
minimizes (its mean over a mini-batch). Everything that trains or evaluates — the Trainer, the
compiled step, evaluation, the symmetry tools, the command — reads the loss from here, so each
rule (which targets are valid, how they are shaped, how a prediction counts as an error) is
written once.

- ``cross_entropy`` (classification): the model outputs logits a ∈ ℝ^C; the targets are integer
  labels y ∈ [0, C); l = −log softmax(a)_y; an example is misclassified when argmax a ≠ y.
- ``mse`` (regression): the model outputs predictions ŷ ∈ ℝ^K; the targets are real numbers of
  the same shape (a 1-D target for a single output becomes a column); l = (1/K) Σ (ŷ − y)², the
  mean over every entry of the batch.

Example::

    loss = rv.nn.losses.get("cross_entropy")
    y = loss.targets(labels, n_rows=len(X), out_features=10, dtype=np.float32)
    value = loss(model(X), y)                       # a scalar Tensor
    loss.errors(model(X).data, y)                   # misclassified examples (None for mse)
"""

from __future__ import annotations

import numpy as np

from .._checks import check_choice, check_finite
from ..autodiff.elementwise import Mul, Sub
from ..autodiff.reductions import Mean
from ..autodiff.softmax import CrossEntropy as CrossEntropyBox, check_labels
from ..autodiff.stand_in import CONSTANT, VARIABLE
from . import functional as F




class Loss:
    """A loss: ``name``, ``task``, ``targets(...)``, ``__call__(output, targets)``, ``errors``."""

    name = ""
    task = ""

    def __call__(self, output, targets):
        """The mean loss over the batch, as a scalar Tensor of the flow graph."""
        raise NotImplementedError

    def targets(self, y, n_rows: int, out_features: int, dtype, what: str = "training") -> np.ndarray:
        """``y`` checked and shaped as this loss expects it for ``n_rows`` outputs, or an error."""
        raise NotImplementedError

    def value_and_gradient(self, output: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
        """(mean loss, ∂loss/∂output) on raw arrays, by the same boxes the graph records."""
        raise NotImplementedError

    def errors(self, output: np.ndarray, targets: np.ndarray) -> int | None:
        """How many examples the output gets wrong (classification), or None (regression)."""
        return None

    def __repr__(self) -> str:
        return f"rv.nn.losses.get({self.name!r})"


class CrossEntropyLoss(Loss):
    """L = −(1/m) Σ_t log softmax(a⁽ᵗ⁾)_{y⁽ᵗ⁾}; ∂L/∂a = (softmax(a) − e(y)) / m (one fused box)."""

    name = "cross_entropy"
    task = "classification"

    def __call__(self, output, targets):
        return F.cross_entropy(output, targets)

    def targets(self, y, n_rows, out_features, dtype, what="training"):
        y = np.asarray(y)
        if len(y) != n_rows:
            raise ValueError(f"{what}: {n_rows} rows of features but {len(y)} labels")
        return check_labels(y, n_rows, out_features)

    def value_and_gradient(self, output, targets):
        box = CrossEntropyBox(targets)
        value = box.fprop(output)
        box.inputs = (VARIABLE,)
        return float(value), box.bprop(np.ones((), dtype=output.dtype), output, value)[0]

    def errors(self, output, targets):
        return int(np.count_nonzero(output.argmax(axis=1) != targets))


class MeanSquaredErrorLoss(Loss):
    """L = (1/N) Σ (ŷ − y)² over all N entries of the batch; ∂L/∂ŷ = 2(ŷ − y)/N."""

    name = "mse"
    task = "regression"

    def __call__(self, output, targets):
        return F.mse_loss(output, targets)

    def targets(self, y, n_rows, out_features, dtype, what="training"):
        y = np.asarray(y)
        if len(y) != n_rows:
            raise ValueError(f"{what}: {n_rows} rows of features but {len(y)} targets")
        try:
            targets = np.asarray(y, dtype=dtype)
        except (TypeError, ValueError):
            raise TypeError(f"{what} targets must be numbers; got dtype {y.dtype}") from None
        if targets.ndim == 1 and out_features == 1:
            targets = targets[:, None]
        if targets.shape != (n_rows, out_features):
            raise ValueError(f"{what} targets must have shape ({n_rows}, {out_features}) for a model "
                             f"with {out_features} outputs; got shape {np.shape(y)}")
        check_finite(targets, f"{what} targets")
        return targets

    def value_and_gradient(self, output, targets):
        # mse_loss = mean((out − y)²), as the graph builds it: Sub, Mul(d, d), Mean
        sub, mul, mean = Sub(), Mul(), Mean(tuple(range(output.ndim)), False)
        sub.inputs, mul.inputs = (VARIABLE, CONSTANT), (VARIABLE, VARIABLE)
        d = sub.fprop(output, targets)
        sq = mul.fprop(d, d)
        value = mean.fprop(sq)
        g_sq = mean.bprop(np.ones((), dtype=output.dtype), sq, value)[0]
        g_a, g_b = mul.bprop(g_sq, d, d, sq)
        return float(value), sub.bprop(g_a + g_b, output, targets, d)[0]


LOSSES: dict[str, Loss] = {loss.name: loss for loss in (CrossEntropyLoss(), MeanSquaredErrorLoss())}
BY_TASK: dict[str, Loss] = {loss.task: loss for loss in LOSSES.values()}


def get(loss) -> Loss:
    """The loss object for a name ("cross_entropy", "mse") or a ``Loss`` (returned as is)."""
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str) and loss in LOSSES:
        return LOSSES[loss]
    raise ValueError(f"loss must be one of {', '.join(repr(n) for n in LOSSES)} or an rv.nn.losses.Loss; "
                     f"got {loss!r}")


def for_task(task: str) -> Loss:
    """The loss a task trains with: cross-entropy for classification, squared error for regression."""
    return BY_TASK[check_choice("task", task, tuple(BY_TASK))]


__all__ = ["Loss", "CrossEntropyLoss", "MeanSquaredErrorLoss", "LOSSES", "get", "for_task"]
