"""Checking an op's first and second derivatives against finite differences, and drawing its inputs.

A ``Case`` is a function of Tensors with its input arrays; ``check(case)`` runs both checks:

* first order: compares ∂L/∂x from ``rv.grad`` with central differences (L(x+εeᵢ) − L(x−εeᵢ)) / 2ε,
  entry by entry, for every input that requires grad;
* second order: compares the Hessian-vector product by double backprop,
  ∇ₓ [Σ v · grad(L, x, create_graph=True)], with central differences of the first gradient along v,
  (∇L(x+εv) − ∇L(x−εv)) / 2ε (= Hv, the Hessian being symmetric).

The head is L(x) = Σ w·f(x) + ½ Σ u·f(x)², with fixed random w and u. The quadratic term makes the
gradient arriving at the op (w + u·f) depend on x, so the second-order check also proves that each
recorded bprop is differentiable in its incoming gradient g, not only in the op's inputs.

The strategies below draw shapes (Hypothesis) and values (from a drawn seed): values away from a kink
(``away_from_zero``), without ties (``distinct``), broadcastable shape pairs, axes, indices.

Example::

    from helpers.finite_differences import Case, check
    check(Case([np.ones((2, 3))], lambda t: t[0].tanh(), label="tanh"))
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ravine as rv


EPS = 1e-6
RTOL = 1e-6   # relative to the analytic value, entry by entry
ATOL = 1e-8   # relative to the magnitude of the sum the finite difference is taken of



@dataclass
class Case:
    """``fn`` maps Tensors (one per array of ``inputs``) to a Tensor; ``wrt``: inputs differentiated."""

    inputs: list
    fn: Callable
    wrt: tuple = None
    eps: float = EPS
    rtol: float = RTOL
    atol: float = ATOL
    label: str = ""
    seed: int = 0

    def __post_init__(self):
        self.inputs = [np.array(x, dtype=np.float64) for x in self.inputs]
        if self.wrt is None:
            self.wrt = tuple(range(len(self.inputs)))

    def __repr__(self):
        shapes = [x.shape for x in self.inputs]
        return f"Case({self.label}, shapes={shapes}, wrt={self.wrt}, seed={self.seed})"


# --- the checker ---------------------------------------------------------------------------------

def _tensors(case: Case, xs):
    return [rv.Tensor(x, requires_grad=(i in case.wrt)) for i, x in enumerate(xs)]


def _head_weights(case: Case):
    with rv.no_grad():
        out = case.fn([rv.Tensor(x) for x in case.inputs])
    assert isinstance(out, rv.Tensor), f"{case.label} did not return a Tensor"
    assert out.dtype == np.float64, f"{case.label}: float64 in, {out.dtype} out"
    rng = np.random.default_rng(case.seed + 1)
    w = rng.standard_normal(out.shape)
    u = rng.standard_normal(out.shape)
    return w, u


def _head(out, w, u):
    return (out * w).sum() + ((out * out) * u).sum() * 0.5


def _loss_value(case: Case, xs, w, u) -> tuple[float, float]:
    """L(x) computed in NumPy from f's value, and the magnitude of the terms it sums."""
    with rv.no_grad():
        y = case.fn([rv.Tensor(x) for x in xs]).data
    terms = w * y + 0.5 * u * y * y
    return float(np.sum(terms)), float(np.sum(np.abs(w * y)) + 0.5 * np.sum(np.abs(u * y * y)))


def _analytic_grads(case: Case, xs, w, u, create_graph=False):
    ts = _tensors(case, xs)
    out = case.fn(ts)
    loss = _head(out, w, u)
    wanted = [ts[i] for i in case.wrt]
    return ts, wanted, rv.grad(loss, wanted, create_graph=create_graph)


def _compare(what: str, case: Case, numeric, analytic, scale):
    for k, (num, ana) in enumerate(zip(numeric, analytic)):
        bound = case.atol * scale + case.rtol * np.abs(ana)
        excess = np.abs(num - ana) - bound
        if np.any(excess > 0):
            worst = np.unravel_index(int(np.argmax(excess)), excess.shape) if excess.ndim else ()
            raise AssertionError(
                f"{what} of {case!r}, input {case.wrt[k]}, entry {worst}: numeric {num[worst]!r} "
                f"vs analytic {ana[worst]!r} (bound {bound[worst]:.3g})\n"
                f"numeric:\n{num}\nanalytic:\n{ana}"
            )


