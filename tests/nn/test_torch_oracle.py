"""MLPs against PyTorch autograd in float64: the loss, every gradient, and Hessian-vector products.

The torch model is built from ravine's own weights (W of shape (out, in), a = x Wᵀ + b), so the two
compute the same function; the objective is mean loss + λΩ with Ω on weights only.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import ravine as rv
from helpers.oracle import rel_err, torch_activations
from ravine.nn import functional as F

LOSS_RTOL = 1e-10
GRAD_RTOL = 1e-10
HVP_RTOL = 1e-9

ACTIVATIONS = torch_activations()
PENALTIES = {"none": None, "L1": 0.03, "L2": 0.05}


def make_data(loss: str, n_in: int, n_out: int, m: int = 9, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m, n_in))
    if loss == "cross_entropy":
        y = rng.integers(0, n_out, size=m)
        y[:min(m, n_out)] = np.arange(min(m, n_out))  # every class present (when m allows)
    else:
        y = rng.standard_normal((m, n_out))
    return x, y


def ravine_objective(model, x, y, loss: str, penalty: str):
    out = model(x)
    value = F.cross_entropy(out, y) if loss == "cross_entropy" else F.mse_loss(out, y)
    if penalty == "L1":
        value = value + rv.nn.L1(PENALTIES["L1"])(model)
    elif penalty == "L2":
        value = value + rv.nn.L2(PENALTIES["L2"])(model)
    return value


def torch_objective(model, x, y, loss: str, penalty: str):
    """A function of the flat parameter list [W1, b1, W2, b2, ...], written with torch only."""
    act = ACTIVATIONS[model.activation]
    n_layers = len(model.linear_layers())
    x_t = torch.tensor(x, dtype=torch.float64)
    y_t = torch.tensor(y, dtype=torch.int64 if loss == "cross_entropy" else torch.float64)

    def objective(*params):
        h = x_t
        for k in range(n_layers):
            w, b = params[2 * k], params[2 * k + 1]
            h = h @ w.T + b
            if k < n_layers - 1:
                h = act(h)
        if loss == "cross_entropy":
            value = torch.nn.functional.cross_entropy(h, y_t)
        else:
            value = torch.nn.functional.mse_loss(h, y_t)
        weights = params[0::2]
        if penalty == "L1":
            value = value + PENALTIES["L1"] * sum(w.abs().sum() for w in weights)
        elif penalty == "L2":
            value = value + PENALTIES["L2"] * sum((w * w).sum() for w in weights)
        return value

    return objective


def compare_with_torch(model, x, y, loss, penalty, seed=0):
    names = [name for name, _ in model.named_parameters()]
    params = model.parameters()
    # Parameters alternate weight, bias, layer by layer, as the torch function expects.
    assert [n.rsplit(".", 1)[1] for n in names] == ["weight", "bias"] * (len(names) // 2)

    # Loss and gradients: ravine by backward(), torch by autograd.
    model.zero_grad()
    value = ravine_objective(model, x, y, loss, penalty)
    value.backward()
    objective = torch_objective(model, x, y, loss, penalty)
    t_params = [torch.tensor(p.data, dtype=torch.float64, requires_grad=True) for p in params]
    t_value = objective(*t_params)
    t_grads = torch.autograd.grad(t_value, t_params)
    assert value.dtype == np.float64
    assert rel_err(value.data, t_value.detach().numpy()) <= LOSS_RTOL
    for name, p, tg in zip(names, params, t_grads):
        err = rel_err(p.grad.data, tg.numpy())
        assert err <= GRAD_RTOL, f"gradient of {name}: relative error {err:.2e}"

    # Hessian-vector product: double backprop vs torch.autograd.functional.hvp.
    rng = np.random.default_rng(seed + 100)
    vs = [rng.standard_normal(p.shape) for p in params]
    value = ravine_objective(model, x, y, loss, penalty)
    grads = rv.grad(value, params, create_graph=True)
    dot = sum(((g * v).sum() for g, v in zip(grads[1:], vs[1:])), (grads[0] * vs[0]).sum())
    hvp = rv.grad(dot, params)
    _, t_hvp = torch.autograd.functional.hvp(
        objective, tuple(torch.tensor(p.data, dtype=torch.float64) for p in params),
        tuple(torch.tensor(v) for v in vs))
    for name, h, th in zip(names, hvp, t_hvp):
        err = rel_err(h.data, th.numpy())
        assert err <= HVP_RTOL, f"Hessian-vector product, block {name}: relative error {err:.2e}"


def test_the_oracle_table_covers_every_activation():
    """A new activation of the registry must get a PyTorch counterpart here (and so every test below)."""
    assert set(ACTIVATIONS) == set(rv.nn.layers.ACTIVATION_NAMES)


@pytest.mark.parametrize("activation", sorted(rv.nn.layers.ACTIVATION_NAMES))
def test_activation_values_gradients_and_second_derivatives_match_torch(activation):
    """Elementwise, on a grid through 0 (the kink convention: relu' (0) = 0; elu' (0) = 1, elu''(0) = 0)
    and out to |a| = 15 (no overflow): φ(a), φ'(a) and φ''(a) as PyTorch's autograd gives them."""
    a = np.concatenate([np.linspace(-15.0, 15.0, 61), [0.0, -0.0, 1e-300, -1e-300]])
    v = np.random.default_rng(0).uniform(0.5, 1.5, size=a.shape)
    x = rv.Tensor(a, requires_grad=True)
    h = rv.nn.layers.activation(activation)(x)
    g, = rv.grad((h * v).sum(), [x], create_graph=True)
    hv, = rv.grad(g.sum(), [x]) if g.requires_grad else [np.zeros_like(a)]

    t = torch.tensor(a, requires_grad=True)
    t_h = ACTIVATIONS[activation](t)
    t_g, = torch.autograd.grad((t_h * torch.tensor(v)).sum(), t, create_graph=True)
    t_hv = (torch.autograd.grad(t_g.sum(), t)[0] if t_g.requires_grad else torch.zeros_like(t)).numpy()
    np.testing.assert_allclose(h.data, t_h.detach().numpy(), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(g.data, t_g.detach().numpy(), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(getattr(hv, "data", hv), t_hv, rtol=1e-9, atol=1e-15)
    zero = a.size - 4  # a = 0 exactly: the convention at the kink, entry by entry
    assert g.data[zero] == t_g.detach().numpy()[zero]
    assert getattr(hv, "data", hv)[zero] == t_hv[zero]


@pytest.mark.parametrize("activation, loss, penalty", list(itertools.product(
    ACTIVATIONS, ["cross_entropy", "mse"], PENALTIES)))
def test_mlp_matches_torch(activation, loss, penalty):
    model = rv.nn.MLP(5, [7, 6], 4, activation=activation, seed=1, dtype="float64")
    x, y = make_data(loss, 5, 4)
    compare_with_torch(model, x, y, loss, penalty)


@pytest.mark.parametrize("activation, loss", list(itertools.product(ACTIVATIONS, ["cross_entropy", "mse"])))
def test_deeper_mlp_matches_torch(activation, loss):
    """Three hidden layers, no batch normalization."""
    model = rv.nn.MLP(6, [8, 7, 5], 3, activation=activation, init="he_normal", seed=2,
                      dtype="float64")
    x, y = make_data(loss, 6, 3, m=12, seed=2)
    compare_with_torch(model, x, y, loss, "L2", seed=2)


@pytest.mark.parametrize("loss, penalty", list(itertools.product(["cross_entropy", "mse"], PENALTIES)))
def test_softmax_regression_matches_torch(loss, penalty):
    """hidden=[]: one linear layer (softmax regression with cross-entropy, linear regression with mse)."""
    model = rv.nn.MLP(5, [], 3, seed=3, dtype="float64")
    assert len(model.linear_layers()) == 1 and len(model) == 1
    x, y = make_data(loss, 5, 3, seed=3)
    compare_with_torch(model, x, y, loss, penalty, seed=3)


def test_mlp_with_a_single_example_and_an_int_hidden_size_matches_torch():
    model = rv.nn.MLP(3, 4, 2, activation="tanh", seed=4, dtype="float64")
    x, y = make_data("cross_entropy", 3, 2, m=1, seed=4)
    y[:] = 1
    compare_with_torch(model, x, y, "cross_entropy", "L1", seed=4)


# --- the penalties touch weights only --------------------------------------------------------------

@pytest.mark.parametrize("penalty", ["L1", "L2"])
def test_penalties_do_not_touch_biases(penalty):
    model = rv.nn.MLP(4, [5, 3], 2, seed=5, dtype="float64")
    for layer in model.linear_layers():  # non-zero biases, so a penalty on them would show
        layer.bias.data[:] = np.linspace(-1, 1, layer.bias.shape[0])
    strength = PENALTIES[penalty]
    reg = (rv.nn.L1 if penalty == "L1" else rv.nn.L2)(strength)
    value = reg(model)
    weights = [layer.weight.data for layer in model.linear_layers()]
    if penalty == "L1":
        expected = strength * sum(np.abs(w).sum() for w in weights)
    else:
        expected = strength * sum((w * w).sum() for w in weights)
    assert value.item() == pytest.approx(expected, rel=1e-14)

    named = dict(model.named_parameters())
    grads = dict(zip(named, rv.grad(value, list(named.values()))))
    for name, g in grads.items():
        w = named[name].data
        if name.endswith(".bias"):
            assert not np.any(g.data), f"the {penalty} penalty has a gradient on {name}"
        else:
            expected = strength * np.sign(w) if penalty == "L1" else 2 * strength * w
            np.testing.assert_allclose(g.data, expected, rtol=1e-14)


@pytest.mark.parametrize("penalty", [rv.nn.L1, rv.nn.L2])
def test_penalty_of_a_parameter_list_skips_biases(penalty):
    model = rv.nn.MLP(3, [4], 2, seed=6, dtype="float64")
    assert penalty(0.1)(model.parameters()).item() == pytest.approx(penalty(0.1)(model).item(), rel=1e-15)
    bias_only = [layer.bias for layer in model.linear_layers()]
    for layer in model.linear_layers():
        layer.bias.data[:] = 1.0
    assert penalty(0.1)(bias_only).item() == 0.0


@pytest.mark.parametrize("penalty", [rv.nn.L1, rv.nn.L2])
def test_a_zero_strength_penalty_is_zero(penalty):
    model = rv.nn.MLP(3, [4], 2, seed=6, dtype="float64")
    value = penalty(0.0)(model)
    assert value.item() == 0.0
    assert value.dtype == np.float64
