"""The backprop engine: order, accumulation, recording on and off, gradients of gradients, dtypes."""

from __future__ import annotations

import gc
import sys
import threading
import tracemalloc

import numpy as np
import pytest
import torch

import ravine as rv
from ravine import autodiff as ad
from ravine.nn import functional as F


def leaf(values, dtype=np.float64):
    return rv.Tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# --- deep graphs -----------------------------------------------------------------------------------

def test_a_10000_op_chain_backprops_without_recursion():
    limit = sys.getrecursionlimit()
    x = leaf([0.5, -0.25])
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.0001 ** 10_000] * 2, rtol=1e-11)
    g, = rv.grad(y.sum(), [x])
    np.testing.assert_allclose(g.data, [1.0001 ** 10_000] * 2, rtol=1e-11)
    assert sys.getrecursionlimit() == limit  # the engine did not raise the limit to cope


def test_a_10000_tanh_chain_gives_the_product_of_derivatives_and_its_derivative():
    x0 = 0.8
    x = leaf(x0)
    y = x
    for _ in range(10_000):
        y = y.tanh()
    # d y_n / d x = Π (1 − y_k²) over the chain's outputs y_1 .. y_n.
    value, derivative = x0, 1.0
    for _ in range(10_000):
        value = np.tanh(value)
        derivative *= 1.0 - value * value
    g, = rv.grad(y, [x], create_graph=True)
    assert g.item() == pytest.approx(derivative, rel=1e-10)

    # Second derivative: double backprop through all 10,000 boxes vs a central difference.
    h, = rv.grad(g, [x])

    def first(at):
        t = leaf(at)
        out = t
        for _ in range(10_000):
            out = out.tanh()
        return rv.grad(out, [t])[0].item()

    eps = 1e-5
    numeric = (first(x0 + eps) - first(x0 - eps)) / (2 * eps)
    assert h.item() == pytest.approx(numeric, rel=1e-6)


def test_freeing_a_deep_graph_does_not_crash():
    x = leaf(np.ones(2))
    y = x
    for _ in range(50_000):
        y = y + 1.0
    del y
    gc.collect()


def test_forward_passes_never_differentiated_are_freed():
    """No global tape keeps the boxes (and their arrays) of abandoned forward passes alive."""
    w = leaf(np.ones(250_000))  # 2 MB per intermediate array
    tracemalloc.start()
    try:
        (w * 2.0).tanh().sum()
        gc.collect()
        baseline = tracemalloc.get_traced_memory()[0]
        for _ in range(30):
            (w * 2.0).tanh().sum()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()
    assert grown < 4_000_000, f"{grown} bytes kept after 30 forward passes that were dropped"


# --- accumulation ----------------------------------------------------------------------------------

def test_gradients_accumulate_across_backward_calls_until_zero_grad():
    model = rv.nn.MLP(3, [4], 2, seed=0, dtype="float64")
    x = np.random.default_rng(0).standard_normal((5, 3))
    y = np.array([0, 1, 1, 0, 1])
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    first = {name: p.grad.data.copy() for name, p in model.named_parameters()}
    loss.backward()  # the same graph again: the gradients add up
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.data, 2 * first[name], rtol=1e-15)
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    F.cross_entropy(model(x), y).backward()
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.data, first[name], rtol=1e-15)
    opt = rv.optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_grad_does_not_write_to_dot_grad():
    x = leaf([1.0, 2.0])
    rv.grad((x * x).sum(), [x])
    assert x.grad is None


# --- recording on and off --------------------------------------------------------------------------

def test_no_grad_records_nothing():
    x = leaf([1.0, -2.0])
    with rv.no_grad():
        assert not rv.is_grad_enabled()
        y = (x * 3.0).tanh().sum()
        z = F.cross_entropy((x * x).reshape(1, 2), [1])
    assert rv.is_grad_enabled()
    for t in (y, z):
        assert not t.requires_grad
        assert t.is_leaf
    with pytest.raises(ValueError, match="does not require grad"):
        y.backward()


