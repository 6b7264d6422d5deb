"""Initialization: the formulas (statistically), seeding, biases, and why symmetric inits fail."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import ravine as rv
from ravine.nn import functional as F
from ravine.nn import init

# Non-square on purpose: swapping fan_in and fan_out changes every He formula.
SHAPE = (300, 700)            # (fan_out, fan_in)
FAN_OUT, FAN_IN = SHAPE


def test_glorot_uniform_bound_equals_the_formula():
    bound = math.sqrt(6.0) / math.sqrt(FAN_IN + FAN_OUT)
    w = init.glorot_uniform(SHAPE, rng=0, dtype="float64")
    assert w.shape == SHAPE
    assert np.max(np.abs(w)) <= bound
    assert np.max(w) > 0.999 * bound and np.min(w) < -0.999 * bound  # 210,000 draws reach the edges
    assert np.var(w) == pytest.approx(bound ** 2 / 3, rel=0.02)
    assert abs(np.mean(w)) < 0.01 * bound
    assert stats.kstest(w.ravel(), stats.uniform(-bound, 2 * bound).cdf).pvalue > 1e-3
    assert init.glorot_bound(FAN_IN, FAN_OUT) == pytest.approx(bound, rel=1e-15)


def test_glorot_normal_std():
    std = math.sqrt(2.0 / (FAN_IN + FAN_OUT))
    w = init.glorot_normal(SHAPE, rng=1, dtype="float64")
    assert np.std(w) == pytest.approx(std, rel=0.01)
    assert abs(np.mean(w)) < 0.01 * std
    assert stats.kstest(w.ravel(), stats.norm(0, std).cdf).pvalue > 1e-3


def test_he_uniform_bound():
    bound = math.sqrt(6.0 / FAN_IN)
    w = init.he_uniform(SHAPE, rng=2, dtype="float64")
    assert np.max(np.abs(w)) <= bound
    assert np.max(np.abs(w)) > 0.999 * bound
    assert np.var(w) == pytest.approx(bound ** 2 / 3, rel=0.02)
    assert stats.kstest(w.ravel(), stats.uniform(-bound, 2 * bound).cdf).pvalue > 1e-3


def test_he_normal_std():
    std = math.sqrt(2.0 / FAN_IN)
    w = init.he_normal(SHAPE, rng=3, dtype="float64")
    assert np.std(w) == pytest.approx(std, rel=0.01)
    assert stats.kstest(w.ravel(), stats.norm(0, std).cdf).pvalue > 1e-3


@pytest.mark.parametrize("name", ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal"])
def test_seeding_and_dtype(name):
    fn = getattr(init, name)
    a, b, c = fn((20, 30), rng=7), fn((20, 30), rng=7), fn((20, 30), rng=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.dtype == np.float32                               # the default
    assert fn((20, 30), rng=7, dtype="float64").dtype == np.float64
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    np.testing.assert_array_equal(fn((4, 3), rng=g1), fn((4, 3), rng=g2))  # a Generator works too
    assert not np.array_equal(fn((4, 3), rng=g1), fn((4, 3), rng=np.random.default_rng(5)))
    assert init.get(name) is fn


def test_zeros_and_constant():
    np.testing.assert_array_equal(init.zeros((3, 4)), np.zeros((3, 4)))
    np.testing.assert_array_equal(init.constant((3, 4), 0.5), np.full((3, 4), 0.5))
    np.testing.assert_array_equal(init.get("constant:0.5")((2, 2), rng=None, dtype="float64"),
                                  np.full((2, 2), 0.5))
    assert init.get("constant:0.5")((2, 2), rng=None, dtype="float64").dtype == np.float64


@pytest.mark.parametrize("make, error, message", [
    (lambda: init.constant((2, 2), True), TypeError, "init.constant: value must be a number; got True"),
    (lambda: init.constant((2, 2), "0.5"), TypeError, "init.constant: value must be a number; got '0.5'"),
    (lambda: init.constant((2, 2), float("inf")), ValueError,
     "init.constant: value must be a finite number; got inf"),
    (lambda: init.get("constant:nan"), ValueError,
     "init 'constant:nan': value must be a finite number; got nan"),
])
def test_constant_refuses_what_is_not_a_finite_number(make, error, message):
    with pytest.raises(error, match=message):
        make()


# --- the MLP ---------------------------------------------------------------------------------------

def test_mlp_same_seed_same_weights_other_seed_other_weights():
    a = rv.nn.MLP(8, [16, 12], 4, seed=11)
    b = rv.nn.MLP(8, [16, 12], 4, seed=11)
    c = rv.nn.MLP(8, [16, 12], 4, seed=12)
    for (name, pa), (_, pb), (_, pc) in zip(a.named_parameters(), b.named_parameters(),
                                            c.named_parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)
        if name.endswith("weight"):
            assert not np.array_equal(pa.data, pc.data), name
    # The layers differ from each other too (one generator draws them in turn).
    w0, w1 = a[0].weight.data, a[2].weight.data
    assert not np.array_equal(w0[:12, :8], w1[:12, :8])


def test_mlp_default_init_is_glorot_uniform_float32_with_zero_biases():
    model = rv.nn.MLP(30, [50, 20], 10, seed=0)
    assert model.init == "glorot_uniform"
    assert model.dtype == np.float32
    explicit = rv.nn.MLP(30, [50, 20], 10, init="glorot_uniform", seed=0)
    rng = np.random.default_rng(0)
    for layer, same in zip(model.linear_layers(), explicit.linear_layers()):
        fan_out, fan_in = layer.weight.shape
        bound = math.sqrt(6.0) / math.sqrt(fan_in + fan_out)
        assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
        assert np.max(np.abs(layer.weight.data)) <= bound * (1 + 1e-6)
        np.testing.assert_array_equal(layer.weight.data, same.weight.data)
        # One generator from the seed draws each layer's weights in order (documented).
        np.testing.assert_array_equal(layer.weight.data,
                                      init.glorot_uniform((fan_out, fan_in), rng=rng))
        np.testing.assert_array_equal(layer.bias.data, np.zeros(fan_out))
        assert layer.bias.shape == (fan_out,)


@pytest.mark.parametrize("name", ["glorot_normal", "he_uniform", "he_normal", "zeros", "constant:0.5"])
def test_every_init_leaves_biases_at_zero(name):
    model = rv.nn.MLP(5, [6], 3, init=name, seed=0, dtype="float64")
    for layer in model.linear_layers():
        np.testing.assert_array_equal(layer.bias.data, 0.0)


def test_linear_layer_init_and_seed():
    a = rv.nn.Linear(40, 60, init="he_uniform", seed=3, dtype="float64")
    assert a.weight.shape == (60, 40)
    assert np.max(np.abs(a.weight.data)) <= math.sqrt(6.0 / 40)
    assert np.max(np.abs(a.weight.data)) > 0.9 * math.sqrt(6.0 / 40)  # not the glorot bound 0.31
    np.testing.assert_array_equal(a.weight.data,
                                  rv.nn.Linear(40, 60, init="he_uniform", seed=3, dtype="float64").weight.data)
    custom = rv.nn.Linear(3, 2, init=lambda shape, rng, dtype: np.full(shape, 0.25, dtype=dtype))
    np.testing.assert_array_equal(custom.weight.data, np.full((2, 3), 0.25, dtype=np.float32))


# --- symmetry: why constant initializations fail ---------------------------------------------------

def _train(model, steps=5, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((16, 4))
    y = rng.integers(0, 3, size=16)
    opt = rv.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()


def _rows_spread(w):
    return float(np.max(np.abs(w - w[0])))


@pytest.mark.parametrize("name", ["zeros", "constant:0.5"])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_a_symmetric_layer_stays_symmetric_under_sgd(name, activation):
    model = rv.nn.MLP(4, [6], 3, init=name, activation=activation, seed=0, dtype="float64")
    w1_before = model[0].weight.data.copy()
    _train(model)
    w1, w2 = model[0].weight.data, model[2].weight.data
    # Every hidden unit computes the same function and gets the same gradient: the rows of the first
    # weight matrix (and the columns of the second) stay equal.
    assert _rows_spread(w1) <= 1e-12 * max(1.0, np.max(np.abs(w1)))
    assert _rows_spread(w2.T) <= 1e-12 * max(1.0, np.max(np.abs(w2)))
    assert _rows_spread(model[0].bias.data[:, None]) <= 1e-12
    if name == "zeros" and activation in ("tanh", "relu"):
        # g(0) = 0: the hidden layer outputs 0, so no weight gets any gradient, ever.
        np.testing.assert_array_equal(w1, 0.0)
        np.testing.assert_array_equal(w2, 0.0)
    else:  # the weights do move, yet the units stay copies of each other
        assert not np.allclose(w1, w1_before), "training did not move the first layer"


def test_a_random_layer_breaks_the_symmetry():
    model = rv.nn.MLP(4, [6], 3, seed=0, dtype="float64")
    _train(model)
    assert _rows_spread(model[0].weight.data) > 0.1
