"""Gradient clipping: keep one step from jumping off a cliff of the loss surface.

Deep and recurrent nets have cliffs, regions where the gradient is suddenly huge; a plain step there
throws the parameters far away and undoes much of the training. Clipping bounds the step:

* by global norm (``clip_grad_norm_``): with g the concatenation of every parameter's gradient and
  n = ‖g‖_p, every gradient is scaled by c = max_norm / (n + 10⁻⁶) when c < 1. The direction of the
  whole step is kept, only its length is bounded;
* by value (``clip_grad_value_``): each entry is clipped to [−v, v]; the direction changes.

Both work in place on the ``.grad`` arrays, as ``torch.nn.utils.clip_grad_norm_`` /
``clip_grad_value_`` do (and give the same numbers). In place is safe: ``backward()`` gives each
leaf its own ``.grad`` array, never shared with another leaf or with the caller.

Example::

    loss.backward()
    total = rv.optim.clip_grad_norm_(model, max_norm=1.0)   # the norm before clipping
    opt.step()
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .._checks import check_number
from ..autodiff.params import named_params

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(params, fn: str) -> list[np.ndarray]:
    """The gradient arrays of ``params`` (any form ``named_params`` reads), skipping None."""
    return [p.grad.data for _, p in named_params(params, owner=fn) if p.grad is not None]


def _number_or_inf(name: str, value, fn: str, **bounds) -> float:
    """``check_number``, letting +inf through too (an ∞-norm; no clipping); its errors say so."""
    if not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Real) \
            and value == math.inf:
        return math.inf
    try:
        return check_number(name, value, owner=fn, **bounds)
    except (TypeError, ValueError) as error:
        head, sep, tail = str(error).partition("; got ")
        raise type(error)(f"{head} or inf{sep}{tail}") from None


def clip_grad_norm_(params, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> float:
    """Scale all gradients together so that their global ``norm_type``-norm is at most ``max_norm``.

    n = ‖(‖g₁‖_p, ‖g₂‖_p, ...)‖_p (= ‖concat(g₁, g₂, ...)‖_p), p = ``norm_type`` (> 0, or ``inf``
    for maxᵢ|gᵢ|); c = max_norm / (n + 10⁻⁶); if c < 1, every gᵢ ← c·gᵢ in place. Returns n, the norm
    before clipping (0.0 when no parameter has a gradient). A non-finite n scales every gradient by
    a non-finite c, as in PyTorch, unless ``error_if_nonfinite`` raises instead.

    Example::

        total = clip_grad_norm_(model.parameters(), max_norm=5.0)
    """
    fn = "clip_grad_norm_"
    max_norm = check_number("max_norm", max_norm, low=0.0, owner=fn)
    p = _number_or_inf("norm_type", norm_type, fn, low=0.0, low_open=True)
    grads = _grads(params, fn)
    if not grads:
        return 0.0
    if p == math.inf:
        total = max(float(np.max(np.abs(g), initial=0.0)) for g in grads)
    elif p == 2.0:
        total = math.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for g in grads))
    elif p == 1.0:
        total = sum(float(np.sum(np.abs(g))) for g in grads)
    else:
        norms = np.array([np.sum(np.abs(g) ** p) ** (1.0 / p) for g in grads])
        total = float(np.sum(norms ** p) ** (1.0 / p))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"{fn}: the total norm of the gradients is {total}; "
                           f"pass error_if_nonfinite=False to scale by it anyway")
    coef = max_norm / (total + 1e-6)
    if not coef >= 1.0:  # also NaN: torch multiplies by the (clamped) coefficient, NaN included
        with np.errstate(invalid="ignore"):  # inf·0 = NaN is the documented outcome, not a surprise
            for g in grads:
                g *= g.dtype.type(coef)
    return total


def clip_grad_value_(params, clip_value: float) -> None:
    """Clip every gradient entry to [−clip_value, clip_value], in place.

    Example::

        clip_grad_value_(model, 0.5)
    """
    fn = "clip_grad_value_"
    clip_value = _number_or_inf("clip_value", clip_value, fn, low=0.0)
    for g in _grads(params, fn):
        np.clip(g, -clip_value, clip_value, out=g)
