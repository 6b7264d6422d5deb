"""Every primitive op against finite differences, first and second order (table-driven).

One row per op. Hypothesis draws the shapes (and a seed for the values), then the checker

* first order: compares ∂L/∂x from ``rv.grad`` with central differences (L(x+εeᵢ) − L(x−εeᵢ)) / 2ε,
  entry by entry, for every input that requires grad;
* second order: compares the Hessian-vector product by double backprop,
  ∇ₓ [Σ v · grad(L, x, create_graph=True)], with central differences of the first gradient along v,
  (∇L(x+εv) − ∇L(x−εv)) / 2ε (= Hv, the Hessian being symmetric).

The head is L(x) = Σ w·f(x) + ½ Σ u·f(x)², with fixed random w and u. The quadratic term makes the
gradient arriving at the op (w + u·f) depend on x, so the second-order check also proves that each
recorded bprop is differentiable in its incoming gradient g, not only in the op's inputs.

Values are placed away from kinks by construction (|x| ≥ 0.1 for abs/sign/relu, distinct entries for
max, a gap between the operands of maximum/minimum, positive inputs for log/sqrt/pow).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ravine as rv
from ravine import autodiff as ad
from ravine.nn import functional as F

EPS = 1e-6
RTOL = 1e-6   # relative to the analytic value, entry by entry
ATOL = 1e-8   # relative to the magnitude of the sum the finite difference is taken of
MAX_EXAMPLES = 40


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


# --- the table: one row per op ---------------------------------------------------------------------

ROWS: dict[str, Callable] = {}


def row(name):
    def register(fn):
        ROWS[name] = st.composite(fn)()
        return fn
    return register


@row("add")
def _add(draw):
    fn = draw(st.sampled_from([lambda t: t[0] + t[1], lambda t: ad.add(t[0], t[1])]))
    return binary_case(draw, "add", fn)


@row("sub")
def _sub(draw):
    fn = draw(st.sampled_from([lambda t: t[0] - t[1], lambda t: ad.sub(t[0], t[1])]))
    return binary_case(draw, "sub", fn)


@row("mul")
def _mul(draw):
    fn = draw(st.sampled_from([lambda t: t[0] * t[1], lambda t: ad.mul(t[0], t[1])]))
    return binary_case(draw, "mul", fn)


@row("div")
def _div(draw):
    fn = draw(st.sampled_from([lambda t: t[0] / t[1], lambda t: ad.div(t[0], t[1])]))
    return binary_case(draw, "div", fn, values_b=lambda r, s: away_from_zero(r, s, 0.5, 2.0))


@row("scalar_operands")
def _scalar_operands(draw):
    """A Tensor with Python numbers and constant arrays on either side (reflected operators)."""
    c = draw(st.sampled_from([1.5, -0.75, 2]))
    fn = draw(st.sampled_from([
        lambda t: c + t[0], lambda t: t[0] + c, lambda t: c - t[0], lambda t: t[0] - c,
        lambda t: c * t[0], lambda t: t[0] * c, lambda t: c / t[0], lambda t: t[0] / c,
        lambda t: np.full(t[0].shape, 0.5) * t[0] - t[0] * np.arange(t[0].size).reshape(t[0].shape),
    ]))
    return unary_case(draw, f"scalar_operands({c})", fn, values=lambda r, s: away_from_zero(r, s, 0.5))


@row("neg")
def _neg(draw):
    fn = draw(st.sampled_from([lambda t: -t[0], lambda t: ad.neg(t[0])]))
    return unary_case(draw, "neg", fn)


@row("pow_constant")
def _pow_constant(draw):
    p = draw(st.sampled_from([2, 3, -1, 2.0, 0.5, 1.5, -2.5, -2, 1]))
    values = (lambda r, s: uniform(r, s, 0.3, 2.0)) if p != int(p) else \
        (lambda r, s: away_from_zero(r, s, 0.3, 2.0))
    fn = draw(st.sampled_from([lambda t: t[0] ** p, lambda t: ad.power(t[0], p)]))
    return unary_case(draw, f"pow_constant({p!r})", fn, values=values)


@row("pow_tensor")
def _pow_tensor(draw):
    """aᵇ with a Tensor exponent (a > 0), broadcasting; and a constant base with a Tensor exponent."""
    if draw(st.booleans()):
        fn = draw(st.sampled_from([lambda t: t[0] ** t[1], lambda t: ad.power(t[0], t[1])]))
        return binary_case(draw, "pow_tensor", fn, values=lambda r, s: uniform(r, s, 0.3, 2.0))
    base = draw(st.sampled_from([2.0, 0.5, np.e]))
    return unary_case(draw, f"rpow({base})", lambda t: base ** t[0])


MATMUL_SHAPES = st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)).flatmap(
    lambda mkn: st.sampled_from([
        ((mkn[0], mkn[1]), (mkn[1], mkn[2])),  # 2-D @ 2-D
        ((mkn[1],), (mkn[1], mkn[2])),         # 1-D @ 2-D
        ((mkn[0], mkn[1]), (mkn[1],)),         # 2-D @ 1-D
        ((mkn[1],), (mkn[1],)),                # 1-D @ 1-D: a scalar
    ]))


@row("matmul")
def _matmul(draw):
    sa, sb = draw(MATMUL_SHAPES)
    seed = draw(SEEDS)
    rng = np.random.default_rng(seed)
    fn = draw(st.sampled_from([lambda t: t[0] @ t[1], lambda t: rv.matmul(t[0], t[1])]))
    return Case([uniform(rng, sa), uniform(rng, sb)], fn, wrt=draw(wrt_subsets(2)),
                label=f"matmul {sa}@{sb}", seed=seed)


@row("linear")
def _linear(draw):
    m, n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    seed = draw(SEEDS)
    rng = np.random.default_rng(seed)
    x, w, b = uniform(rng, (m, n_in)), uniform(rng, (n_out, n_in)), uniform(rng, (n_out,))
    fn_linear = draw(st.sampled_from([ad.linear, F.linear]))
    if draw(st.booleans()):
        return Case([x, w, b], lambda t: fn_linear(t[0], t[1], t[2]), wrt=draw(wrt_subsets(3)),
                    label="linear+bias", seed=seed)
    return Case([x, w], lambda t: fn_linear(t[0], t[1]), wrt=draw(wrt_subsets(2)),
                label="linear", seed=seed)


@row("dense")
def _dense(draw):
    """A layer and its activation in one box; relu points are kept away from the kink."""
    m, n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    activation = draw(st.sampled_from(["tanh", "sigmoid", "relu"]))
    seed = draw(SEEDS)
    rng = np.random.default_rng(seed)
    x, w, b = uniform(rng, (m, n_in)), uniform(rng, (n_out, n_in)), uniform(rng, (n_out,))
    if activation == "relu":  # pre-activations at least 0.05 from 0 (finite differences need no kink)
        a = x @ w.T + b
        b = b + np.where(np.abs(a) < 0.05, 0.1, 0.0).max(axis=0)
        assume(np.all(np.abs(x @ w.T + b) > 0.05))
    if draw(st.booleans()):
        return Case([x, w, b], lambda t: ad.dense(t[0], t[1], t[2], activation), wrt=draw(wrt_subsets(3)),
                    label=f"dense+bias({activation})", seed=seed)
    if activation == "relu":
        assume(np.all(np.abs(x @ w.T) > 0.05))
    return Case([x, w], lambda t: ad.dense(t[0], t[1], None, activation), wrt=draw(wrt_subsets(2)),
                label=f"dense({activation})", seed=seed)


@row("exp")
def _exp(draw):
    fn = draw(st.sampled_from([lambda t: t[0].exp(), lambda t: rv.exp(t[0])]))
    return unary_case(draw, "exp", fn)


@row("log")
def _log(draw):
    fn = draw(st.sampled_from([lambda t: t[0].log(), lambda t: rv.log(t[0])]))
    return unary_case(draw, "log", fn, values=lambda r, s: uniform(r, s, 0.2, 3.0))


@row("sqrt")
def _sqrt(draw):
    fn = draw(st.sampled_from([lambda t: t[0].sqrt(), lambda t: rv.sqrt(t[0])]))
    return unary_case(draw, "sqrt", fn, values=lambda r, s: uniform(r, s, 0.2, 3.0))


@row("abs")
def _abs(draw):
    fn = draw(st.sampled_from([lambda t: t[0].abs(), lambda t: rv.abs(t[0]), lambda t: abs(t[0])]))
    return unary_case(draw, "abs", fn, values=away_from_zero)


@row("sign")
def _sign(draw):
    fn = draw(st.sampled_from([
        lambda t: t[0].sign() * t[0],            # |x| written with sign: the gradient is sign(x)
        lambda t: rv.sign(t[0]) + t[0] * t[0],   # sign's own derivative is 0
    ]))
    return unary_case(draw, "sign", fn, values=away_from_zero)


def _grid_pair(draw):
    """Two broadcastable operands whose entries differ by at least 0.1 everywhere (no ties)."""
    sa, sb = draw(BROADCAST_PAIRS)
    seed = draw(SEEDS)
    rng = np.random.default_rng(seed)
    a = rng.integers(-10, 11, size=sa) * 0.2
    b = rng.integers(-10, 11, size=sb) * 0.2 + 0.1
    if draw(st.booleans()):
        a, b = b, a
    return [a, b], seed


@row("maximum")
def _maximum(draw):
    inputs, seed = _grid_pair(draw)
    fn = draw(st.sampled_from([lambda t: rv.maximum(t[0], t[1]), lambda t: t[0].maximum(t[1]),
                               lambda t: ad.maximum(t[0], t[1])]))
    return Case(inputs, fn, wrt=draw(wrt_subsets(2)), label="maximum", seed=seed)


@row("minimum")
def _minimum(draw):
    inputs, seed = _grid_pair(draw)
    fn = draw(st.sampled_from([lambda t: rv.minimum(t[0], t[1]), lambda t: ad.minimum(t[0], t[1])]))
    return Case(inputs, fn, wrt=draw(wrt_subsets(2)), label="minimum", seed=seed)


@row("where")
def _where(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=4))
    sc, sa, sb = shapes.input_shapes
    seed = draw(SEEDS)
    rng = np.random.default_rng(seed)
    cond = rng.random(sc) < 0.5
    fn = draw(st.sampled_from([lambda t: rv.where(cond, t[0], t[1]),
                               lambda t: ad.where(cond, t[0], t[1])]))
    return Case([uniform(rng, sa), uniform(rng, sb)], fn, wrt=draw(wrt_subsets(2)),
                label=f"where(cond{sc})", seed=seed)


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


def _reduction_case(draw, name, values):
    shape = draw(SHAPES)
    axis = draw(axes_for(len(shape)))
    keepdims = draw(st.booleans())
    seed = draw(SEEDS)
    rng = np.random.default_rng(seed)
    method = draw(st.booleans())
    if method:
        def fn(t):
            return getattr(t[0], name)(axis=axis, keepdims=keepdims)
    else:
        def fn(t):
            return getattr(ad, name)(t[0], axis=axis, keepdims=keepdims)
    return Case([values(rng, shape)], fn, label=f"{name}(axis={axis}, keepdims={keepdims})",
                seed=seed)


@row("sum")
def _sum(draw):
    return _reduction_case(draw, "sum", uniform)


@row("mean")
def _mean(draw):
    return _reduction_case(draw, "mean", uniform)


@row("max")
def _max(draw):
    return _reduction_case(draw, "max", distinct)


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


@row("reshape")
def _reshape(draw):
    shape = draw(SHAPES)
    new = draw(same_size_shape(shape))
    how = draw(st.sampled_from(["tuple", "args", "function"]))
    if how == "tuple":
        def fn(t):
            return t[0].reshape(new)
    elif how == "args":
        def fn(t):
            return t[0].reshape(*new)
    else:
        def fn(t):
            return ad.reshape(t[0], new)
    case = unary_case(draw, f"reshape{new}", fn, shapes=st.just(shape))
    return case


@row("transpose")
def _transpose(draw):
    shape = draw(SHAPES)
    perm = tuple(draw(st.permutations(range(len(shape)))))
    fn = draw(st.sampled_from([
        lambda t: t[0].T,
        lambda t: t[0].transpose(),
        lambda t: t[0].transpose(perm),
        lambda t: t[0].transpose(*perm),
        lambda t: ad.transpose(t[0], perm),
    ]))
    return unary_case(draw, f"transpose{perm}", fn, shapes=st.just(shape))


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


@row("getitem")
def _getitem(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    seed = draw(SEEDS)
    rng = np.random.default_rng(seed)
    index = draw(indices_for(shape, np.random.default_rng(seed + 3)))
    fn = draw(st.sampled_from([lambda t: t[0][index], lambda t: ad.getitem(t[0], index)]))
    return Case([uniform(rng, shape)], fn, label=f"getitem[{index!r}]", seed=seed)


@row("tanh")
def _tanh(draw):
    fn = draw(st.sampled_from([lambda t: t[0].tanh(), lambda t: rv.tanh(t[0]),
                               lambda t: F.tanh(t[0])]))
    return unary_case(draw, "tanh", fn, values=lambda r, s: uniform(r, s, -3, 3))


@row("sigmoid")
def _sigmoid(draw):
    fn = draw(st.sampled_from([lambda t: t[0].sigmoid(), lambda t: rv.sigmoid(t[0]),
                               lambda t: F.sigmoid(t[0])]))
    return unary_case(draw, "sigmoid", fn, values=lambda r, s: uniform(r, s, -4, 4))


@row("relu")
def _relu(draw):
    fn = draw(st.sampled_from([lambda t: t[0].relu(), lambda t: rv.relu(t[0]),
                               lambda t: F.relu(t[0])]))
    return unary_case(draw, "relu", fn, values=away_from_zero)


def _along_axis_case(draw, name, functions):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    fn_of = draw(st.sampled_from(functions))
    return unary_case(draw, f"{name}(axis={axis})", lambda t: fn_of(t[0], axis),
                      values=lambda r, s: uniform(r, s, -3, 3), shapes=st.just(shape))


@row("softmax")
def _softmax(draw):
    return _along_axis_case(draw, "softmax", [rv.softmax, F.softmax, lambda x, a: x.softmax(a)])


@row("log_softmax")
def _log_softmax(draw):
    return _along_axis_case(draw, "log_softmax",
                            [rv.log_softmax, F.log_softmax, lambda x, a: x.log_softmax(a)])


@row("cross_entropy")
def _cross_entropy(draw):
    m, c = draw(st.integers(1, 5)), draw(st.integers(2, 5))
    seed = draw(SEEDS)
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, c, size=m)
    labels = labels.tolist() if draw(st.booleans()) else labels
    fn_ce = draw(st.sampled_from([F.cross_entropy, ad.cross_entropy]))
    return Case([uniform(rng, (m, c), -3, 3)], lambda t: fn_ce(t[0], labels),
                label=f"cross_entropy(labels={list(labels)})", seed=seed)


@row("nll_loss")
def _nll_loss(draw):
    m, c = draw(st.integers(1, 5)), draw(st.integers(2, 5))
    seed = draw(SEEDS)
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, c, size=m)
    return Case([uniform(rng, (m, c), -3, 3)], lambda t: F.nll_loss(F.log_softmax(t[0]), labels),
                label="nll_loss(log_softmax)", seed=seed)


@row("mse_loss")
def _mse_loss(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=4))
    seed = draw(SEEDS)
    rng = np.random.default_rng(seed)
    return Case([uniform(rng, shape), uniform(rng, shape)], lambda t: F.mse_loss(t[0], t[1]),
                wrt=draw(wrt_subsets(2)), label="mse_loss", seed=seed)


@st.composite
def reduced_shape(draw, shape):
    """A shape that broadcasts to ``shape``: leading axes dropped, some of the others set to 1."""
    lead = draw(st.integers(0, len(shape)))
    return tuple(1 if draw(st.booleans()) else n for n in shape[lead:])


@row("sum_to")
def _sum_to(draw):
    shape = draw(SHAPES)
    small = draw(reduced_shape(shape))
    return unary_case(draw, f"sum_to{small}", lambda t: ad.sum_to(t[0], small),
                      shapes=st.just(shape))


@row("broadcast_to")
def _broadcast_to(draw):
    big = draw(SHAPES)
    small = draw(reduced_shape(big))
    return unary_case(draw, f"broadcast_to{big}", lambda t: ad.broadcast_to(t[0], big),
                      shapes=st.just(small))


@row("vdot")
def _vdot(draw):
    fn = draw(st.sampled_from([lambda t: ad.vdot(t[0], t[1]), lambda t: rv.autodiff.vdot(t[1], t[0])]))
    shape = draw(SHAPES)
    seed = draw(SEEDS)
    rng = np.random.default_rng(seed)
    return Case([uniform(rng, shape), uniform(rng, shape)], fn, wrt=draw(wrt_subsets(2)),
                label=f"vdot{shape}", seed=seed)


@row("astype")
def _astype(draw):
    """float64 → float32 → float64. Rounding to float32 limits what finite differences can see, so
    this row takes a wide step (exact for the quadratic head) and a tolerance of float32 rounding."""
    fn = draw(st.sampled_from([
        lambda t: t[0].astype("float32").astype(np.float64),
        lambda t: ad.astype(ad.astype(t[0], np.float32), "float64") * 1.5,
    ]))
    case = unary_case(draw, "astype", fn)
    case.eps, case.rtol, case.atol = 1e-2, 1e-4, 1e-4
    return case


# --- the tests -------------------------------------------------------------------------------------

@pytest.mark.parametrize("op", sorted(ROWS))
@settings(max_examples=MAX_EXAMPLES)
@given(data=st.data())
def test_gradient_and_second_derivative(op, data):
    case = data.draw(ROWS[op], label="case")
    check(case)


@pytest.mark.parametrize("shapes", [((3, 1), (1, 4)), ((5,), (2, 5)), ((2, 5), (5,)), ((4, 1, 3), (2, 1))],
                         ids=str)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "maximum", "where"])
def test_broadcasting_binary_ops(op, shapes):
    """The broadcasting cases named in the issue, every time (not only when Hypothesis draws them)."""
    rng = np.random.default_rng(7)
    a = rng.uniform(0.5, 2.0, size=shapes[0])
    b = rng.uniform(0.5, 2.0, size=shapes[1]) + 0.05  # a ≠ b for maximum
    cond = rng.random(np.broadcast_shapes(*shapes)) < 0.5
    fn = {
        "add": lambda t: t[0] + t[1], "sub": lambda t: t[0] - t[1], "mul": lambda t: t[0] * t[1],
        "div": lambda t: t[0] / t[1], "pow": lambda t: t[0] ** t[1],
        "maximum": lambda t: rv.maximum(t[0], t[1]), "where": lambda t: rv.where(cond, t[0], t[1]),
    }[op]
    for wrt in ((0, 1), (0,), (1,)):
        check(Case([a, b], fn, wrt=wrt, label=f"{op}{shapes}", seed=7))


NOT_OPS = {"Tensor", "Op", "apply", "constant", "grad", "backward", "no_grad", "enable_grad",
           "is_grad_enabled", "set_grad_enabled"}
ROW_OF = {"power": "pow_constant"}


def test_the_table_covers_every_primitive():
    """A new op exported by ``ravine.autodiff`` must get a row here."""
    missing = [name for name in ad.__all__
               if name not in NOT_OPS and ROW_OF.get(name, name) not in ROWS]
    assert not missing, f"ops without a finite-difference row: {missing}"
    assert {"pow_tensor", "scalar_operands"} <= set(ROWS)


# --- the checker can fail ------------------------------------------------------------------------

class _TanhMissingFactor(ad.Op):
    """tanh with a planted wrong bprop: the factor 1 − y² is dropped."""

    __slots__ = ()

    def fprop(self, a):
        return np.tanh(a)

    def bprop(self, g, a, y):
        return (g,)


class _TanhFirstOrderOnly(ad.Op):
    """tanh whose bprop reads y as a constant array: right gradient, wrong second derivative."""

    __slots__ = ()

    def fprop(self, a):
        return np.tanh(a)

    def bprop(self, g, a, y):
        yv = y.data if isinstance(y, rv.Tensor) else y
        return (g * (1 - yv * yv),)


class _TanhCorrect(ad.Op):
    __slots__ = ()

    def fprop(self, a):
        return np.tanh(a)

    def bprop(self, g, a, y):
        return (g * (1 - y * y),)


def _tanh_case(op_class, seed=0):
    rng = np.random.default_rng(seed)
    return Case([rng.uniform(-2, 2, size=(3, 4))], lambda t: ad.apply(op_class(), t[0]),
                label=op_class.__name__, seed=seed)


def test_checker_passes_a_hand_written_correct_op():
    check(_tanh_case(_TanhCorrect))


def test_checker_detects_a_planted_wrong_bprop():
    with pytest.raises(AssertionError, match="gradient of Case"):
        check_first_order(_tanh_case(_TanhMissingFactor))


def test_checker_detects_a_bprop_that_is_not_differentiable_again():
    case = _tanh_case(_TanhFirstOrderOnly)
    check_first_order(case)  # the first derivative is right ...
    with pytest.raises(AssertionError, match="Hessian-vector product"):
        check_second_order(case)  # ... but grad of grad misses ∂(1 − y²)/∂a
