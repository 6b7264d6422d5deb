"""Directions in parameter space for loss-landscape slices: random, and filter-normalized.

Random Gaussian directions in high dimension are nearly orthogonal, but a raw one would be misleading:
a ReLU net's function does not change when a layer's weights are scaled by c and the next layer's by
1/c, so the same step means a lot to a layer of small weights and nothing to a layer of large ones.
**Filter normalization** (Li, Xu, Taylor, Studer & Goldstein, 2018) makes the direction's scale match
the network's, filter by filter: for every filter i (for a fully connected layer, a row of W — one
unit's incoming weights),

    δ_i ← δ_i · ‖θ_i‖ / ‖δ_i‖,

so α = 1 moves every unit by as much as its own weight vector. Parameters with one dimension (biases,
batch-norm γ and β) are *zeroed* in the direction by default, as Li et al. do (``one_dim="zero"``);
``one_dim="normalize"`` instead rescales each of them as a whole to the norm of the parameter.

``params`` is a list of Tensors or a model (then its parameters, names known); ``_resolve`` reads it
for these functions and for those of ``landscape.py``.

Example::

    delta, eta = random_directions(model, seed=0)                     # filter-normalized
    raw = random_directions(model, seed=0, filter_normalize=False, count=1)[0]
    normalize_filters(raw, model)                                     # == delta
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .._checks import check_choice, check_flag, check_int
from .._random import as_generator
from ..autodiff.tensor import Tensor
from ..nn.module import Module

ONE_DIM = ("zero", "normalize")


# --- parameters ----------------------------------------------------------------------------------

def _resolve(params, model) -> tuple[list[Tensor], list[str] | None, Module | None]:
    """(parameter Tensors, their dotted names or None, the model or None)."""
    if isinstance(params, Module):
        if model is not None and model is not params:
            raise ValueError("params is a model and model= names another one; give one of them")
        model, params = params, params.parameters()
    if model is not None and not isinstance(model, Module):
        raise TypeError(f"model must be an rv.nn.Module or None; got {type(model).__name__}")
    if isinstance(params, (Tensor, np.ndarray)) or not isinstance(params, Sequence) and \
            not hasattr(params, "__iter__"):
        raise TypeError(f"params must be a list of Tensors or a model; got {type(params).__name__}")
    names = getattr(params, "names", None)
    params = list(params)
    if not params:
        raise ValueError("params is empty: there is no parameter to move")
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"params[{i}] must be a Tensor; got {type(p).__name__}")
        if p.data.dtype.kind != "f":
            raise TypeError(f"params[{i}] must hold floats; got dtype {p.data.dtype}")
    if names is None and model is not None:
        by_id = {id(p): n for n, p in model.named_parameters()}
        if all(id(p) in by_id for p in params):
            names = [by_id[id(p)] for p in params]
    return params, (list(names) if names is not None else None), model


# --- directions ----------------------------------------------------------------------------------

def normalize_filters(direction, params, one_dim: str = "zero") -> list[np.ndarray]:
    """Filter-normalize ``direction`` (arrays shaped like ``params``) to the scale of ``params``.

    For a parameter with ≥ 2 dimensions, each filter (slice along axis 0: a row of a Linear weight
    W of shape (out, in), i.e. one unit's incoming weights) is rescaled, d_i ← d_i · ‖θ_i‖ / ‖d_i‖
    (a filter whose direction or weights are all zero becomes zero). Parameters with ≤ 1 dimension
    (biases, batch-norm γ, β): ``one_dim="zero"`` sets them to 0 (Li et al., 2018),
    ``one_dim="normalize"`` rescales each as a whole, d ← d · ‖θ‖ / ‖d‖. Returns new float64 arrays.

    Example::

        d = normalize_filters([rng.standard_normal(p.shape) for p in params], params)
        np.linalg.norm(d[0], axis=1)      # == np.linalg.norm(params[0].data, axis=1)
    """
    check_choice("one_dim", one_dim, ONE_DIM, owner="normalize_filters")
    params, _, _ = _resolve(params, None)
    direction = list(direction)
    if len(direction) != len(params):
        raise ValueError(f"direction has {len(direction)} arrays but there are {len(params)} parameters")
    out = []
    for i, (d, p) in enumerate(zip(direction, params)):
        d = np.asarray(d.data if isinstance(d, Tensor) else d, dtype=np.float64)
        if d.shape != p.shape:
            raise ValueError(f"direction[{i}] has shape {d.shape} but the parameter has shape {p.shape}")
        w = p.data.astype(np.float64)
        if w.ndim >= 2:
            d_rows, w_rows = d.reshape(d.shape[0], -1), w.reshape(w.shape[0], -1)
            d_norm = np.linalg.norm(d_rows, axis=1)
            w_norm = np.linalg.norm(w_rows, axis=1)
            scale = np.divide(w_norm, d_norm, out=np.zeros_like(w_norm), where=d_norm > 0)
            out.append((d_rows * scale[:, None]).reshape(d.shape))
        elif one_dim == "zero":
            out.append(np.zeros_like(d))
        else:
            d_norm = float(np.linalg.norm(d))
            out.append(d * (np.linalg.norm(w) / d_norm) if d_norm > 0 else np.zeros_like(d))
    return out


def random_directions(params, seed=0, filter_normalize: bool = True, count: int = 2,
                      one_dim: str = "zero") -> list[list[np.ndarray]]:
    """``count`` random directions in parameter space, each a list of float64 arrays like ``params``.

    Each entry is drawn from N(0, 1) (one generator from ``seed``, directions drawn in turn); with
    ``filter_normalize`` (the default) each direction is then filter-normalized to the scale of
    ``params`` (``normalize_filters``; 1-D parameters zeroed unless ``one_dim="normalize"``). In
    high dimension two such directions are nearly orthogonal.

    Example::

        delta, eta = random_directions(model, seed=0)
        surface = loss_surface_2d(loss_fn, model, directions=(delta, eta))
    """
    params, _, _ = _resolve(params, None)
    owner = "random_directions"
    count = check_int("count", count, minimum=1, owner=owner)
    filter_normalize = check_flag("filter_normalize", filter_normalize, owner=owner)
    check_choice("one_dim", one_dim, ONE_DIM, owner=owner)
    rng = as_generator(seed, owner=owner)
    directions = []
    for _ in range(count):
        d = [rng.standard_normal(p.shape) for p in params]
        directions.append(normalize_filters(d, params, one_dim) if filter_normalize else d)
    return directions


__all__ = ["random_directions", "normalize_filters"]