def check_first_order(case: Case) -> None:
    """∂L/∂x by backprop equals central differences, entry by entry."""
    w, u = _head_weights(case)
    xs = [x.copy() for x in case.inputs]
    _, wanted, grads = _analytic_grads(case, xs, w, u)
    analytic = []
    for t, g in zip(wanted, grads):
        assert isinstance(g, rv.Tensor)
        assert g.shape == t.shape, f"{case!r}: gradient shape {g.shape} for input shape {t.shape}"
        assert g.dtype == t.dtype, f"{case!r}: gradient dtype {g.dtype} for input dtype {t.dtype}"
        analytic.append(np.array(g.data, dtype=np.float64))
    numeric, scale = [], 1.0
    for i in case.wrt:
        x = xs[i]
        num = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            orig = x[idx]
            x[idx] = orig + case.eps
            plus, mag_p = _loss_value(case, xs, w, u)
            x[idx] = orig - case.eps
            minus, mag_m = _loss_value(case, xs, w, u)
            x[idx] = orig
            num[idx] = (plus - minus) / (2 * case.eps)
            scale = max(scale, mag_p, mag_m)
        numeric.append(num)
    _compare("gradient", case, numeric, analytic, scale)


def check_second_order(case: Case) -> None:
    """Hv by double backprop equals central differences of the first gradient along v."""
    w, u = _head_weights(case)
    rng = np.random.default_rng(case.seed + 2)
    xs = [x.copy() for x in case.inputs]
    vs = [rng.standard_normal(xs[i].shape) for i in case.wrt]

    ts, wanted, grads = _analytic_grads(case, xs, w, u, create_graph=True)
    _, _, plain = _analytic_grads(case, xs, w, u)
    for g, p in zip(grads, plain):  # the recorded backward pass computes the same gradient
        np.testing.assert_allclose(g.data, p.data, rtol=1e-12, atol=1e-14)
    h = None
    for g, v in zip(grads, vs):
        term = (g * v).sum()
        h = term if h is None else h + term
    hv = rv.grad(h, wanted)
    analytic = []
    for t, g in zip(wanted, hv):
        assert g.shape == t.shape and g.dtype == t.dtype, f"{case!r}: HVP {g.shape} {g.dtype}"
        analytic.append(np.array(g.data, dtype=np.float64))

    def first_gradient(sign):
        moved = [x.copy() for x in xs]
        for i, v in zip(case.wrt, vs):
            moved[i] = moved[i] + sign * case.eps * v
        return [np.array(g.data) for g in _analytic_grads(case, moved, w, u)[2]]

    g_plus, g_minus = first_gradient(+1), first_gradient(-1)
    numeric = [(a - b) / (2 * case.eps) for a, b in zip(g_plus, g_minus)]
    scale = max(1.0, *(sum(float(np.sum(np.abs(v * g))) for v, g in zip(vs, gs))
                       for gs in (g_plus, g_minus)))
    _compare("Hessian-vector product", case, numeric, analytic, scale)


def check(case: Case) -> None:
    check_first_order(case)
    check_second_order(case)


# --- drawing values --------------------------------------------------------------------------------

SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
# Fixed broadcasting pairs the issue names, plus Hypothesis' mutually broadcastable shapes.
BROADCAST_PAIRS = st.one_of(
    st.sampled_from([((3, 1), (1, 4)), ((5,), (2, 5)), ((2, 5), (5,)), ((4, 1), (4,)), ((), (2, 3))]),
    hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4).map(
        lambda b: b.input_shapes),
)
SEEDS = st.integers(0, 2**32 - 1)


def uniform(rng, shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, size=shape)


