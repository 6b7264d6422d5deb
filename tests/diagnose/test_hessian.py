"""rv.diagnose.hvp and rv.diagnose.hessian against PyTorch autograd, in float64.

The torch function is built from ravine's own weights by walking the model's modules in order:
Linear (W of shape (out, in), a = x Wᵀ [+ b]; with ``batchnorm=True`` the hidden Linear layers have no
bias), BatchNorm1d in training mode (batch statistics, biased variance, its eps), and the activation.
It takes the flat parameter list in ``model.parameters()`` order, so both sides differentiate the
same function of the same variables.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
import torch

import ravine as rv
from helpers.oracle import rel_err, torch_activations
from ravine.autodiff.second_order import flatten
from ravine.nn import functional as F

HVP_RTOL = 1e-9
HESSIAN_RTOL = 1e-9
ACTIVATIONS = torch_activations()


def make_model(activation: str, batchnorm: bool, hidden=(6, 5), n_in=4, n_out=3, seed=0):
    model = rv.nn.MLP(n_in, list(hidden), n_out, activation=activation, batchnorm=batchnorm,
                      seed=seed, dtype="float64")
    # Non-trivial biases and batch-norm scales and shifts, so no parameter sits at a special value.
    rng = np.random.default_rng(seed + 10)
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            p.data[...] = 0.2 * rng.standard_normal(p.shape)
        elif p.ndim == 1:  # batch norm's γ
            p.data[...] = 1.0 + 0.3 * rng.standard_normal(p.shape)
    return model


def make_data(loss: str, n_in=4, n_out=3, m=10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m, n_in))
    if loss == "cross_entropy":
        y = rng.integers(0, n_out, m)
        y[:n_out] = np.arange(n_out)
    else:
        y = rng.standard_normal((m, n_out))
    return x, y


def ravine_loss_fn(model, x, y, loss: str):
    loss_of = F.cross_entropy if loss == "cross_entropy" else F.mse_loss
    return lambda: loss_of(model(x), y)


def torch_function(model, x, y, loss: str):
    """The same objective as a torch function of the flat parameter list (model.parameters() order)."""
    x_t = torch.tensor(x, dtype=torch.float64)
    y_t = torch.tensor(y, dtype=torch.int64 if loss == "cross_entropy" else torch.float64)
    act = ACTIVATIONS[model.activation]
    modules = list(model._modules.values())

    def objective(*params):
        it = iter(params)
        h = x_t
        for module in modules:
            if isinstance(module, rv.nn.Linear):
                w = next(it)
                h = h @ w.T
                if module.bias is not None:
                    h = h + next(it)
            elif isinstance(module, rv.nn.BatchNorm1d):
                gamma, beta = next(it), next(it)
                h = torch.nn.functional.batch_norm(h, None, None, gamma, beta, training=True,
                                                   eps=module.eps)
            elif isinstance(module, (rv.nn.Activation, rv.nn.Identity)):
                h = act(h)
            else:  # pragma: no cover - the test models hold nothing else
                raise AssertionError(f"unexpected module {module!r}")
        assert next(it, None) is None, "parameters left over: the layouts differ"
        if loss == "cross_entropy":
            return torch.nn.functional.cross_entropy(h, y_t)
        return torch.nn.functional.mse_loss(h, y_t)

    return objective


def torch_params(model):
    return tuple(torch.tensor(p.data, dtype=torch.float64) for p in model.parameters())


def test_the_layout_assumed_here_is_the_models():
    """Hidden Linear layers lose their bias under batch norm; BN's γ, β follow; the output has a bias."""
    names = [n for n, _ in make_model("tanh", True).named_parameters()]
    assert names == ["0.weight", "1.weight", "1.bias", "3.weight", "4.weight", "4.bias",
                     "6.weight", "6.bias"]
    names = [n for n, _ in make_model("tanh", False).named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]


def test_the_torch_function_is_the_same_function():
    for batchnorm in (False, True):
        model = make_model("tanh", batchnorm)
        x, y = make_data("cross_entropy")
        value = ravine_loss_fn(model, x, y, "cross_entropy")().item()
        t_value = torch_function(model, x, y, "cross_entropy")(*torch_params(model)).item()
        assert value == pytest.approx(t_value, rel=1e-13)


CASES = list(itertools.product(ACTIVATIONS, [False, True], ["cross_entropy", "mse"]))


@pytest.mark.parametrize("activation, batchnorm, loss", CASES)
def test_hvp_matches_torch(activation, batchnorm, loss):
    model = make_model(activation, batchnorm)
    model.train()
    x, y = make_data(loss)
    rng = np.random.default_rng(1)
    vs = [rng.standard_normal(p.shape) for p in model.parameters()]
    hv = rv.diagnose.hvp(ravine_loss_fn(model, x, y, loss), model.parameters(), vs)
    _, t_hv = torch.autograd.functional.hvp(torch_function(model, x, y, loss), torch_params(model),
                                            tuple(torch.tensor(v) for v in vs))
    assert len(hv) == len(t_hv)
    # Errors relative to the whole product's scale: with a linear activation, the first batch norm's
    # β only shifts what the next batch norm subtracts again, so its block of H v is exactly zero
    # and both sides hold rounding noise there (~1e-17), which no per-block ratio can compare.
    scale = max(float(np.max(np.abs(th.numpy()))) for th in t_hv)
    assert scale > 0
    for (name, p), h, th in zip(model.named_parameters(), hv, t_hv):
        assert h.shape == p.shape and h.dtype == np.float64
        err = float(np.max(np.abs(h - th.numpy()))) / scale
        assert err <= HVP_RTOL, f"H v, block {name}: error {err:.2e} relative to max|Hv|"


