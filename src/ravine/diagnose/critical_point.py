"""Where is the optimizer? ``diagnose_point`` tells a minimum from a saddle, a plateau or a slope.

At parameters θ with gradient g = ∇L(θ) and Hessian H = ∇²L(θ), the second-order Taylor model is

    L(θ + d) ≈ L(θ) + gᵀd + ½ dᵀHd.

A critical point has g = 0; what it is then depends on the signs of H's eigenvalues λ₁ ≤ … ≤ λₙ:

- all λᵢ > 0: a strict **minimum** — every direction curves up (λᵢ = 0 allowed: flat directions,
  as the permutation and scaling symmetries of a net create, make it a degenerate minimum);
- λ₁ < 0 < λₙ: a **saddle** — along the eigenvector u₁ of λ₁ the loss falls as ½λ₁t², although the
  gradient is zero; in high dimension most critical points with a high loss are saddles (Dauphin
  et al., 2014), and gradient descent slows down near them;
- all λᵢ < 0: a **maximum** (rare in practice);
- g ≈ 0 *and* H ≈ 0: a **plateau** — no slope and no curvature to follow, as for saturated sigmoid
  units, whose derivatives σ'(a) ≈ e^{−|a|} vanish: training seems stuck though nothing is solved.

Only the extreme eigenvalues λ₁ and λₙ decide the signs, and Lanczos (``hessian_eigs``) finds those
first, from Hessian-vector products: the diagnosis works for nets whose Hessian cannot be stored.

Example::

    report = diagnose_point(lambda: F.cross_entropy(model(x), y), model.parameters(), model=model)
    report.verdict                # 'minimum', 'saddle', 'maximum', 'plateau' or 'not critical'
    print(report)                 # a table: loss, ‖g‖, extreme eigenvalues, verdict
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .._checks import check_positive
from ..autodiff.second_order import _checked_params, gradient_graph, num_parameters, unflatten
from ..autodiff.tensor import Tensor
from .spectrum import _side_effect_guard, hessian_eigs_from_gradient

VERDICTS = ("minimum", "saddle", "maximum", "plateau", "not critical")

_EXPLANATIONS = {
    "minimum": "no eigenvalue below −tolerance: every direction curves up (or is flat)",
    "saddle": "eigenvalues of both signs: the loss falls along the most negative direction",
    "maximum": "no eigenvalue above +tolerance: every direction curves down (or is flat)",
    "plateau": "gradient and curvature both below tolerance: nothing to follow",
    "not critical": "the gradient is above tolerance: the loss still slopes here",
}


@dataclass
class PointReport:
    """What ``diagnose_point`` found at one point of parameter space.

    ``loss``: L(θ). ``grad_norm``: ‖∇L(θ)‖₂. ``lowest`` / ``highest``: the k smallest / largest
    Hessian eigenvalues, ascending. ``verdict``: one of ``VERDICTS``. ``most_negative``: λ₁ when
    λ₁ < −``curvature_threshold`` (else None), and ``negative_direction`` its unit eigenvector split
    per parameter like ``params`` (sign fixed so that its largest-magnitude entry is positive).
    ``grad_threshold`` / ``curvature_threshold``: the tolerances as applied (see ``diagnose_point``).
    ``names``: a label per parameter (dotted names when ``model=`` was given).
    """

    loss: float
    grad_norm: float
    lowest: np.ndarray
    highest: np.ndarray
    verdict: str
    most_negative: float | None = None
    negative_direction: list[np.ndarray] | None = None
    num_parameters: int = 0
    grad_threshold: float = math.nan
    curvature_threshold: float = math.nan
    names: list[str] = field(default_factory=list)

    @property
    def explanation(self) -> str:
        """One line saying why the verdict is what it is."""
        return _EXPLANATIONS[self.verdict]

    def to_dict(self) -> dict:
        """Plain JSON-ready values (the negative direction as nested lists)."""
        return {
            "verdict": self.verdict, "loss": self.loss, "grad_norm": self.grad_norm,
            "lowest": [float(v) for v in self.lowest], "highest": [float(v) for v in self.highest],
            "most_negative": self.most_negative,
            "negative_direction": None if self.negative_direction is None else
            {name: d.tolist() for name, d in zip(self.names, self.negative_direction)},
            "num_parameters": self.num_parameters, "grad_threshold": self.grad_threshold,
            "curvature_threshold": self.curvature_threshold,
        }

    def __str__(self) -> str:
        def fmt(x: float) -> str:
            return f"{x + 0.0:.6g}"  # + 0.0: print −0 as 0

        def row(label: str, value: str, note: str = "") -> str:
            return f"  {label:<26}{value:<30} {note}".rstrip()

        lines = [f"point: {self.verdict} — {self.explanation}", ""]
        lines.append(row("parameters", str(self.num_parameters)))
        lines.append(row("loss", fmt(self.loss)))
        lines.append(row("gradient norm ‖g‖", fmt(self.grad_norm), f"tolerance {self.grad_threshold:.3g}"))
        lines.append(row("lowest eigenvalues", "  ".join(fmt(v) for v in self.lowest),
                         f"tolerance ±{self.curvature_threshold:.3g}"))
        lines.append(row("highest eigenvalues", "  ".join(fmt(v) for v in self.highest)))
        top = float(self.highest[-1]) if len(self.highest) else math.nan
        bottom = float(self.lowest[0]) if len(self.lowest) else math.nan
        if bottom > self.curvature_threshold and top > 0:
            lines.append(row("condition number λₙ/λ₁", fmt(top / bottom)))
        if top > self.curvature_threshold:
            lines.append(row("stable rate 2/λₙ", fmt(2.0 / top), "gradient descent diverges above it"))
        if self.most_negative is not None:
            lines.append(row("most negative eigenvalue", fmt(self.most_negative)))
            lines += ["", "  negative direction (unit eigenvector), by parameter:",
                      f"  {'parameter':<26}{'share ‖d_p‖²':<16}largest |entry|"]
            for name, d in zip(self.names, self.negative_direction):
                share = float(np.sum(np.square(d, dtype=np.float64)))
                largest = float(np.max(np.abs(d))) if d.size else 0.0
                lines.append(f"  {name:<26}{share:<16.4f}{largest:.4g}")
        return "\n".join(lines)


def _parameter_names(params, model) -> list[str]:
    names = {}
    if model is not None:
        names = {id(p): name for name, p in model.named_parameters()}
    return [names.get(id(p), f"params[{i}]") for i, p in enumerate(params)]


def diagnose_point(loss_fn: Callable[[], Tensor], params, k: int = 3, grad_tol: float = 1e-5,
                   curvature_tol: float = 1e-5, seed=0, model=None, tol: float = 0,
                   maxiter: int | None = None) -> PointReport:
    """Classify the point ``params`` of ``loss_fn``: minimum, saddle, maximum, plateau or not critical.

    Computes L, g = ∇L and the k lowest and k highest eigenvalues of H (``hessian_eigs``: Lanczos
    on exact Hessian-vector products, all from one recorded gradient graph — ``loss_fn`` runs once).
    With λ₁ the lowest and λₙ the highest eigenvalue, and the tolerances as applied

        τ_g = grad_tol · max(1, |L|),        τ_c = curvature_tol · max(1, max(|λ₁|, |λₙ|)),

    (absolute for losses and curvatures of order one or less, relative to their scale above it, so
    that rescaling the loss by a large factor does not change the verdict; a loss carrying a large
    constant offset loosens τ_g, so lower ``grad_tol`` there), the verdict is, in order:

    1. ``"plateau"`` if ‖g‖ ≤ τ_g and max(|λ₁|, |λₙ|) ≤ τ_c (no slope, no curvature);
    2. ``"not critical"`` if ‖g‖ > τ_g;
    3. ``"minimum"`` if λ₁ ≥ −τ_c (positive semidefinite within tolerance; flat directions allowed);
    4. ``"maximum"`` if λₙ ≤ τ_c (negative semidefinite within tolerance: every eigenvalue below +τ_c
       and, since not a plateau, some below −τ_c — e.g. every eigenvalue below −τ_c);
    5. ``"saddle"`` otherwise (λ₁ < −τ_c and λₙ > τ_c); ``most_negative`` = λ₁ and
       ``negative_direction`` = its unit eigenvector u₁ per parameter: L(θ + tu₁) ≈ L(θ) + ½λ₁t².

    ``most_negative`` and ``negative_direction`` are filled whenever λ₁ < −τ_c (also at a slope with
    negative curvature, or a maximum). ``seed``, ``tol``, ``maxiter``: as in ``hessian_eigs``.

    Measuring must not change the model: ``loss_fn`` should be free of side effects — batch norm in
    training mode updates its running statistics and dropout advances its generator. Pass
    ``model=`` to run it inside ``rv.nn.no_side_effects(model)`` (and to name the parameters in the
    report). The point is the function ``loss_fn`` computes: call ``model.eval()`` first to diagnose
    the deterministic loss rather than one dropout mask's.

    Example::

        x, y = rv.Tensor(0.0, requires_grad=True), rv.Tensor(0.0, requires_grad=True)
        report = diagnose_point(lambda: x * x - y * y, [x, y])
        report.verdict, report.lowest, report.highest      # 'saddle', [-2, 2], [-2, 2]
        report.negative_direction                          # [array(0.), array(1.)]
    """
    params = _checked_params(params)
    grad_tol = check_positive("grad_tol", grad_tol, owner="diagnose_point")
    curvature_tol = check_positive("curvature_tol", curvature_tol, owner="diagnose_point")
    with _side_effect_guard(model):
        loss, grads = gradient_graph(loss_fn, params)
    loss_value = float(loss.item())
    grad_norm = math.sqrt(sum(float(np.sum(np.square(g.data, dtype=np.float64))) for g in grads))
    lowest, highest, low_vectors, _ = hessian_eigs_from_gradient(
        grads, params, k=k, tol=tol, seed=seed, maxiter=maxiter, return_vectors=True)

    bottom, top = float(lowest[0]), float(highest[-1])
    scale = max(abs(bottom), abs(top))
    grad_threshold = grad_tol * max(1.0, abs(loss_value))
    curvature_threshold = curvature_tol * max(1.0, scale)
    if grad_norm <= grad_threshold and scale <= curvature_threshold:
        verdict = "plateau"
    elif not grad_norm <= grad_threshold:  # NaN gradients are not critical points either
        verdict = "not critical"
    elif bottom >= -curvature_threshold:
        verdict = "minimum"
    elif top <= curvature_threshold:
        verdict = "maximum"
    else:
        verdict = "saddle"

    most_negative = direction = None
    if bottom < -curvature_threshold:
        most_negative = bottom
        u = low_vectors[:, 0].astype(np.float64)
        u = u / np.linalg.norm(u)
        if u[np.argmax(np.abs(u))] < 0:
            u = -u
        direction = unflatten(u, params)
    return PointReport(loss=loss_value, grad_norm=grad_norm, lowest=lowest, highest=highest,
                       verdict=verdict, most_negative=most_negative, negative_direction=direction,
                       num_parameters=num_parameters(params), grad_threshold=grad_threshold,
                       curvature_threshold=curvature_threshold, names=_parameter_names(params, model))


__all__ = ["diagnose_point", "PointReport", "VERDICTS"]