def test_no_grad_as_a_decorator_and_enable_grad_inside_it():
    x = leaf([1.0, 2.0])

    @rv.no_grad()
    def evaluate():
        inner = x * 2.0
        with rv.enable_grad():
            recorded = x * 2.0
        return inner, recorded

    inner, recorded = evaluate()
    assert not inner.requires_grad and recorded.requires_grad
    with rv.set_grad_enabled(False):
        assert not (x * 2.0).requires_grad
    assert (x * 2.0).requires_grad


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(RuntimeError):
        with rv.no_grad():
            raise RuntimeError("boom")
    assert rv.is_grad_enabled()


def test_grad_mode_is_per_thread():
    seen = []
    with rv.no_grad():
        thread = threading.Thread(target=lambda: seen.append((leaf([1.0]) * 2.0).requires_grad))
        thread.start()
        thread.join()
    assert seen == [True]


def test_constants_only_are_not_recorded():
    a, b = rv.Tensor([1.0, 2.0]), rv.Tensor([3.0, 4.0])
    assert not (a * b).requires_grad
    assert (a * leaf([1.0, 1.0], np.float32)).requires_grad


def test_create_graph_records_even_inside_no_grad():
    x = leaf([0.3, -0.7])
    y = (x ** 3).sum()
    with rv.no_grad():
        g, = rv.grad(y, [x], create_graph=True)
    assert g.requires_grad
    h, = rv.grad(g.sum(), [x])
    np.testing.assert_allclose(h.data, 6 * x.data, rtol=1e-14)


# --- what grad() returns ---------------------------------------------------------------------------

def test_grad_with_respect_to_a_non_leaf_intermediate():
    x = leaf([0.5, -1.0, 2.0])
    y = x * x                     # an intermediate
    z = (3.0 * y + y.exp()).sum()
    gy, gx = rv.grad(z, [y, x])
    np.testing.assert_allclose(gy.data, 3.0 + np.exp(x.data ** 2), rtol=1e-14)
    np.testing.assert_allclose(gx.data, (3.0 + np.exp(x.data ** 2)) * 2 * x.data, rtol=1e-14)
    # ... and differentiated again: d/dx Σ ∂z/∂y = Σ e^{x²}·2x
    gy, = rv.grad(z, [y], create_graph=True)
    hx, = rv.grad(gy.sum(), [x])
    np.testing.assert_allclose(hx.data, np.exp(x.data ** 2) * 2 * x.data, rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_input_the_output_does_not_depend_on_gets_zeros(dtype):
    x, unused = leaf([1.0, 2.0], dtype), leaf(np.ones((2, 3)), dtype)
    off_path = unused * 2.0       # a non-leaf that is not on the output's path either
    gx, gu, go = rv.grad((x * x).sum(), [x, unused, off_path])
    np.testing.assert_allclose(gx.data, 2 * x.data)
    for g, t in ((gu, unused), (go, off_path)):
        assert g.shape == t.shape and g.dtype == np.dtype(dtype)
        assert not np.any(g.data)


def test_a_non_scalar_output_needs_grad_output():
    x = leaf([1.0, 2.0])
    y = x * 2.0
    with pytest.raises(ValueError, match=r"non-scalar output .*shape \(2,\).*grad_output"):
        rv.grad(y, [x])
    with pytest.raises(ValueError, match="non-scalar"):
        y.backward()
    with pytest.raises(ValueError, match=r"grad_output 0 has shape \(3,\) but its output has shape \(2,\)"):
        rv.grad(y, [x], np.ones(3))
    with pytest.raises(TypeError, match="grad_output 0 has dtype float32 but its output has dtype float64"):
        rv.grad(y, [x], np.ones(2, dtype=np.float32))


def test_grad_with_grad_output_is_a_vector_jacobian_product():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 3))
    x = leaf(rng.standard_normal((2, 4)))
    y = (x @ rv.Tensor(a)).tanh()     # (2, 3)
    v = rng.standard_normal((2, 3))
    expected = ((1 - y.data ** 2) * v) @ a.T
    for grad_output in (v, rv.Tensor(v)):
        vjp, = rv.grad(y, [x], grad_output)
        np.testing.assert_allclose(vjp.data, expected, rtol=1e-13)
    # By the explicit Jacobian, entry by entry.
    jac = np.zeros((2, 3, 2, 4))
    for i in range(2):
        for j in range(3):
            e = np.zeros((2, 3))
            e[i, j] = 1.0
            jac[i, j] = rv.grad(y, [x], e)[0].data
    np.testing.assert_allclose(np.einsum("ij,ijkl->kl", v, jac), expected, rtol=1e-13)
    # Several outputs: their vector-Jacobian products add up.
    z = x * x
    w = rng.standard_normal((2, 4))
    both, = rv.grad([y, z], [x], [v, w])
    np.testing.assert_allclose(both.data, expected + 2 * x.data * w, rtol=1e-13)


