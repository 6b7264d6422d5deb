"""The Hessian's spectrum without the Hessian: extreme eigenvalues by Lanczos, the trace by Hutchinson.

Both work from exact Hessian-vector products (double backprop, ``autodiff.second_order``), and
record the gradient graph g(θ) = ∇L(θ) only once: every product H v = ∇_θ ⟨g, v⟩ differentiates
that same graph again. The n×n Hessian of n parameters is never formed (except, on purpose, for
nets so small that Lanczos has nothing to gain: see ``hessian_eigs``).

**Extreme eigenvalues.** H is symmetric, so it has real eigenvalues λ₁ ≤ … ≤ λₙ and orthonormal
eigenvectors. Lanczos builds the Krylov space span{v₀, Hv₀, H²v₀, …} from one start vector, and the
eigenvalues of H restricted to it (Ritz values) converge first to the extremes of the spectrum:
λ₁ (the most negative curvature — a saddle's escape direction) and λₙ (the sharpest direction,
which bounds the stable learning rate of gradient descent, ε < 2/λₙ). ARPACK's implicitly
restarted Lanczos (``scipy.sparse.linalg.eigsh``) runs it on a ``LinearOperator`` whose matvec is
one HVP; a few dozen to a few hundred products give eigenvalues to machine precision.

**Trace.** For a random vector v with E[v vᵀ] = I, E[vᵀHv] = tr(H E[v vᵀ]) = tr H (Hutchinson,
1989). With Rademacher entries (±1 with probability ½) the variance of one sample is the smallest
among such vectors, Var(vᵀHv) = 2 Σ_{i≠j} H_ij², so the mean of N samples has standard error
√(Var/N): it shrinks like 1/√N.

Example::

    loss_fn = lambda: F.cross_entropy(model(x), y)
    lowest, highest = hessian_eigs(loss_fn, model.parameters(), k=3)
    trace, stderr = hutchinson_trace(loss_fn, model.parameters(), samples=200)
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from typing import Callable, NamedTuple, Sequence

import numpy as np
from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, LinearOperator, eigsh

from .._checks import check_choice, check_int, check_number, check_optional, check_seed
from .._random import as_generator
from ..autodiff.second_order import (_checked_params, flatten, gradient_graph, hvp_from_gradient,
                                     num_parameters, unflatten)
from ..autodiff.tensor import Tensor
from ..nn.side_effects import no_side_effects

#: The dense path (n HVPs on the identity, then ``numpy.linalg.eigh``) refuses more parameters.
DENSE_MAX_SIZE = 3000


def _side_effect_guard(model):
    return nullcontext() if model is None else no_side_effects(model)


def hessian_operator(grads: Sequence[Tensor], params: Sequence[Tensor]) -> LinearOperator:
    """The Hessian as a float64 ``LinearOperator`` on the flattened parameters: matvec = one exact HVP.

    ``grads`` is a gradient recorded with ``create_graph=True`` (``gradient_graph``); every matvec
    differentiates that graph again, so the loss is evaluated only once. Vectors are cast to the
    parameters' dtype for the product and the result back to float64 (ARPACK's working precision).
    ``operator.matvecs`` counts the products made.
    """
    params = list(params)
    n = num_parameters(params)
    dtype = params[0].dtype

    def matvec(v):
        operator.matvecs += 1
        parts = unflatten(np.asarray(v, dtype=dtype).reshape(-1), params)
        return flatten(hvp_from_gradient(grads, params, parts)).astype(np.float64)

    operator = LinearOperator((n, n), matvec=matvec, rmatvec=matvec, dtype=np.float64)
    operator.matvecs = 0
    return operator


def _dense_eigh(operator: LinearOperator, n: int):
    """Every eigenpair, from H built column by column as H eⱼ (n HVPs), symmetrized."""
    if n > DENSE_MAX_SIZE:
        raise ValueError(f"hessian_eigs: method='dense' would form the {n}×{n} Hessian; the limit is "
                         f"{DENSE_MAX_SIZE} parameters: use method='lanczos'")
    H = np.empty((n, n))
    basis = np.zeros(n)
    for j in range(n):
        basis[j] = 1.0
        H[:, j] = operator.matvec(basis)
        basis[j] = 0.0
    # Double backprop gives a symmetric H only up to rounding; eigh reads one triangle, so average.
    return np.linalg.eigh(0.5 * (H + H.T))


def _default_tol(tol, dtype: np.dtype) -> float:
    if tol != 0:
        return float(tol)
    # HVPs of a float32 net carry float32 rounding: asking ARPACK for float64 precision would only
    # chase that noise (and take twice the products). Ask for ~10× float32's precision instead.
    return 0.0 if dtype == np.float64 else 1e-6


def hessian_eigs_from_gradient(grads: Sequence[Tensor], params, k: int = 3, tol: float = 0,
                               seed=0, maxiter: int | None = None, return_vectors: bool = False,
                               method: str = "auto"):
    """``hessian_eigs`` on an already recorded gradient graph (see ``gradient_graph``)."""
    owner = "hessian_eigs"
    params = _checked_params(params)
    k = check_int("k", k, minimum=1, owner=owner)
    maxiter = check_optional(check_int, "maxiter", maxiter, minimum=1, owner=owner)
    tol = check_number("tol", tol, low=0.0, owner=owner, hint="0: machine precision")
    method = check_choice("method", method, ("auto", "lanczos", "dense"), owner=owner)
    # no None: a spectrum is reproducible unless asked otherwise (pass a Generator for fresh draws)
    rng = as_generator(check_seed("seed", seed, owner=owner, allow_none=False))
    n = num_parameters(params)
    operator = hessian_operator(grads, params)
    v0 = rng.standard_normal(n)

    if method == "auto":
        method = "dense" if 2 * k >= n else "lanczos"
    if method == "lanczos" and 2 * k >= n:
        raise ValueError(f"{owner}: Lanczos needs 2k < n; got k={k} with n={n} parameters "
                         f"(use method='auto' or 'dense')")

    if not np.any(operator.matvec(v0)):
        # H v₀ = 0 for a random v₀ means H = 0 (almost surely): a linear loss, or a plateau whose
        # curvature underflowed. Lanczos would break down on its first step; the answer is known.
        vectors = np.eye(n, min(n, 2 * k))
        values = np.zeros(vectors.shape[1])
    elif method == "dense":
        values, vectors = _dense_eigh(operator, n)
    else:
        try:
            values, vectors = eigsh(operator, k=2 * k, which="BE", v0=v0, tol=_default_tol(tol, params[0].dtype),
                                    maxiter=maxiter, return_eigenvectors=True)
        except ArpackNoConvergence as error:
            raise RuntimeError(
                f"{owner}: Lanczos did not converge for k={k} on {n} parameters after "
                f"{operator.matvecs} Hessian-vector products ({len(error.eigenvalues)} of {2 * k} "
                f"eigenvalues converged); raise maxiter, loosen tol, or lower k") from error
        except ArpackError as error:  # pragma: no cover - ARPACK internals
            raise RuntimeError(f"{owner}: ARPACK failed on {n} parameters: {error}") from error
        order = np.argsort(values)
        values, vectors = values[order], vectors[:, order]

    m = min(k, len(values))
    lowest, highest = values[:m].astype(np.float64), values[len(values) - m:].astype(np.float64)
    if not return_vectors:
        return lowest, highest
    return lowest, highest, vectors[:, :m].copy(), vectors[:, len(values) - m:].copy()


def hessian_eigs(loss_fn: Callable[[], Tensor], params, k: int = 3, tol: float = 0, seed=0,
                 maxiter: int | None = None, return_vectors: bool = False, method: str = "auto",
                 model=None):
    """The k smallest and k largest eigenvalues of the Hessian of ``loss_fn`` at ``params``.

    Returns ``(lowest, highest)``: two ascending float64 arrays, ``lowest`` = (λ₁, …, λ_k) and
    ``highest`` = (λ_{n−k+1}, …, λₙ) of the n×n Hessian H of the flattened parameters (each in
    row-major order, in the order given). With ``return_vectors=True`` it returns
    ``(lowest, highest, lowest_vectors, highest_vectors)``, where column j of each (n, k) array is
    a unit eigenvector: H v_j = λ_j v_j (``autodiff.second_order.unflatten`` splits one per
    parameter). Eigenvectors are defined up to sign (and, for a repeated eigenvalue, up to a
    rotation inside its eigenspace).

    Method: implicitly restarted Lanczos (ARPACK ``eigsh``, ``which="BE"``: 2k eigenvalues, half
    from each end of the spectrum) on a ``LinearOperator`` whose matvec is one exact
    Hessian-vector product of one recorded gradient graph — ``loss_fn`` runs once, the Hessian is
    never formed. Small nets are the exception: when 2k ≥ n, both ends overlap and Lanczos cannot
    run (it needs 2k < n), so H is built from n HVPs on the identity columns and fully diagonalized
    (``method="auto"``; force either path with ``method="lanczos"`` or ``"dense"``). Then each
    array holds min(k, n) eigenvalues: with k ≥ n, both hold the whole spectrum.

    ``tol``: ARPACK's relative accuracy of the eigenvalues (0: machine precision; for float32
    parameters, whose products carry float32 rounding, 0 means 1e-6). ``seed`` (int or Generator)
    draws the start vector v₀ ~ N(0, I): same seed, same result. ``maxiter``: the cap on Lanczos
    restarts (ARPACK's default, 10n, when None); not converging raises a RuntimeError. If H v₀ = 0
    the Hessian is zero (a linear loss, or curvature that underflowed): all eigenvalues are 0.

    ``loss_fn`` takes no arguments and returns the scalar loss computed from ``params``; measuring
    must not change the model, so it should be free of side effects — or pass ``model=`` and it runs
    inside ``rv.nn.no_side_effects(model)`` (batch-norm statistics and dropout generators restored).

    Example::

        lowest, highest = hessian_eigs(lambda: F.cross_entropy(model(x), y), model.parameters())
        lowest[0] < 0          # negative curvature: not a minimum
        2 / highest[-1]        # the largest stable learning rate of gradient descent here
    """
    params = _checked_params(params)
    with _side_effect_guard(model):
        _, grads = gradient_graph(loss_fn, params)
    return hessian_eigs_from_gradient(grads, params, k=k, tol=tol, seed=seed, maxiter=maxiter,
                                      return_vectors=return_vectors, method=method)


class TraceEstimate(NamedTuple):
    """``(trace, stderr)`` of a Hutchinson estimate (a tuple: ``trace, stderr = estimate``)."""

    trace: float
    stderr: float
    samples: int


def hutchinson_trace(loss_fn: Callable[[], Tensor], params, samples: int = 100, seed=0,
                     model=None) -> TraceEstimate:
    """Estimate tr H = Σᵢ ∂²L/∂θᵢ² from ``samples`` Hessian-vector products, with its standard error.

    Hutchinson's estimator: for v with independent Rademacher entries (±1, each with probability ½),
    E[vvᵀ] = I, so E[vᵀHv] = tr H. The estimate is the mean of zᵢ = vᵢᵀHvᵢ over N = ``samples``
    draws; its standard error is s/√N with s the sample standard deviation of the zᵢ (the true one
    is √(2 Σ_{i≠j} H_ij² / N): exact for a diagonal H, and shrinking like 1/√N). One gradient graph
    is recorded and differentiated N times. Returns ``TraceEstimate(trace, stderr, samples)``.
    ``seed`` (int or Generator) draws the vectors; ``model=``: as in ``hessian_eigs``.

    Example::

        trace, stderr = hutchinson_trace(lambda: F.mse_loss(model(x), y), model.parameters(), 200)
    """
    params = _checked_params(params)
    samples = check_int("samples", samples, minimum=2, owner="hutchinson_trace",
                        hint="two at least, for a standard error")
    rng = as_generator(check_seed("seed", seed, owner="hutchinson_trace", allow_none=False))
    with _side_effect_guard(model):
        _, grads = gradient_graph(loss_fn, params)
    n = num_parameters(params)
    dtype = params[0].dtype
    values = np.empty(samples)
    for i in range(samples):
        v = rng.integers(0, 2, size=n).astype(np.float64) * 2.0 - 1.0
        Hv = flatten(hvp_from_gradient(grads, params, unflatten(v.astype(dtype), params)))
        values[i] = float(np.dot(v, Hv.astype(np.float64)))
    return TraceEstimate(float(values.mean()), float(values.std(ddof=1) / math.sqrt(samples)), samples)


__all__ = ["hessian_eigs", "hessian_eigs_from_gradient", "hessian_operator", "hutchinson_trace",
           "TraceEstimate"]
