"""Dropout: inverted, training only, seeded by its own Generator; the mask is a graph constant."""

from __future__ import annotations

import numpy as np
import pytest

import ravine as rv
from ravine.nn import functional as F


def random_input(shape=(40, 25), seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)  # no zero entries
    return rv.Tensor(x.astype(dtype), requires_grad=True)


def test_eval_mode_and_p_zero_are_the_identity():
    x = random_input()
    drop = rv.nn.Dropout(0.5, seed=0).eval()
    assert drop(x) is x
    assert rv.nn.Dropout(0.0, seed=0)(x) is x  # training mode, p = 0
    state = drop.rng.bit_generator.state
    drop(x)
    assert drop.rng.bit_generator.state == state  # eval draws nothing


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_keep_rate_and_scaling_in_training(p):
    x = random_input((200, 500))
    y = rv.nn.Dropout(p, seed=1)(x).data
    kept = y != 0
    assert abs(kept.mean() - (1 - p)) < 0.01  # 100,000 entries: σ ≤ 0.0016
    np.testing.assert_allclose(y[kept], x.data[kept] / (1 - p), rtol=1e-15)


def test_output_is_unbiased():
    """E[dropout(x)] = x: the average over many masks approaches the input."""
    x = random_input((20, 10))
    drop = rv.nn.Dropout(0.3, seed=2)
    mean = sum(drop(x).data for _ in range(4000)) / 4000
    ratio = mean / x.data
    # per entry σ = √(p/(1 − p)/4000) ≈ 0.0104; over all 200 entries σ ≈ 0.0007
    assert np.max(np.abs(ratio - 1)) < 0.06
    assert abs(ratio.mean() - 1) < 0.005


def test_gradient_is_the_mask_over_keep_probability():
    x = random_input()
    p = 0.4
    y = rv.nn.Dropout(p, seed=3)(x)
    upstream = np.random.default_rng(4).standard_normal(x.shape)
    (g,) = rv.grad(y, [x], grad_output=upstream)
    kept = y.data != 0
    assert 0.5 < kept.mean() < 0.7
    np.testing.assert_array_equal(y.data[kept], x.data[kept] * (1 / (1 - p)))
    np.testing.assert_array_equal(g.data, upstream * np.where(kept, 1 / (1 - p), 0.0))
    # the ratio output/input is the gradient of each entry (up to the rounding of the division)
    np.testing.assert_allclose(g.data, upstream * (y.data / x.data), rtol=1e-15)


def test_second_derivative_uses_the_same_mask():
    """L = Σ dropout(x)² / 2: H = diag(m²/(1−p)²), so Hv = v ⊙ m/(1−p)² for a 0/1 mask m."""
    x = random_input((6, 5))
    p = 0.25
    y = rv.nn.Dropout(p, seed=5)(x)
    mask = (y.data != 0).astype(np.float64)
    (g,) = rv.grad((y * y).sum() * 0.5, [x], create_graph=True)
    v = np.random.default_rng(6).standard_normal(x.shape)
    (hv,) = rv.grad((g * v).sum(), [x])
    np.testing.assert_allclose(hv.data, v * mask / (1 - p) ** 2, rtol=1e-15)


def test_same_seed_same_masks_different_seed_different_masks():
    x = random_input()
    a, b, c = rv.nn.Dropout(0.5, seed=7), rv.nn.Dropout(0.5, seed=7), rv.nn.Dropout(0.5, seed=8)
    first_a, first_b, first_c = a(x).data, b(x).data, c(x).data
    np.testing.assert_array_equal(first_a, first_b)
    assert not np.array_equal(first_a, first_c)
    second_a = a(x).data
    assert not np.array_equal(first_a, second_a)  # a new mask at every call
    np.testing.assert_array_equal(second_a, b(x).data)


def test_a_generator_is_used_as_is_and_the_global_state_is_untouched():
    x = random_input()
    global_state = np.random.get_state()[1].copy()
    gen = np.random.default_rng(9)
    drop = rv.nn.Dropout(0.5, seed=gen)
    assert drop.rng is gen
    y = drop(x).data
    expected_keep = np.random.default_rng(9).random(x.shape) >= 0.5
    np.testing.assert_array_equal(y != 0, expected_keep)
    np.testing.assert_array_equal(np.random.get_state()[1], global_state)


def test_dtype_is_preserved_and_the_mask_does_not_depend_on_it():
    masks = []
    for dtype in (np.float32, np.float64):
        x = random_input(dtype=dtype)
        y = rv.nn.Dropout(0.5, seed=0)(x)
        assert y.dtype == dtype
        assert set(np.unique(y.data / x.data)) == {0.0, 2.0}  # × 2 is exact in either dtype
        masks.append(y.data != 0)
    np.testing.assert_array_equal(masks[0], masks[1])