# --- memory of .grad --------------------------------------------------------------------------------

@pytest.mark.parametrize("make_loss", [
    lambda a, b: (a + b).sum(),            # the same broadcast view of 1 reaches both leaves
    lambda a, b: (a + b).tanh().sum(),     # the same fresh array reaches both leaves
    lambda a, b: (a - b * 1.0).sum(),
], ids=["sum", "tanh", "sub"])
def test_two_leaves_fed_the_same_gradient_do_not_share_memory(make_loss):
    a, b = leaf([0.1, 0.2, 0.3]), leaf([0.4, 0.5, 0.6])
    make_loss(a, b).backward()
    assert not np.shares_memory(a.grad.data, b.grad.data)
    assert a.grad.data.flags.writeable and b.grad.data.flags.writeable
    before = b.grad.data.copy()
    a.grad.data *= 100.0  # e.g. gradient clipping in place
    np.testing.assert_array_equal(b.grad.data, before)


def test_dot_grad_does_not_alias_the_callers_grad_output():
    """As in PyTorch: clipping a.grad in place must not change the array the caller passed in."""
    a, b = leaf([0.1, 0.2, 0.3]), leaf([0.4, 0.5, 0.6])
    v = np.ones(3)
    (a + b).backward(v)
    assert not np.shares_memory(a.grad.data, v)
    assert not np.shares_memory(b.grad.data, v)


# --- gradients of gradients ------------------------------------------------------------------------

def test_create_graph_gradients_can_be_differentiated_again_and_again():
    x = leaf([0.5, -1.5])
    y = (x ** 3).sum()
    g, = rv.grad(y, [x], create_graph=True)
    np.testing.assert_allclose(g.data, 3 * x.data ** 2)
    assert g.requires_grad
    gg, = rv.grad(g.sum(), [x], create_graph=True)
    np.testing.assert_allclose(gg.data, 6 * x.data)
    ggg, = rv.grad(gg.sum(), [x])
    np.testing.assert_allclose(ggg.data, [6.0, 6.0])


def test_backward_with_create_graph_leaves_a_differentiable_grad():
    x = leaf([0.5, -1.5])
    (x.exp() * x).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    h, = rv.grad(x.grad.sum(), [x])  # d/dx (e^x (1 + x)) = e^x (2 + x)
    np.testing.assert_allclose(h.data, np.exp(x.data) * (2 + x.data), rtol=1e-14)


def test_hessian_vector_product_equals_the_analytic_hessian():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 4))
    x = leaf(rng.standard_normal(4))
    f = x @ (rv.Tensor(a) @ x) + x.exp().sum()  # H = A + Aᵀ + diag(eˣ)
    g, = rv.grad(f, [x], create_graph=True)
    v = rng.standard_normal(4)
    hv, = rv.grad((g * v).sum(), [x])
    np.testing.assert_allclose(hv.data, (a + a.T + np.diag(np.exp(x.data))) @ v, rtol=1e-13)


# --- conventions at kinks (as PyTorch) -------------------------------------------------------------

def _torch_grad(fn, *values):
    ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    fn(*ts).sum().backward()
    return [t.grad.numpy() for t in ts]


