"""Slices of the loss landscape: along a line between two parameter vectors, and on a 2-D plane.

The loss L(θ) of a network lives in as many dimensions as it has parameters; what can be drawn is
its restriction to a line or a plane through parameter space.

**Line** (Goodfellow, Vinyals & Saxe, 2015, "Qualitatively characterizing neural network
optimization problems"): for two parameter vectors θ_a, θ_b (the initialization and the trained
weights, or two trained nets),

    θ(α) = (1 − α) θ_a + α θ_b,    α ∈ [−e, 1 + e],

so α = 0 is θ_a, α = 1 is θ_b and the ends show a little of what lies beyond. From initialization to
a solution the curve is often simply monotone; between two equivalent solutions (a net and its
permuted twin, ``symmetry.permute_hidden_units``) it has a bump, which a convex loss cannot have.
``LineResult.barrier`` measures the bump: max over α ∈ [0, 1] of L(θ(α)) − ((1 − α)L(θ_a) + αL(θ_b)).

**Plane** (Li, Xu, Taylor, Studer & Goldstein, 2018, "Visualizing the loss landscape of neural
nets"): around θ, along two random directions δ and η,

    f(α, β) = L(θ + α δ + β η),    α, β ∈ [−span, span].

The directions are *filter-normalized* by default (``directions.py``, re-exported here): each unit's
slice of δ is rescaled to the norm of the unit's weights, and 1-D parameters are zeroed, so that the
picture does not depend on how a ReLU net's weights happen to be scaled from layer to layer.

In all these functions ``loss_fn`` takes no arguments and returns a scalar Tensor computed from
``params`` (the loss of this model on this batch), ``params`` is a list of Tensors or a model (then
its parameters, names known), and the parameters are written in place, evaluated, and put back
exactly (bit for bit) when the function returns, even on error. When a model is given (as
``params`` or ``model=``), every evaluation runs in evaluation mode by default (``mode="eval"``:
no dropout, batch-norm running statistics) inside ``rv.nn.no_side_effects(model)``, and the modes
are restored afterwards; without a model, ``loss_fn`` is called as it is. Losses are computed
without recording a graph, and the parameter arithmetic is done in float64.

Example::

    X, y = rv.data.make_moons(200, noise=0.2, seed=0, dtype="float64")
    model = rv.nn.MLP(2, [16], 2, seed=0, dtype="float64")
    init = model.state_dict()
    rv.train.Trainer(model, rv.optim.Adam(model.parameters(), lr=0.01), progress=False).fit(X, y, 50)
    loss_fn = lambda: rv.nn.functional.cross_entropy(model(X), y)
    line = loss_along_line(loss_fn, model, init, model)       # from init (α=0) to trained (α=1)
    line.plot("line.png")
    surface = loss_surface_2d(loss_fn, model, span=1.0, steps=21, seed=0)
    surface.plot("surface.png", kind="contour")
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from .._checks import check_choice, check_int, check_number, check_positive
from ..autodiff.mode import no_grad
from ..autodiff.second_order import flatten, unflatten
from ..autodiff.tensor import Tensor
from ..nn.module import Module
from ..nn.side_effects import no_side_effects
from .directions import _resolve
# the direction machinery lived here: its names stay importable from this module
from .directions import ONE_DIM, normalize_filters, random_directions  # noqa: F401
from .plots import plot_line, plot_surface

MODES = ("eval", "train", None)


# --- parameters, models and parameter vectors --------------------------------------------------

def _as_vector(theta, params, names, model, what: str) -> np.ndarray:
    """A parameter vector given as a model, a state dict (name → array) or arrays shaped like
    params, flattened in the order of ``params`` in float64 and checked finite."""
    if isinstance(theta, Module):
        theta = {n: p.data for n, p in theta.named_parameters()}
    if isinstance(theta, Mapping):
        if names is None:
            raise TypeError(f"{what} is given by name (a dict or a model), but the parameters' names "
                            f"are unknown: pass the model (or model.parameters()) as params")
        missing = [n for n in names if n not in theta]
        buffers = {n for n, _ in model.named_buffers()} if model is not None else set()
        unexpected = [k for k in theta if k not in names and k not in buffers]
        if missing or unexpected:
            parts = (["missing keys: " + ", ".join(missing)] if missing else []) + \
                    (["unexpected keys: " + ", ".join(map(str, unexpected))] if unexpected else [])
            raise ValueError(f"{what}: " + "; ".join(parts))
        arrays = [theta[n] for n in names]
    elif isinstance(theta, (Tensor, np.ndarray)) and len(params) == 1:
        arrays = [theta]
    elif isinstance(theta, (list, tuple)):
        arrays = list(theta)
        if len(arrays) != len(params):
            raise ValueError(f"{what} has {len(arrays)} arrays but there are {len(params)} parameters")
    else:
        raise TypeError(f"{what} must be a model, a dict of arrays by parameter name, or a list of "
                        f"arrays shaped like params; got {type(theta).__name__}")
    checked = []
    for i, (a, p) in enumerate(zip(arrays, params)):
        a = np.asarray(a.data if isinstance(a, Tensor) else a)
        label = names[i] if names is not None else f"[{i}]"
        if a.shape != p.shape:
            raise ValueError(f"{what} {label} has shape {a.shape} but the parameter has shape {p.shape}")
        if a.dtype.kind not in "biuf":
            raise TypeError(f"{what} {label} must hold numbers; got dtype {a.dtype}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{what} {label} contains NaN or inf")
        checked.append(a)
    return flatten(checked).astype(np.float64, copy=False)


class _Evaluator:
    """Writes parameter vectors into ``params`` and evaluates ``loss_fn``; restores everything on exit."""

    def __init__(self, loss_fn: Callable, params: list[Tensor], model: Module | None, mode):
        if not callable(loss_fn):
            raise TypeError(f"loss_fn must be a function of no arguments; got {type(loss_fn).__name__}")
        check_choice("mode", mode, MODES)
        self.loss_fn, self.params, self.model, self.mode = loss_fn, params, model, mode

    def __enter__(self) -> "_Evaluator":
        self.saved = [p.data.copy() for p in self.params]
        self.modes = None if self.model is None else \
            self.model.mode(None if self.mode is None else self.mode == "train")
        if self.modes is not None:
            self.modes.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        for p, saved in zip(self.params, self.saved):
            np.copyto(p.data, saved)
        if self.modes is not None:
            self.modes.__exit__(*exc)

    def __call__(self, vector: np.ndarray) -> float:
        for p, part in zip(self.params, unflatten(vector, self.params)):
            np.copyto(p.data, part, casting="same_kind")
        with no_grad():
            if self.model is not None:
                with no_side_effects(self.model):
                    loss = self.loss_fn()
            else:
                loss = self.loss_fn()
        if isinstance(loss, Tensor):
            if loss.size != 1:
                raise ValueError(f"loss_fn must return a scalar; got a Tensor of shape {loss.shape}")
            return float(loss.data.reshape(()))
        if isinstance(loss, numbers.Real) or (isinstance(loss, np.ndarray) and loss.size == 1):
            return float(np.asarray(loss).reshape(()))
        raise TypeError(f"loss_fn must return a scalar Tensor; got {type(loss).__name__}")


def _grid(low: float, high: float, steps: int, must: Sequence[float]) -> np.ndarray:
    """``steps`` points evenly spaced on [low, high], with each value of ``must`` on the grid exactly:
    a grid point within rounding of it is snapped to it, otherwise it is inserted."""
    grid = np.linspace(low, high, steps)
    tol = 1e-9 * (high - low)
    extra = []
    for value in must:
        nearest = int(np.argmin(np.abs(grid - value)))
        if abs(grid[nearest] - value) <= tol:
            grid[nearest] = value
        else:
            extra.append(value)
    return np.union1d(grid, extra) if extra else grid


def _symmetric_grid(span: float, steps: int) -> np.ndarray:
    """``steps`` points evenly spaced on [−span, span], mirror-symmetric, with 0 exactly on it
    (the middle point for odd ``steps``; inserted for even ``steps``)."""
    half = (steps - 1) / 2
    grid = span * ((np.arange(steps) - half) / half)
    return grid if steps % 2 else np.union1d(grid, [0.0])


# --- the line ------------------------------------------------------------------------------------

@dataclass
class LineResult:
    """L(θ(α)) on a grid of α, θ(α) = (1 − α)θ_a + αθ_b; α = 0 and α = 1 are always on the grid.

    ``distance``: ‖θ_b − θ_a‖. ``loss_a``, ``loss_b``: the losses at the two ends. ``barrier``: the
    largest excess of the loss over the straight chord between the ends on [0, 1], (≤ 0 up to rounding
    for a convex loss). ``plot(path)``: a PNG (``plots.plot_line``).
    """

    alphas: np.ndarray
    losses: np.ndarray
    distance: float
    label_a: str = "θ_a"
    label_b: str = "θ_b"

    def _at(self, alpha: float) -> float:
        return float(self.losses[np.flatnonzero(self.alphas == alpha)[0]])

    @property
    def loss_a(self) -> float:
        return self._at(0.0)

    @property
    def loss_b(self) -> float:
        return self._at(1.0)

    @property
    def barrier(self) -> float:
        inside = (self.alphas >= 0.0) & (self.alphas <= 1.0)
        a = self.alphas[inside]
        chord = (1.0 - a) * self.loss_a + a * self.loss_b
        return float(np.max(self.losses[inside] - chord))

    def plot(self, path, **kwargs):
        """Write the curve to the PNG file ``path`` (see ``plot_line``); returns ``path``."""
        return plot_line(self, path, **kwargs)

    def __str__(self) -> str:
        best = int(np.nanargmin(self.losses)) if np.any(np.isfinite(self.losses)) else 0
        return (f"loss along the line {self.label_a} (α=0) → {self.label_b} (α=1), "
                f"‖θ_b − θ_a‖ = {self.distance:.4g}, {len(self.alphas)} points on "
                f"[{self.alphas[0]:g}, {self.alphas[-1]:g}]\n"
                f"  L({self.label_a}) = {self.loss_a:.6g}, L({self.label_b}) = {self.loss_b:.6g}, "
                f"lowest {self.losses[best]:.6g} at α = {self.alphas[best]:.3g}, "
                f"barrier above the chord {self.barrier:.4g}")


def loss_along_line(loss_fn: Callable[[], Tensor], params, theta_a, theta_b, steps: int = 51,
                    extend: float = 0.25, *, model: Module | None = None, mode="eval",
                    labels: tuple[str, str] = ("θ_a", "θ_b")) -> LineResult:
    """The loss on the line θ(α) = (1 − α)θ_a + αθ_b for α from −extend to 1 + extend.

    ``theta_a``, ``theta_b``: parameter vectors, each a list of arrays shaped like ``params``, a
    state dict (dotted name → array; buffers such as batch-norm running statistics are not
    interpolated — they stay as they are in the model — and other extra keys are an error), or a
    model with the same parameter names. ``steps`` points are evenly spaced on [−extend, 1 + extend]
    and α = 0 and α = 1 are always among them (a grid point within rounding is snapped to them,
    otherwise they are added), so ``loss_a`` is exactly L(θ_a) and ``loss_b`` exactly L(θ_b).
    The parameters are restored bit for bit afterwards. ``labels`` name the ends in ``str`` and plots.

    Example::

        init = model.state_dict()
        trainer.fit(X, y, epochs=50)
        line = loss_along_line(lambda: F.cross_entropy(model(X), y), model, init, model,
                               labels=("init", "trained"))
        line.loss_a, line.loss_b, line.barrier
        # two equivalent minima: θ and its permuted twin — a bump between them
        twin = rv.diagnose.symmetry.permute_hidden_units(model, 0, [1, 0, 2, 3, 4, 5])
        loss_along_line(loss_fn, model, model, twin).barrier   # > 0: not convex
    """
    params, names, model = _resolve(params, model)
    steps = check_int("steps", steps, minimum=2, owner="loss_along_line")
    extend = check_number("extend", extend, low=0.0, owner="loss_along_line")
    a = _as_vector(theta_a, params, names, model, "theta_a")
    b = _as_vector(theta_b, params, names, model, "theta_b")
    alphas = _grid(-extend, 1.0 + extend, steps, must=(0.0, 1.0))
    losses = np.empty(len(alphas))
    with _Evaluator(loss_fn, params, model, mode) as evaluate:
        for i, alpha in enumerate(alphas):
            losses[i] = evaluate((1.0 - alpha) * a + alpha * b)  # exactly a at 0 and b at 1
    return LineResult(alphas=alphas, losses=losses, distance=float(np.linalg.norm(b - a)),
                      label_a=str(labels[0]), label_b=str(labels[1]))


# --- the plane -----------------------------------------------------------------------------------

@dataclass
class SurfaceResult:
    """f(α, β) = L(θ + αδ + βη): ``losses[i, j]`` is the loss at (``alphas[i]``, ``betas[j]``).

    ``directions``: (δ, η), each a list of float64 arrays shaped like the parameters.
    ``center_loss``: f(0, 0) = L(θ) (0 is always on both grids). ``plot(path, kind=...)``: a PNG.
    """

    alphas: np.ndarray
    betas: np.ndarray
    losses: np.ndarray
    directions: tuple = field(repr=False, default=())
    filter_normalized: bool = True
    one_dim: str = "zero"

    @property
    def center_loss(self) -> float:
        i = np.flatnonzero(self.alphas == 0.0)[0]
        j = np.flatnonzero(self.betas == 0.0)[0]
        return float(self.losses[i, j])

    def plot(self, path, **kwargs):
        """Write the slice to the PNG file ``path`` (see ``plot_surface``); returns ``path``."""
        return plot_surface(self, path, **kwargs)

    def __str__(self) -> str:
        finite = self.losses[np.isfinite(self.losses)]
        low = f"{finite.min():.6g}" if finite.size else "nan"
        high = f"{finite.max():.6g}" if finite.size else "nan"
        how = "filter-normalized" if self.filter_normalized else "given/raw"
        return (f"loss on a 2-D slice θ + αδ + βη ({how} directions), "
                f"{len(self.alphas)}×{len(self.betas)} grid on α ∈ [{self.alphas[0]:g}, "
                f"{self.alphas[-1]:g}], β ∈ [{self.betas[0]:g}, {self.betas[-1]:g}]\n"
                f"  L(θ) = {self.center_loss:.6g}; over the slice from {low} to {high}")


def loss_surface_2d(loss_fn: Callable[[], Tensor], params, directions=None, span: float = 1.0,
                    steps: int = 21, seed=0, *, filter_normalize: bool = True, one_dim: str = "zero",
                    model: Module | None = None, mode="eval") -> SurfaceResult:
    """The loss on the plane θ + αδ + βη through the current parameters θ, α, β ∈ [−span, span].

    ``directions``: None (default) draws two random directions from ``seed``, filter-normalized
    (``random_directions(params, seed, filter_normalize, one_dim=one_dim)``: each row of each weight
    matrix rescaled to the norm of the same row of θ, 1-D parameters zeroed by default); or a pair
    (δ, η), each a list of arrays shaped like ``params`` or a dict by parameter name, used as given
    (apply ``normalize_filters`` first to normalize your own). ``steps`` points per axis, evenly
    spaced and mirror-symmetric, with 0 exactly on the grid (added if ``steps`` is even), so
    ``center_loss`` is exactly L(θ). The parameters are restored bit for bit afterwards.
    Costs len(alphas)·len(betas) loss evaluations.

    Example::

        surface = loss_surface_2d(lambda: F.cross_entropy(model(X), y), model, steps=31, seed=0)
        surface.losses.shape, surface.center_loss
        surface.plot("slice.png", kind="contour")
    """
    params, names, model = _resolve(params, model)
    steps = check_int("steps", steps, minimum=2, owner="loss_surface_2d")
    span = check_positive("span", span, owner="loss_surface_2d")
    if directions is None:
        directions = random_directions(params, seed, filter_normalize, count=2, one_dim=one_dim)
        normalized = bool(filter_normalize)
    else:
        if isinstance(directions, Mapping) or len(directions) != 2:
            raise ValueError("directions must be a pair (δ, η) of parameter-shaped directions")
        normalized = False
    delta = _as_vector(directions[0], params, names, model, "directions[0]")
    eta = _as_vector(directions[1], params, names, model, "directions[1]")
    theta = flatten(params).astype(np.float64)
    alphas, betas = _symmetric_grid(span, steps), _symmetric_grid(span, steps)
    losses = np.empty((len(alphas), len(betas)))
    with _Evaluator(loss_fn, params, model, mode) as evaluate:
        for i, alpha in enumerate(alphas):
            moved = theta + alpha * delta  # θ + 0·δ + 0·η is θ exactly
            for j, beta in enumerate(betas):
                losses[i, j] = evaluate(moved + beta * eta)
    kept = tuple([np.array(part) for part in unflatten(v, params)] for v in (delta, eta))
    return SurfaceResult(alphas=alphas, betas=betas, losses=losses, directions=kept,
                         filter_normalized=normalized, one_dim=one_dim)


__all__ = ["loss_along_line", "loss_surface_2d", "random_directions", "normalize_filters",
           "LineResult", "SurfaceResult", "plot_line", "plot_surface"]
