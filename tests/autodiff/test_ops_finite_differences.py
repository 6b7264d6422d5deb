"""Every primitive op against finite differences, first and second order (table-driven).

One row per op. Hypothesis draws the shapes (and a seed for the values), then the checker of
``helpers/finite_differences.py`` compares, for every input that requires grad, the gradient by
backprop and the Hessian-vector product by double backprop with central differences.

Values are placed away from kinks by construction (|x| ≥ 0.1 for abs/sign/relu/elu, distinct entries for
max, a gap between the operands of maximum/minimum, positive inputs for log/sqrt/pow).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ravine as rv
from ravine import autodiff as ad
from ravine.autodiff.activations import ACTIVATIONS
from ravine.nn import functional as F

from helpers.finite_differences import (BROADCAST_PAIRS, MATMUL_SHAPES, SEEDS, SHAPES, Case, away_from_zero,
                                        axes_for, binary_case, check, check_first_order, check_second_order,
                                        distinct, indices_for, reduced_shape, same_size_shape, uniform,
                                        unary_case, wrt_subsets)

MAX_EXAMPLES = 40


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


# Activations whose first or second derivative jumps at a = 0: finite differences need no kink there.
KINKED = {"relu", "elu"}


@row("dense")
def _dense(draw):
    """A layer and its activation in one box, for every activation of the registry; pre-activations
    of the kinked ones are kept away from 0."""
    m, n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    activation = draw(st.sampled_from(list(ACTIVATIONS)))
    seed = draw(SEEDS)
    rng = np.random.default_rng(seed)
    x, w, b = uniform(rng, (m, n_in)), uniform(rng, (n_out, n_in)), uniform(rng, (n_out,))
    if activation in KINKED:  # pre-activations at least 0.05 from 0
        a = x @ w.T + b
        b = b + np.where(np.abs(a) < 0.05, 0.1, 0.0).max(axis=0)
        assume(np.all(np.abs(x @ w.T + b) > 0.05))
    if draw(st.booleans()):
        return Case([x, w, b], lambda t: ad.dense(t[0], t[1], t[2], activation), wrt=draw(wrt_subsets(3)),
                    label=f"dense+bias({activation})", seed=seed)
    if activation in KINKED:
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


@row("softplus")
def _softplus(draw):
    fn = draw(st.sampled_from([lambda t: t[0].softplus(), lambda t: rv.softplus(t[0]),
                               lambda t: F.softplus(t[0]), lambda t: ad.softplus(t[0]),
                               lambda t: rv.nn.Activation("softplus")(t[0])]))
    return unary_case(draw, "softplus", fn, values=lambda r, s: uniform(r, s, -5, 5))


@row("elu")
def _elu(draw):
    """Both sides of the kink at 0 (where e^a − 1 meets a: the second derivative jumps from 1 to 0)."""
    fn = draw(st.sampled_from([lambda t: t[0].elu(), lambda t: rv.elu(t[0]), lambda t: F.elu(t[0]),
                               lambda t: rv.nn.ELU()(t[0])]))
    return unary_case(draw, "elu", fn, values=lambda r, s: away_from_zero(r, s, 0.1, 3.0))


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
