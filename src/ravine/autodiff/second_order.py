"""Second derivatives by double backprop: Hessian-vector products and the full Hessian.

The gradient g(θ) = ∇L(θ) is computed with ``create_graph=True``, so g is itself on the flow graph.
Differentiating the scalar ⟨g, v⟩ again gives the Hessian-vector product exactly (no finite
differences):  ∇_θ ⟨∇L(θ), v⟩ = H v.  One HVP costs about three gradients, and never forms H.
The full Hessian stacks the rows ∇_θ g_i for every entry i of the (flattened) parameters, reusing
one recorded gradient graph; it is meant for small nets.

Parameters (a Module, Tensors or (name, Tensor) pairs: see ``params.py``) are flattened in the
order given, each in row-major (C) order.

Example::

    loss_fn = lambda: F.cross_entropy(model(x), y)
    Hv = rv.autodiff.second_order.hvp(loss_fn, model.parameters(), v)
    H = rv.autodiff.second_order.hessian(loss_fn, model.parameters())
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .backprop import grad
from .mode import enable_grad
from .params import named_params
from .reductions import vdot
from .tensor import Tensor


def _checked_params(params) -> list[Tensor]:
    """The Tensors of ``params`` (any form ``named_params`` reads), each requiring grad."""
    pairs = named_params(params)
    if not pairs:
        raise ValueError("params is empty: nothing to differentiate")
    for name, p in pairs:
        if not p.requires_grad:
            raise ValueError(f"parameter {name} does not require grad")
    return [p for _, p in pairs]


def _loss(loss_fn: Callable[[], Tensor]) -> Tensor:
    with enable_grad():
        loss = loss_fn()
    if not isinstance(loss, Tensor) or loss.size != 1:
        shape = getattr(loss, "shape", None)
        raise ValueError(f"loss_fn must return a scalar Tensor; got {type(loss).__name__}"
                         + (f" of shape {shape}" if shape is not None else ""))
    return loss.reshape(())


def gradient_graph(loss_fn: Callable[[], Tensor], params) -> tuple[Tensor, list[Tensor]]:
    """The loss and its gradient, recorded on the graph (``create_graph=True``)."""
    params = _checked_params(params)
    loss = _loss(loss_fn)
    with enable_grad():
        return loss, grad(loss, params, create_graph=True)


def _as_arrays(v, params: Sequence[Tensor]) -> list[np.ndarray]:
    vs = [v] if isinstance(v, (Tensor, np.ndarray)) and len(params) == 1 else list(v)
    if len(vs) != len(params):
        raise ValueError(f"v has {len(vs)} parts but there are {len(params)} parameters")
    arrays = []
    for i, (vi, p) in enumerate(zip(vs, params)):
        a = vi.data if isinstance(vi, Tensor) else np.asarray(vi)
        if a.shape != p.shape:
            raise ValueError(f"v[{i}] has shape {a.shape} but its parameter has shape {p.shape}")
        arrays.append(a.astype(p.dtype, copy=False))
    return arrays


def hvp_from_gradient(grads: Sequence[Tensor], params: Sequence[Tensor], v) -> list[np.ndarray]:
    """H v from an already recorded gradient graph (reuse it for many v)."""
    vs = _as_arrays(v, params)
    with enable_grad():
        dot = None
        for g, vi in zip(grads, vs):
            term = vdot(g, vi)
            dot = term if dot is None else dot + term
        if not dot.requires_grad:  # the gradient does not depend on θ: the loss is linear, H = 0
            return [np.zeros(p.shape, dtype=p.dtype) for p in params]
        return [h.data for h in grad(dot, list(params))]


def hvp(loss_fn: Callable[[], Tensor], params, v) -> list[np.ndarray]:
    """H v = ∇_θ ⟨∇_θ L, v⟩, exact, by double backprop; ``v`` shaped like ``params``."""
    params = _checked_params(params)
    _, grads = gradient_graph(loss_fn, params)
    return hvp_from_gradient(grads, params, v)


def num_parameters(params) -> int:
    return int(sum(p.size for p in params))


def hessian(loss_fn: Callable[[], Tensor], params, max_size: int = 3000) -> np.ndarray:
    """The full Hessian ∂²L/∂θ_i∂θ_j of the flattened parameters, one double-backprop row at a time.

    Refuses more than ``max_size`` parameters, since H has (size)² entries.
    """
    params = _checked_params(params)
    n = num_parameters(params)
    if n > max_size:
        raise ValueError(
            f"the Hessian of {n} parameters is a {n}×{n} matrix ({n * n * 8 / 1e6:,.0f} MB in float64); "
            f"the limit is max_size={max_size}: use hvp or hessian_eigs, or raise max_size"
        )
    _, grads = gradient_graph(loss_fn, params)
    dtype = params[0].dtype
    H = np.zeros((n, n), dtype=dtype)
    flat = []
    with enable_grad():
        for g in grads:
            flat.append(g.reshape(-1) if g.requires_grad else None)
    row = 0
    for g_flat, p in zip(flat, params):
        for i in range(p.size):
            if g_flat is not None:
                with enable_grad():
                    parts = grad(g_flat[i], params)
                H[row] = np.concatenate([part.data.reshape(-1) for part in parts])
            row += 1
    return H


def flatten(arrays) -> np.ndarray:
    """Concatenate arrays (or Tensors) into one vector, each in row-major order."""
    return np.concatenate([np.asarray(a.data if isinstance(a, Tensor) else a).reshape(-1) for a in arrays])


def unflatten(vector: np.ndarray, params) -> list[np.ndarray]:
    """Split a flat vector into arrays shaped like ``params`` (the inverse of ``flatten``)."""
    out, start = [], 0
    for p in params:
        out.append(np.asarray(vector[start:start + p.size]).reshape(p.shape))
        start += p.size
    if start != len(vector):
        raise ValueError(f"vector has {len(vector)} entries but the parameters have {start}")
    return out


__all__ = ["hvp", "hvp_from_gradient", "hessian", "gradient_graph", "flatten", "unflatten",
           "num_parameters"]