@pytest.mark.parametrize("relu", [lambda t: t.relu(), rv.relu, F.relu, lambda t: rv.nn.ReLU()(t)],
                         ids=["method", "rv.relu", "functional", "module"])
def test_relu_derivative_at_exactly_zero_is_zero(relu):
    x = leaf([-1.0, 0.0, 2.0, -0.0])
    g, = rv.grad(relu(x).sum(), [x])
    np.testing.assert_array_equal(g.data, [0.0, 0.0, 1.0, 0.0])
    np.testing.assert_array_equal(g.data, _torch_grad(torch.relu, x.data)[0])


def test_other_kinks_follow_pytorch():
    x = leaf([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(rv.grad(x.abs().sum(), [x])[0].data,
                                  _torch_grad(torch.abs, x.data)[0])           # abs'(0) = 0
    a, b = leaf([1.0, 2.0, 3.0]), leaf([1.0, 5.0, 0.0])
    ga, gb = rv.grad(rv.maximum(a, b).sum(), [a, b])
    ta, tb = _torch_grad(torch.maximum, a.data, b.data)                         # a tie: ½ each
    np.testing.assert_array_equal(ga.data, ta)
    np.testing.assert_array_equal(gb.data, tb)
    ga, gb = rv.grad(rv.minimum(a, b).sum(), [a, b])
    ta, tb = _torch_grad(torch.minimum, a.data, b.data)
    np.testing.assert_array_equal(ga.data, ta)
    np.testing.assert_array_equal(gb.data, tb)
    m = leaf([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    g, = rv.grad(m.max(axis=1).sum(), [m])                                     # ties share
    tg, = _torch_grad(lambda t: torch.amax(t, dim=1), m.data)
    np.testing.assert_allclose(g.data, tg, rtol=1e-15)


# --- the multivariate chain rule -------------------------------------------------------------------

def test_diamond_graphs_sum_the_gradients_of_their_branches():
    x = leaf([0.3, -0.6, 1.1])
    y = x * 2.0
    z = (y.tanh() + y * y + y.sigmoid()).sum()      # y feeds three branches
    s = 1 / (1 + np.exp(-2 * x.data))
    expected = 2 * (1 - np.tanh(2 * x.data) ** 2) + 8 * x.data + 2 * s * (1 - s)
    z.backward()
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-14)
    g, = rv.grad((x * x + x).sum(), [x])             # one Tensor twice in one box
    np.testing.assert_allclose(g.data, 2 * x.data + 1, rtol=1e-15)
    g, = rv.grad((x + x).sum() + (x * 0.5).sum(), [x])
    np.testing.assert_allclose(g.data, [2.5] * 3, rtol=1e-15)


def test_a_leaf_used_as_several_inputs_of_a_broadcast_op():
    b = leaf([1.0, 2.0, 3.0])
    m = leaf(np.ones((4, 3)))
    g_b, g_m = rv.grad((m * b + b).sum(), [b, m])  # b broadcast over 4 rows, twice
    np.testing.assert_allclose(g_b.data, [8.0, 8.0, 8.0])
    np.testing.assert_allclose(g_m.data, np.tile(b.data, (4, 1)))


# --- dtypes ----------------------------------------------------------------------------------------

FLOAT32_OPS = {
    "add": lambda x: x + 1.5, "rsub": lambda x: 2 - x, "mul": lambda x: x * 0.5,
    "div": lambda x: 1.0 / (x + 3.0), "pow2": lambda x: x ** 2, "pow_half": lambda x: (x * x + 1) ** 0.5,
    "pow3": lambda x: x ** 3, "pow_tensor": lambda x: (x * x + 1) ** x, "exp": lambda x: x.exp(),
    "log": lambda x: (x * x + 1).log(), "sqrt": lambda x: (x * x + 1).sqrt(), "abs": lambda x: x.abs(),
    "sign": lambda x: x.sign() * x, "maximum": lambda x: rv.maximum(x, 0.1),
    "minimum": lambda x: rv.minimum(x, np.zeros(x.shape, np.float32)), "where": lambda x: rv.where(x > 0, x, -x),
    "tanh": lambda x: x.tanh(), "sigmoid": lambda x: x.sigmoid(), "relu": lambda x: x.relu(),
    "softmax": lambda x: x.softmax(), "log_softmax": lambda x: x.log_softmax(axis=0),
    "sum": lambda x: x.sum(axis=1), "mean": lambda x: x.mean(axis=0, keepdims=True),
    "max": lambda x: x.max(axis=1), "reshape": lambda x: x.reshape(-1), "T": lambda x: x.T,
    "getitem": lambda x: x[[0, 0, 1]], "mask": lambda x: x[x.data > 0], "matmul": lambda x: x @ x.T,
    "matvec": lambda x: x @ np.ones(3, np.float32), "linear": lambda x: ad.linear(x, x, x[:, 0]),
    "sum_to": lambda x: ad.sum_to(x, (1, 3)), "broadcast_to": lambda x: ad.broadcast_to(x, (2, 2, 3)),
    "cross_entropy": lambda x: F.cross_entropy(x, [2, 0]), "mse": lambda x: F.mse_loss(x, np.zeros((2, 3), np.float32)),
    "l2": lambda x: rv.nn.L2(0.1)([x]), "l1": lambda x: rv.nn.L1(0.1)([x]),
}


@pytest.mark.parametrize("name", sorted(FLOAT32_OPS))
def test_float32_stays_float32_through_forward_backward_and_double_backward(name):
    fn = FLOAT32_OPS[name]
    x = leaf([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], np.float32)
    out = fn(x)
    assert out.dtype == np.float32
    loss = (out * out).sum()
    assert loss.dtype == np.float32
    g, = rv.grad(loss, [x], create_graph=True)
    assert g.dtype == np.float32
    hv, = rv.grad((g * np.ones((2, 3), np.float32)).sum(), [x])
    assert hv.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == np.float32


def test_a_float32_model_trains_in_float32():
    model = rv.nn.MLP(4, [5], 3, seed=0)
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    loss = F.cross_entropy(model(x), [0, 1, 2, 0, 1, 2]) + rv.nn.L2(1e-3)(model)
    assert loss.dtype == np.float32
    loss.backward()
    assert all(p.dtype == np.float32 and p.grad.dtype == np.float32 for p in model.parameters())
    rv.optim.SGD(model.parameters(), lr=0.1).step()
    assert all(p.dtype == np.float32 for p in model.parameters())


def test_astype_converts_the_gradient_back():
    x = leaf([0.5, -1.0], np.float32)
    y = x.astype("float64")
    assert y.dtype == np.float64
    g, = rv.grad((y * y).sum(), [x])
    assert g.dtype == np.float32
    np.testing.assert_allclose(g.data, 2 * x.data)
    assert x.astype(np.float32) is x  # the same dtype: nothing to record


def test_python_numbers_and_integer_arrays_take_the_tensors_dtype():
    x32, x64 = leaf([1.0, 2.0], np.float32), leaf([1.0, 2.0])
    for x in (x32, x64):
        for y in (x + 1, 1.5 * x, x / np.array([1, 2]), x - np.array([True, False]), 2 ** x):
            assert y.dtype == x.dtype
    assert rv.Tensor([1, 2]).dtype == np.float32
    assert rv.Tensor([1.0, 2.0]).dtype == np.float32
    assert rv.Tensor(np.array([1.0, 2.0])).dtype == np.float64


@pytest.mark.parametrize("p", [np.int64(3), np.int32(3), np.float32(3.0), np.float64(3.0), 3, 3.0],
                         ids=lambda p: type(p).__name__)
def test_numpy_scalars_are_numbers_as_exponents(p):
    """``x ** p`` for p from a NumPy array (``for p in np.arange(1, 4)``) is a constant exponent."""
    for dtype in (np.float32, np.float64):
        x = leaf([0.5, -2.0], dtype)
        y = x ** p
        assert y.dtype == dtype
        g, = rv.grad(y.sum(), [x])
        np.testing.assert_allclose(g.data, 3 * x.data ** 2, rtol=1e-6)