@pytest.mark.parametrize("p, error, message", [
    (1.0, ValueError, r"Dropout: p must be in \[0, 1\) \(the probability of dropping a unit; "
                      r"1 would drop every unit\); got 1.0"),
    (1.5, ValueError, r"p must be in \[0, 1\) \(.*\); got 1.5"),
    (-0.1, ValueError, r"p must be in \[0, 1\) \(.*\); got -0.1"),
    (float("nan"), ValueError, r"p must be a finite number in \[0, 1\) \(.*\); got nan"),
    ("0.5", TypeError, r"p must be a number in \[0, 1\) \(.*\); got '0.5'"),
    (True, TypeError, r"p must be a number in \[0, 1\) \(.*\); got True"),
    (None, TypeError, r"p must be a number in \[0, 1\) \(.*\); got None"),
])
def test_invalid_p(p, error, message):
    with pytest.raises(error, match=message):
        rv.nn.Dropout(p)


def test_invalid_seed():
    with pytest.raises(TypeError, match=r"seed must be an integer ≥ 0, a numpy\.random\.Generator "
                                        r"or None; got 1\.5"):
        rv.nn.Dropout(0.5, seed=1.5)


# --- in the MLP ---------------------------------------------------------------------------

def test_mlp_layout_and_invalid_dropout():
    model = rv.nn.MLP(4, [6, 5], 3, batchnorm=True, dropout=0.2, seed=0)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "BatchNorm1d", "Tanh", "Dropout", "Linear", "BatchNorm1d", "Tanh",
                     "Dropout", "Linear"]
    assert "dropout=0.2" in repr(model)
    assert [type(m).__name__ for m in rv.nn.MLP(4, [6], 3, dropout=0.5, seed=0)] == \
        ["Linear", "Tanh", "Dropout", "Linear"]
    assert len(rv.nn.MLP(4, [6], 3, dropout=0.0, seed=0)) == 3  # no Dropout modules at p = 0
    with pytest.raises(ValueError, match=r"MLP: dropout must be in \[0, 1\) \(the probability of "
                                         r"dropping a unit; 1 would drop every unit\); got 1"):
        rv.nn.MLP(4, [6], 3, dropout=1)
    with pytest.raises(TypeError, match="MLP: dropout"):
        rv.nn.MLP(4, [6], 3, dropout="0.1")


def test_mlp_same_seed_same_run_bit_for_bit():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = rng.integers(0, 3, 16)

    def run(seed):
        model = rv.nn.MLP(4, [12, 12], 3, activation="relu", dropout=0.5, batchnorm=True, seed=seed)
        losses = []
        for _ in range(5):
            model.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            losses.append(loss.item())
            with rv.no_grad():
                for p in model.parameters():
                    p.data -= 0.1 * p.grad.data
        return losses, [p.data.copy() for p in model.parameters()]

    losses_a, params_a = run(0)
    losses_b, params_b = run(0)
    losses_c, _ = run(1)
    assert losses_a == losses_b
    for a, b in zip(params_a, params_b):
        np.testing.assert_array_equal(a, b)
    assert losses_a != losses_c


def test_mlp_dropout_layers_have_distinct_streams_and_leave_the_weights_alone():
    plain = rv.nn.MLP(4, [6, 6], 3, seed=12)
    dropped = rv.nn.MLP(4, [6, 6], 3, dropout=0.5, seed=12)
    for a, b in zip(plain.linear_layers(), dropped.linear_layers()):
        np.testing.assert_array_equal(a.weight.data, b.weight.data)
    drops = [m for m in dropped if isinstance(m, rv.nn.Dropout)]
    assert drops[0].rng.random() != drops[1].rng.random()
    # in evaluation mode the network with dropout is the network without it
    x = np.random.default_rng(13).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_array_equal(dropped.eval()(x).data, plain(x).data)
    assert not np.array_equal(dropped.train()(x).data, plain(x).data)


def test_mlp_with_a_generator_seed_is_reproducible():
    x = np.random.default_rng(14).standard_normal((8, 4)).astype(np.float32)
    a = rv.nn.MLP(4, [6], 3, dropout=0.5, seed=np.random.default_rng(3))
    b = rv.nn.MLP(4, [6], 3, dropout=0.5, seed=np.random.default_rng(3))
    np.testing.assert_array_equal(a(x).data, b(x).data)