def away_from_zero(rng, shape, lo=0.1, hi=2.0):
    """Entries with lo ≤ |x| ≤ hi: at least ``lo`` from the kink at 0."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(lo, hi, size=shape)


def distinct(rng, shape):
    """Entries at least 0.15 apart (no ties for max): a shuffled grid with a little noise."""
    n = int(np.prod(shape))
    grid = rng.permutation(n) * 0.25 - 0.125 * n
    return (grid + rng.uniform(-0.05, 0.05, size=n)).reshape(shape)


def wrt_subsets(n: int):
    """Which of n inputs require grad: all, or a non-empty subset (bprop skips the others)."""
    subsets = [s for r in range(1, n + 1) for s in itertools.combinations(range(n), r)]
    return st.sampled_from(subsets[::-1])  # all inputs first: Hypothesis shrinks towards it


def binary_case(draw, label, fn, values=uniform, values_b=None):
    sa, sb = draw(BROADCAST_PAIRS)
    seed = draw(SEEDS)
    rng = np.random.default_rng(seed)
    values_b = values_b or values
    return Case([values(rng, sa), values_b(rng, sb)], fn, wrt=draw(wrt_subsets(2)), label=label,
                seed=seed)


def unary_case(draw, label, fn, values=uniform, shapes=SHAPES):
    shape = draw(shapes)
    seed = draw(SEEDS)
    rng = np.random.default_rng(seed)
    return Case([values(rng, shape)], fn, label=label, seed=seed)


# --- shapes, axes and indices -------------------------------------------------------------------

MATMUL_SHAPES = st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)).flatmap(
    lambda mkn: st.sampled_from([
        ((mkn[0], mkn[1]), (mkn[1], mkn[2])),  # 2-D @ 2-D
        ((mkn[1],), (mkn[1], mkn[2])),         # 1-D @ 2-D
        ((mkn[0], mkn[1]), (mkn[1],)),         # 2-D @ 1-D
        ((mkn[1],), (mkn[1],)),                # 1-D @ 1-D: a scalar
    ]))


@st.composite
def axes_for(draw, ndim):
    """None, an int (maybe negative), or a tuple of distinct axes (maybe negative)."""
    if ndim == 0:
        return draw(st.sampled_from([None, ()]))
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if draw(st.booleans()) else a for a in chosen)


@st.composite
def same_size_shape(draw, shape):
    """Another shape with as many entries: dims shuffled, merged, padded with 1s, one maybe −1."""
    dims = list(shape)
    dims = draw(st.permutations(dims)) if dims else []
    if len(dims) >= 2 and draw(st.booleans()):
        dims = [dims[0] * dims[1]] + dims[2:]
    for _ in range(draw(st.integers(0, 2))):
        dims.insert(draw(st.integers(0, len(dims))), 1)
    if dims and draw(st.booleans()):
        dims[draw(st.integers(0, len(dims) - 1))] = -1
    return tuple(dims)


@st.composite
def indices_for(draw, shape, rng):
    """An index for an array of ``shape``: slices, ints, int arrays with repeats, boolean masks."""
    kind = draw(st.sampled_from(["slices", "int", "int_array", "list", "mask", "mask_rows", "mixed"]))
    if kind == "slices":
        parts = []
        for n in shape:
            start = draw(st.one_of(st.none(), st.integers(-n, n - 1)))
            stop = draw(st.one_of(st.none(), st.integers(-n, n)))
            step = draw(st.sampled_from([None, 1, 2, -1, -2]))
            parts.append(slice(start, stop, step))
        return tuple(parts)
    if kind == "int":
        return draw(st.integers(-shape[0], shape[0] - 1))
    if kind in ("int_array", "list"):
        idx = rng.integers(-shape[0], shape[0], size=draw(st.integers(1, 5)))
        idx = np.append(idx, idx[0])  # at least one repeat: its gradient must add up
        return idx.tolist() if kind == "list" else idx
    if kind == "mask":
        return rng.random(shape) < 0.6
    if kind == "mask_rows":
        return rng.random(shape[:1]) < 0.6
    # mixed: an integer array on one axis and a slice on another
    if len(shape) == 1:
        return (rng.integers(0, shape[0], size=4),)
    idx = rng.integers(0, shape[1], size=3)
    return (slice(None, None, -1), np.append(idx, idx[-1]))


@st.composite
def reduced_shape(draw, shape):
    """A shape that broadcasts to ``shape``: leading axes dropped, some of the others set to 1."""
    lead = draw(st.integers(0, len(shape)))
    return tuple(1 if draw(st.booleans()) else n for n in shape[lead:])