def test_hvp_accepts_tensors_and_a_single_parameter():
    model = make_model("tanh", False)
    x, y = make_data("mse")
    fn = ravine_loss_fn(model, x, y, "mse")
    rng = np.random.default_rng(2)
    vs = [rng.standard_normal(p.shape) for p in model.parameters()]
    from_arrays = rv.diagnose.hvp(fn, model.parameters(), vs)
    from_tensors = rv.diagnose.hvp(fn, model.parameters(), [rv.Tensor(v) for v in vs])
    for a, b in zip(from_arrays, from_tensors):
        np.testing.assert_array_equal(a, b)
    # One parameter, v given bare: H v of a quadratic ½ θᵀAθ is A v.
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    theta = rv.Tensor(np.array([0.5, -1.0]), requires_grad=True)
    (hv,) = rv.diagnose.hvp(lambda: 0.5 * (theta @ (A @ theta)), [theta], np.array([1.0, 2.0]))
    np.testing.assert_allclose(hv, A @ [1.0, 2.0], rtol=1e-15)


def torch_hessian_flat(model, x, y, loss) -> np.ndarray:
    """torch's nested blocks H[i][j] (shape p_i.shape + p_j.shape) laid out like ravine's: parameters
    in order, each in row-major order."""
    blocks = torch.autograd.functional.hessian(torch_function(model, x, y, loss), torch_params(model))
    sizes = [p.size for p in model.parameters()]
    return np.block([[blocks[i][j].numpy().reshape(sizes[i], sizes[j]) for j in range(len(sizes))]
                     for i in range(len(sizes))])


@pytest.mark.parametrize("activation, batchnorm, loss", [
    ("tanh", False, "cross_entropy"), ("sigmoid", False, "mse"), ("relu", True, "cross_entropy"),
    ("identity", True, "mse"), ("tanh", True, "mse")])
def test_hessian_matches_torch(activation, batchnorm, loss):
    model = make_model(activation, batchnorm, hidden=(4,), n_in=3, n_out=2)
    x, y = make_data(loss, n_in=3, n_out=2, m=8)
    H = rv.diagnose.hessian(ravine_loss_fn(model, x, y, loss), model.parameters())
    n = sum(p.size for p in model.parameters())
    assert H.shape == (n, n) and H.dtype == np.float64
    expected = torch_hessian_flat(model, x, y, loss)
    err = rel_err(H, expected)
    assert err <= HESSIAN_RTOL, f"Hessian: relative error {err:.2e}"
    np.testing.assert_allclose(H, H.T, atol=1e-12 * np.abs(H).max())


def test_hessian_rows_are_hvps_of_the_unit_vectors():
    """Column j of H is H e_j: the two routes through double backprop agree."""
    model = make_model("sigmoid", True, hidden=(3,), n_in=2, n_out=2)
    x, y = make_data("cross_entropy", n_in=2, n_out=2, m=6)
    fn = ravine_loss_fn(model, x, y, "cross_entropy")
    params = model.parameters()
    H = rv.diagnose.hessian(fn, params)
    n = H.shape[0]
    rng = np.random.default_rng(3)
    v = rng.standard_normal(n)
    from ravine.autodiff.second_order import unflatten
    hv = flatten(rv.diagnose.hvp(fn, params, unflatten(v, params)))
    np.testing.assert_allclose(hv, H @ v, rtol=1e-10, atol=1e-13)


def test_hessian_refuses_past_its_size_limit_and_says_the_size():
    model = rv.nn.MLP(50, [60], 2, dtype="float64", seed=0)  # 50·60 + 60 + 60·2 + 2 = 3182
    x, y = make_data("cross_entropy", n_in=50, n_out=2)
    fn = ravine_loss_fn(model, x, y, "cross_entropy")
    with pytest.raises(ValueError, match=re.escape("3182×3182")) as info:
        rv.diagnose.hessian(fn, model.parameters())
    assert "max_size=3000" in str(info.value)
    with pytest.raises(ValueError, match="3182"):
        rv.diagnose.hessian(fn, model.parameters(), max_size=100)
    small = rv.nn.MLP(2, [3], 2, dtype="float64", seed=0)  # 17 parameters
    x2, y2 = make_data("cross_entropy", n_in=2, n_out=2)
    assert rv.diagnose.hessian(ravine_loss_fn(small, x2, y2, "cross_entropy"), small.parameters(),
                               max_size=17).shape == (17, 17)
    with pytest.raises(ValueError, match="17"):
        rv.diagnose.hessian(ravine_loss_fn(small, x2, y2, "cross_entropy"), small.parameters(), max_size=16)
