"""BatchNorm1d against torch.nn.BatchNorm1d (float64), finite differences, and double backprop.

The torch layer gets ravine's γ and β; both see the same batches and upstream gradients, so outputs,
input/γ/β gradients and running statistics must agree to rounding (≤ 1e-10 relative). An MLP with
batch normalization in training mode is compared with the same function written in torch: loss,
gradients and Hessian-vector products (double backprop vs torch.autograd.functional.hvp).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import ravine as rv
from helpers.oracle import rel_err, torch_activations
from ravine.nn import functional as F

RTOL = 1e-10
HVP_RTOL = 1e-9


def t64(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def paired_layers(num_features, seed=0, **kwargs):
    """A ravine and a torch BatchNorm1d with the same (random, non-trivial) γ and β."""
    ours = rv.nn.BatchNorm1d(num_features, dtype="float64", **kwargs)
    theirs = torch.nn.BatchNorm1d(num_features, dtype=torch.float64, **kwargs)
    if ours.affine:
        rng = np.random.default_rng(seed)
        ours.weight.data[:] = rng.uniform(0.5, 2.0, num_features)
        ours.bias.data[:] = rng.standard_normal(num_features)
        with torch.no_grad():
            theirs.weight.copy_(t64(ours.weight.data))
            theirs.bias.copy_(t64(ours.bias.data))
    return ours, theirs


def check_step(ours, theirs, x, upstream):
    """One forward/backward of both layers on x with the upstream gradient; compare everything."""
    xr = rv.Tensor(x, requires_grad=True)
    xt = t64(x, grad=True)
    y = ours(xr)
    yt = theirs(xt)
    assert rel_err(y, yt.detach().numpy()) <= RTOL
    ours_in = [xr] + ([ours.weight, ours.bias] if ours.affine else [])
    theirs_in = [xt] + ([theirs.weight, theirs.bias] if theirs.affine else [])
    grads = rv.grad(y, ours_in, grad_output=upstream)
    t_grads = torch.autograd.grad(yt, theirs_in, t64(upstream))
    for name, g, tg in zip(["x", "weight", "bias"], grads, t_grads):
        err = rel_err(g, tg.numpy())
        assert err <= RTOL, f"gradient w.r.t. {name}: relative error {err:.2e}"
    if ours.track_running_stats:
        assert rel_err(ours.running_mean, theirs.running_mean.numpy()) <= RTOL
        assert rel_err(ours.running_var, theirs.running_var.numpy()) <= RTOL
        assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked)


@pytest.mark.parametrize("momentum, affine, track", list(itertools.product(
    [0.1, 0.5, None], [True, False], [True, False])))
def test_matches_torch_in_training_then_eval(momentum, affine, track):
    ours, theirs = paired_layers(5, momentum=momentum, affine=affine, track_running_stats=track)
    rng = np.random.default_rng(1)
    # Batches of several sizes, shifted and scaled per feature, so running statistics move.
    for m in (8, 3, 13, 2, 6):
        x = rng.standard_normal((m, 5)) * rng.uniform(0.5, 3.0, 5) + rng.uniform(-2, 2, 5)
        check_step(ours, theirs, x, rng.standard_normal((m, 5)))
    ours.eval()
    theirs.eval()
    for m in (7, 1):  # one example at a time is fine with running statistics
        if not track and m == 1:
            continue
        x = rng.standard_normal((m, 5)) * 2 + 1
        check_step(ours, theirs, x, rng.standard_normal((m, 5)))


def test_eps_and_constant_feature_match_torch():
    """A feature constant over the batch has σ² = 0: the output is β and ε keeps it finite."""
    ours, theirs = paired_layers(3, eps=1e-3)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 3))
    x[:, 1] = 4.0
    check_step(ours, theirs, x, rng.standard_normal((6, 3)))


def test_float32_default_dtype():
    bn = rv.nn.BatchNorm1d(4)
    x = np.random.default_rng(0).standard_normal((16, 4)).astype(np.float32)
    y = bn(x)
    assert y.dtype == np.float32 and bn.running_mean.dtype == np.float32
    assert bn.weight.dtype == np.float32 and bn.running_var.dtype == np.float32
    np.testing.assert_allclose(y.data.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(y.data.var(axis=0), 1, atol=1e-3)


# --- finite differences ---------------------------------------------------------------------

def test_gradient_and_second_derivative_by_finite_differences():
    """f(x, γ, β) = Σ w ⊙ tanh(BN(x)) in training mode (float64, batch of 4): the gradient against
    central differences of f, and the Hessian-vector product (double backprop) against central
    differences of the gradient."""
    rng = np.random.default_rng(3)
    bn = rv.nn.BatchNorm1d(3, dtype="float64")
    bn.weight.data[:] = rng.uniform(0.5, 1.5, 3)
    bn.bias.data[:] = rng.standard_normal(3) * 0.3
    x = rv.Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    w = rng.standard_normal((4, 3))
    params = [x, bn.weight, bn.bias]

    def f():
        return (bn(x).tanh() * w).sum()

    def gradient():
        return [g.data for g in rv.grad(f(), params)]

    h = 1e-6
    analytic = gradient()
    for p, g in zip(params, analytic):
        numeric = np.zeros_like(p.data)
        for i in np.ndindex(p.shape):
            old = p.data[i]
            p.data[i] = old + h
            up = f().item()
            p.data[i] = old - h
            down = f().item()
            p.data[i] = old
            numeric[i] = (up - down) / (2 * h)
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-8)

    vs = [rng.standard_normal(p.shape) for p in params]
    grads = rv.grad(f(), params, create_graph=True)
    dot = sum(((g * v).sum() for g, v in zip(grads[1:], vs[1:])), (grads[0] * vs[0]).sum())
    hvp = [g.data for g in rv.grad(dot, params)]
    eps = 1e-5
    for p, v in zip(params, vs):
        p.data += eps * v
    up = gradient()
    for p, v in zip(params, vs):
        p.data -= 2 * eps * v
    down = gradient()
    for p, v in zip(params, vs):
        p.data += eps * v
    for name, hv, u, d in zip(["x", "weight", "bias"], hvp, up, down):
        np.testing.assert_allclose(hv, (u - d) / (2 * eps), rtol=1e-6, atol=1e-7,
                                   err_msg=f"Hessian-vector product, block {name}")


# --- an MLP with batch normalization against torch: loss, gradients, HVP ----------------------

TORCH_ACTIVATIONS = torch_activations()


def torch_function(model, x, y, loss):
    """The model as a torch function of its parameter list (in named_parameters order)."""
    x_t = t64(x)
    y_t = torch.tensor(y) if loss == "cross_entropy" else t64(y)
    act = TORCH_ACTIVATIONS[model.activation]

    def objective(*params):
        it = iter(params)
        h = x_t
        for module in model:
            if isinstance(module, rv.nn.Linear):
                h = h @ next(it).T
                if module.bias is not None:
                    h = h + next(it)
            elif isinstance(module, rv.nn.BatchNorm1d):
                h = torch.nn.functional.batch_norm(h, None, None, next(it), next(it), training=True,
                                                   eps=module.eps)
            else:
                h = act(h)
        if loss == "cross_entropy":
            return torch.nn.functional.cross_entropy(h, y_t)
        return torch.nn.functional.mse_loss(h, y_t)

    return objective


# (Not "identity": the first BN's β would then only shift the second BN's input by a constant over
# the batch, which that BN subtracts, so its gradient is exactly 0 and both sides show rounding.)
@pytest.mark.parametrize("activation, loss", [("tanh", "cross_entropy"), ("sigmoid", "mse"),
                                              ("relu", "cross_entropy"), ("tanh", "mse")])
def test_mlp_with_batchnorm_loss_gradients_and_hvp_match_torch(activation, loss):
    model = rv.nn.MLP(5, [7, 6], 4, activation=activation, batchnorm=True, seed=4, dtype="float64")
    rng = np.random.default_rng(5)
    for bn in (model[1], model[4]):  # γ, β away from 1, 0 so their blocks of the Hessian are generic
        bn.weight.data[:] = rng.uniform(0.5, 1.5, bn.num_features)
        bn.bias.data[:] = rng.standard_normal(bn.num_features) * 0.5
    x = rng.standard_normal((10, 5))
    y = rng.integers(0, 4, 10) if loss == "cross_entropy" else rng.standard_normal((10, 4))
    names = [n for n, _ in model.named_parameters()]
    assert names == ["0.weight", "1.weight", "1.bias", "3.weight", "4.weight", "4.bias",
                     "6.weight", "6.bias"]
    params = model.parameters()
    objective = torch_function(model, x, y, loss)

    def ravine_loss():
        out = model(x)
        return F.cross_entropy(out, y) if loss == "cross_entropy" else F.mse_loss(out, y)

    value = ravine_loss()
    grads = rv.grad(value, params)
    t_params = [t64(p.data, grad=True) for p in params]
    t_value = objective(*t_params)
    t_grads = torch.autograd.grad(t_value, t_params)
    assert rel_err(value, t_value.detach().numpy()) <= RTOL
    for name, g, tg in zip(names, grads, t_grads):
        err = rel_err(g, tg.numpy())
        assert err <= RTOL, f"gradient of {name}: relative error {err:.2e}"

    vs = [rng.standard_normal(p.shape) for p in params]
    g = rv.grad(ravine_loss(), params, create_graph=True)
    dot = sum(((gi * vi).sum() for gi, vi in zip(g[1:], vs[1:])), (g[0] * vs[0]).sum())
    hvp = rv.grad(dot, params)
    _, t_hvp = torch.autograd.functional.hvp(objective, tuple(t64(p.data) for p in params),
                                             tuple(t64(v) for v in vs))
    for name, h, th in zip(names, hvp, t_hvp):
        err = rel_err(h, th.numpy())
        assert err <= HVP_RTOL, f"Hessian-vector product, block {name}: relative error {err:.2e}"


def test_fused_box_equals_the_composition_of_primitives_to_second_order():
    """The BN box and the same maths written with mean/sub/mul/sqrt/div give the same HVP."""
    rng = np.random.default_rng(6)
    x = rv.Tensor(rng.standard_normal((6, 4)), requires_grad=True)
    bn = rv.nn.BatchNorm1d(4, dtype="float64")
    bn.weight.data[:] = rng.uniform(0.5, 1.5, 4)
    bn.bias.data[:] = rng.standard_normal(4)
    w = rng.standard_normal((6, 4))
    params = [x, bn.weight, bn.bias]

    def composed():
        mu = x.mean(axis=0, keepdims=True)
        xc = x - mu
        var = (xc * xc).mean(axis=0, keepdims=True)
        return (((xc / (var + bn.eps).sqrt()) * bn.weight + bn.bias).sigmoid() * w).sum()

    def fused():
        return (bn(x).sigmoid() * w).sum()

    vs = [rng.standard_normal(p.shape) for p in params]
    results = []
    for f in (fused, composed):
        g = rv.grad(f(), params, create_graph=True)
        dot = sum(((gi * vi).sum() for gi, vi in zip(g[1:], vs[1:])), (g[0] * vs[0]).sum())
        results.append(([gi.data for gi in g], [h.data for h in rv.grad(dot, params)]))
    for a, b in zip(results[0][0] + results[0][1], results[1][0] + results[1][1]):
        assert rel_err(a, b) <= 1e-12


def test_double_backprop_when_the_input_needs_no_gradient():
    """BN applied to data (x a constant): second derivatives with respect to γ, β alone."""
    rng = np.random.default_rng(7)
    bn = rv.nn.BatchNorm1d(3, dtype="float64")
    x = rng.standard_normal((5, 3))
    w = rng.standard_normal((5, 3))
    g = rv.grad((bn(x).tanh() * w).sum(), [bn.weight, bn.bias], create_graph=True)
    hvp = rv.grad((g[0] * 1.0).sum() + (g[1] * 2.0).sum(), [bn.weight, bn.bias])
    xhat = (x - x.mean(0)) / np.sqrt(x.var(0) + bn.eps)
    t = np.tanh(xhat * bn.weight.data + bn.bias.data)
    d2 = -2 * t * (1 - t * t) * w  # second derivative of w·tanh(a) in a
    v_a = xhat * 1.0 + 2.0         # the direction in a of (δγ, δβ) = (1, 2)
    np.testing.assert_allclose(hvp[0].data, (d2 * v_a * xhat).sum(0), rtol=1e-12)
    np.testing.assert_allclose(hvp[1].data, (d2 * v_a).sum(0), rtol=1e-12)


# --- module behaviour ---------------------------------------------------------------------

def test_parameters_are_not_regularized_and_buffers_are_not_parameters():
    model = rv.nn.MLP(4, [6, 5], 3, batchnorm=True, seed=0, dtype="float64")
    names = [n for n, _ in model.named_parameters()]
    assert "1.running_mean" not in names and "1.weight" in names
    state = model.state_dict()
    for key in ("1.running_mean", "1.running_var", "1.num_batches_tracked", "4.running_mean",
                "4.running_var", "4.num_batches_tracked"):
        assert key in state
    assert [n for n, _ in model.named_buffers()] == [
        "1.running_mean", "1.running_var", "1.num_batches_tracked",
        "4.running_mean", "4.running_var", "4.num_batches_tracked"]
    bn = model[1]
    assert not bn.weight.regularize and not bn.bias.regularize
    # L2 sees the three connection-weight matrices only
    expected = sum((lin.weight.data ** 2).sum() for lin in model.linear_layers())
    assert rv.nn.L2(1.0)(model).item() == pytest.approx(expected, rel=1e-12)


def test_mlp_layout_with_batchnorm():
    plain = rv.nn.MLP(4, [6, 5], 3, seed=3)
    model = rv.nn.MLP(4, [6, 5], 3, batchnorm=True, seed=3)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "BatchNorm1d", "Tanh", "Linear", "BatchNorm1d", "Tanh", "Linear"]
    # the hidden Linear layers have no bias (BN's β replaces it); the output layer keeps its bias
    assert [lin.bias is None for lin in model.linear_layers()] == [True, True, False]
    # the same seed draws the same weights with or without batch normalization
    for a, b in zip(plain.linear_layers(), model.linear_layers()):
        np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert "batchnorm=True" in repr(model)
    with pytest.raises(TypeError, match="batchnorm must be True or False"):
        rv.nn.MLP(4, [6], 3, batchnorm="yes")


def test_state_dict_round_trip_restores_running_statistics():
    rng = np.random.default_rng(8)
    model = rv.nn.MLP(4, [6], 3, batchnorm=True, seed=0, dtype="float64")
    for _ in range(3):
        model(rng.standard_normal((9, 4)) * 2 + 1)
    assert int(model[1].num_batches_tracked) == 3
    x = rng.standard_normal((5, 4))
    model.eval()
    expected = model(x).data
    state = model.state_dict()

    fresh = rv.nn.MLP(4, [6], 3, batchnorm=True, seed=1, dtype="float64").eval()
    running_mean = fresh[1].running_mean
    assert not np.allclose(fresh(x).data, expected)
    fresh.load_state_dict(state)
    assert fresh[1].running_mean is running_mean  # loaded in place
    np.testing.assert_array_equal(fresh[1].running_var, model[1].running_var)
    assert int(fresh[1].num_batches_tracked) == 3
    np.testing.assert_array_equal(fresh(x).data, expected)
    # the state holds copies: training the original further does not change it
    model.train()
    model(rng.standard_normal((9, 4)))
    assert not np.array_equal(model[1].running_mean, state["1.running_mean"])


def test_train_and_eval_switch_between_batch_and_running_statistics():
    rng = np.random.default_rng(9)
    bn = rv.nn.BatchNorm1d(3, dtype="float64")
    x = rng.standard_normal((8, 3)) * 3 + 2
    y_train = bn(x).data
    # training mode: each output depends on the whole batch
    assert not np.allclose(bn(x[:4]).data, y_train[:4])
    frozen = (bn.running_mean.copy(), bn.running_var.copy())
    bn.eval()
    assert not bn.training
    y_eval = bn(x).data
    np.testing.assert_allclose(y_eval, (x - frozen[0]) / np.sqrt(frozen[1] + 1e-5), rtol=1e-13)
    # evaluation: row by row equals the batch, and the running statistics do not move
    np.testing.assert_allclose(bn(x[:4]).data, y_eval[:4], rtol=1e-13)
    np.testing.assert_array_equal(bn.running_mean, frozen[0])
    np.testing.assert_array_equal(bn.running_var, frozen[1])
    bn.train()
    bn(x)
    assert not np.array_equal(bn.running_mean, frozen[0])


def test_running_statistics_update_under_no_grad_in_training_mode():
    """As torch: the mode, not gradient recording, decides whether statistics are updated."""
    bn = rv.nn.BatchNorm1d(2, dtype="float64")
    x = np.array([[1.0, 2.0], [3.0, 6.0]])
    with rv.no_grad():
        y = bn(x)
    assert not y.requires_grad
    np.testing.assert_allclose(bn.running_mean, 0.1 * x.mean(0))
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * x.var(0, ddof=1))


def test_reset_running_stats():
    bn = rv.nn.BatchNorm1d(2, dtype="float64")
    bn(np.array([[1.0, 2.0], [3.0, 7.0]]))
    bn.reset_running_stats()
    np.testing.assert_array_equal(bn.running_mean, [0, 0])
    np.testing.assert_array_equal(bn.running_var, [1, 1])
    assert int(bn.num_batches_tracked) == 0


def test_batch_of_one_in_training_mode_is_an_error():
    bn = rv.nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"needs more than 1 example per batch.*shape \(1, 3\)"):
        bn(np.ones((1, 3), dtype=np.float32))
    assert int(bn.num_batches_tracked) == 0  # nothing was updated
    bn.eval()
    assert bn(np.ones((1, 3), dtype=np.float32)).shape == (1, 3)
    no_stats = rv.nn.BatchNorm1d(3, track_running_stats=False).eval()
    with pytest.raises(ValueError, match="without running statistics needs more than 1 example"):
        no_stats(np.ones((1, 3), dtype=np.float32))
    model = rv.nn.MLP(3, [4], 2, batchnorm=True, seed=0)
    with pytest.raises(ValueError, match="more than 1 example"):
        model(np.ones((1, 3), dtype=np.float32))


@pytest.mark.parametrize("shape", [(3,), (2, 3, 1), ()])
def test_input_must_be_two_dimensional(shape):
    bn = rv.nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"expects input of shape \(batch, 3\); got shape"):
        bn(np.ones(shape, dtype=np.float32))


def test_wrong_feature_count_and_dtype_are_errors():
    bn = rv.nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"\(batch, 3\); got shape \(4, 2\)"):
        bn(np.ones((4, 2), dtype=np.float32))
    with pytest.raises(TypeError, match="is float32 but its input is float64"):
        bn(rv.Tensor(np.ones((4, 3)), dtype="float64"))
    with pytest.raises(TypeError, match="float64"):
        bn(np.ones((4, 3)))  # a float64 array is never cast silently


@pytest.mark.parametrize("kwargs, error, message", [
    ({"num_features": 0}, ValueError, "BatchNorm1d: num_features must be an integer ≥ 1; got 0"),
    ({"num_features": 2.5}, TypeError, "BatchNorm1d: num_features must be an integer ≥ 1; got 2.5"),
    ({"num_features": True}, TypeError, "num_features must be an integer ≥ 1; got True"),
    ({"num_features": 3, "eps": 0}, ValueError, "BatchNorm1d: eps must be > 0; got 0"),
    ({"num_features": 3, "eps": -1e-5}, ValueError, "eps must be > 0; got -1e-05"),
    ({"num_features": 3, "momentum": 1.5}, ValueError,
     r"BatchNorm1d: momentum must be in \[0, 1\] or None; got 1.5"),
    ({"num_features": 3, "momentum": -0.1}, ValueError, r"momentum must be in \[0, 1\] or None; got -0.1"),
    ({"num_features": 3, "momentum": float("nan")}, ValueError,
     r"momentum must be a finite number in \[0, 1\] or None; got nan"),
    ({"num_features": 3, "momentum": "0.1"}, TypeError,
     r"momentum must be a number in \[0, 1\] or None; got '0.1'"),
    ({"num_features": 3, "affine": 1}, TypeError, "affine must be True or False"),
    ({"num_features": 3, "track_running_stats": None}, TypeError, "track_running_stats must be"),
    ({"num_features": 3, "dtype": "int32"}, TypeError, "float32 or float64"),
])
def test_invalid_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        rv.nn.BatchNorm1d(**kwargs)


def test_without_affine_or_running_stats_there_is_nothing_to_train_or_save():
    bn = rv.nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert bn.parameters() == [] and list(bn.state_dict()) == []
    assert bn.weight is None and bn.running_mean is None
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    np.testing.assert_allclose(bn.eval()(x).data, bn.train()(x).data)  # batch statistics in eval too


def test_a_training_step_with_batchnorm_lowers_the_loss():
    rng = np.random.default_rng(10)
    x = rng.standard_normal((32, 4)).astype(np.float32) * 5 + 3
    y = (x[:, 0] > 3).astype(np.int64)
    model = rv.nn.MLP(4, [8], 2, activation="relu", batchnorm=True, seed=0)
    first = None
    for _ in range(20):
        model.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        first = loss.item() if first is None else first
        with rv.no_grad():
            for p in model.parameters():
                p.data -= 0.2 * p.grad.data
    assert loss.item() < first * 0.7
