"""diagnose_point: saddles, minima, maxima, plateaus and slopes, on functions whose answer is known."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import ravine as rv
from ravine.diagnose.critical_point import VERDICTS, PointReport, diagnose_point
from ravine.nn import functional as F


def scalars(*values):
    return [rv.Tensor(float(v), requires_grad=True, dtype="float64") for v in values]


def quadratic_at_minimum(A, b, scale=1.0):
    """θ ↦ scale·(½θᵀAθ − bᵀθ) over one vector parameter, placed at θ* = A⁻¹b."""
    theta = rv.Tensor(np.linalg.solve(A, b), requires_grad=True)
    return (lambda: scale * (0.5 * (theta @ (A @ theta)) - (theta * b).sum())), theta


def spd(n, seed=0, low=0.5, high=4.0):
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    eigenvalues = np.linspace(low, high, n)
    return Q @ np.diag(eigenvalues) @ Q.T, eigenvalues


def test_the_origin_of_x2_minus_y2_is_a_saddle():
    x, y = scalars(0, 0)
    report = diagnose_point(lambda: x * x - y * y, [x, y])
    assert isinstance(report, PointReport)
    assert report.verdict == "saddle"
    assert report.grad_norm == 0.0 and report.loss == 0.0
    np.testing.assert_allclose(report.lowest, [-2.0, 2.0], rtol=1e-12)   # n = 2 < k = 3: all of them
    np.testing.assert_allclose(report.highest, [-2.0, 2.0], rtol=1e-12)
    assert report.most_negative == pytest.approx(-2.0, rel=1e-12)
    direction = report.negative_direction
    assert [d.shape for d in direction] == [(), ()]                       # split like the parameters
    flat = np.array([float(d) for d in direction])
    np.testing.assert_allclose(np.abs(flat), [0.0, 1.0], atol=1e-12)    # ±(0, 1)
    np.testing.assert_allclose(flat, [0.0, 1.0], atol=1e-12)             # sign fixed: largest entry > 0


def test_a_maximum():
    x, y = scalars(0, 0)
    report = diagnose_point(lambda: -(x * x) - y * y, [x, y])
    assert report.verdict == "maximum"
    np.testing.assert_allclose(report.lowest, [-2.0, -2.0])
    assert report.most_negative == pytest.approx(-2.0)


@pytest.mark.parametrize("n", [4, 12])  # 4: every eigenvalue (dense path); 12: Lanczos
def test_the_minimum_of_a_convex_quadratic(n):
    A, eigenvalues = spd(n, seed=n)
    b = np.random.default_rng(1).standard_normal(n)
    loss_fn, theta = quadratic_at_minimum(A, b)
    report = diagnose_point(loss_fn, [theta])
    assert report.verdict == "minimum"
    assert report.grad_norm < 1e-12
    assert report.loss == pytest.approx(-0.5 * b @ np.linalg.solve(A, b), rel=1e-12)
    k = min(3, n)
    np.testing.assert_allclose(report.lowest, eigenvalues[:k], rtol=1e-10)
    np.testing.assert_allclose(report.highest, eigenvalues[-k:], rtol=1e-10)
    assert report.most_negative is None and report.negative_direction is None


def test_away_from_the_minimum_it_is_not_critical():
    A, _ = spd(6)
    b = np.ones(6)
    loss_fn, theta = quadratic_at_minimum(A, b)
    theta.data[0] += 1e-3
    report = diagnose_point(loss_fn, [theta])
    assert report.verdict == "not critical" and report.grad_norm > 1e-4


def test_a_random_point_of_a_net_is_not_critical():
    model = rv.nn.MLP(5, [8], 3, seed=0, dtype="float64")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((20, 5)), rng.integers(0, 3, 20)
    report = diagnose_point(lambda: F.cross_entropy(model(x), y), model.parameters(), model=model)
    assert report.verdict == "not critical"
    assert report.grad_norm > 1e-2
    assert report.lowest.shape == report.highest.shape == (3,)
    assert report.names == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_a_saturated_sigmoid_net_far_from_the_data_is_a_plateau():
    """Every unit's pre-activation is beyond ±20, so σ'(a) ≈ e^{−|a|} < 1e-8 everywhere: the squared
    error is far from zero, yet gradient and curvature have all but vanished."""
    model = rv.nn.Sequential(rv.nn.Linear(4, 6, seed=0, dtype="float64"), rv.nn.Sigmoid(),
                             rv.nn.Linear(6, 2, seed=1, dtype="float64"), rv.nn.Sigmoid())
    first, second = model[0], model[2]
    first.bias.data[:] = 30.0 * np.array([1, -1, 1, -1, 1, -1])
    second.bias.data[:] = 30.0
    rng = np.random.default_rng(2)
    x = rng.standard_normal((16, 4))
    y = np.zeros((16, 2))                                     # the net says 1 everywhere
    assert np.min(np.abs(x @ first.weight.data.T + first.bias.data)) > 20
    loss_fn = lambda: F.mse_loss(model(x), y)  # noqa: E731
    report = diagnose_point(loss_fn, model.parameters(), model=model)
    assert report.verdict == "plateau", str(report)
    assert report.loss == pytest.approx(1.0, abs=1e-6)        # a bad fit, not a minimum
    assert report.grad_norm < 1e-5
    assert max(abs(report.lowest[0]), abs(report.highest[-1])) < 1e-5
    # The same net with its biases and weights brought back to the data is on a slope.
    first.bias.data[:] = 0.0
    second.bias.data[:] = 0.0
    assert diagnose_point(loss_fn, model.parameters()).verdict == "not critical"


def test_a_saddle_of_a_two_layer_linear_net_and_its_escape_direction():
    """y ≈ w₂w₁x fit to y = x: L = mean(x²)(1 − w₁w₂)²; at w = 0 the gradient is zero and
    H = mean(x²)·[[0, −2], [−2, 0]], eigenvalues ±2·mean(x²), escape direction (1, 1)/√2."""
    model = rv.nn.Sequential(rv.nn.Linear(1, 1, bias=False, dtype="float64"),
                             rv.nn.Linear(1, 1, bias=False, dtype="float64"))
    for p in model.parameters():
        p.data[...] = 0.0
    x = np.array([[1.0], [-1.0], [2.0]])
    loss_fn = lambda: F.mse_loss(model(x), x)  # noqa: E731
    report = diagnose_point(loss_fn, model.parameters(), model=model)
    c = float(np.mean(x ** 2))
    assert report.verdict == "saddle"
    assert report.most_negative == pytest.approx(-2 * c, rel=1e-12)
    assert report.highest[-1] == pytest.approx(2 * c, rel=1e-12)
    u = np.concatenate([d.ravel() for d in report.negative_direction])
    np.testing.assert_allclose(u, [2 ** -0.5, 2 ** -0.5], rtol=1e-12)
    # Along it the loss falls as ½λ₁t² (and more: the quartic term), though the gradient is zero.
    t = 0.1
    for p, d in zip(model.parameters(), report.negative_direction):
        p.data += t * d
    assert loss_fn().item() < report.loss + 0.5 * report.most_negative * t * t * 0.9
    assert "0.weight" in str(report) and "1.weight" in str(report)


def test_tolerances_are_relative_to_the_scale_of_the_loss_and_the_curvature():
    A, _ = spd(6, seed=3)
    b = np.random.default_rng(3).standard_normal(6)
    loss_fn, theta = quadratic_at_minimum(A, b, scale=1e12)   # rounding makes ‖g‖ ≫ 1e-5 here
    report = diagnose_point(loss_fn, [theta])
    assert report.verdict == "minimum", str(report)
    assert report.grad_threshold == pytest.approx(1e-5 * abs(report.loss))
    # A tiny negative eigenvalue next to a large positive one is flat within the relative tolerance,
    # and a saddle when asked for a tighter one.
    D = np.diag([-1e-4, 1.0, 10.0, 1e3])
    theta = rv.Tensor(np.zeros(4), requires_grad=True)
    fn = lambda: 0.5 * (theta @ (D @ theta))  # noqa: E731
    assert diagnose_point(fn, [theta]).verdict == "minimum"
    tight = diagnose_point(fn, [theta], curvature_tol=1e-9)
    assert tight.verdict == "saddle" and tight.most_negative == pytest.approx(-1e-4)


def test_measuring_leaves_no_trace_in_the_model():
    model = rv.nn.MLP(4, [6], 3, batchnorm=True, dropout=0.3, seed=0, dtype="float64")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((12, 4)), rng.integers(0, 3, 12)
    state = {k: v.copy() for k, v in model.state_dict().items()}
    dropout_state = model[3].rng.bit_generator.state
    report = diagnose_point(lambda: F.cross_entropy(model(x), y), model.parameters(), model=model)
    assert report.verdict in VERDICTS
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, state[key], err_msg=key)
    assert model[3].rng.bit_generator.state == dropout_state


def test_the_report_prints_as_a_table_and_serializes():
    x, y = scalars(0, 0)
    report = diagnose_point(lambda: x * x - y * y, [x, y])
    text = str(report)
    assert text.splitlines()[0].startswith("point: saddle")
    for needle in ("gradient norm", "lowest eigenvalues", "highest eigenvalues", "-2", "params[1]",
                   "most negative eigenvalue"):
        assert needle in text, needle
    data = json.loads(json.dumps(report.to_dict()))
    assert data["verdict"] == "saddle" and data["lowest"] == [-2.0, 2.0]
    assert data["negative_direction"] == {"params[0]": 0.0, "params[1]": 1.0}
    A, _ = spd(4)
    loss_fn, theta = quadratic_at_minimum(A, np.ones(4))
    text = str(diagnose_point(loss_fn, [theta]))
    assert "minimum" in text and "condition number" in text and "negative direction" not in text


def test_bad_tolerances_are_rejected():
    x, y = scalars(1, 1)
    for name in ("grad_tol", "curvature_tol"):
        for bad, error, expected in ((0, ValueError, "> 0"), (-1.0, ValueError, "> 0"),
                                     (float("nan"), ValueError, "a finite number > 0"),
                                     ("1e-5", TypeError, "a number > 0")):
            with pytest.raises(error, match=f"diagnose_point: {name} must be {expected}; "
                                            f"got {re.escape(repr(bad))}"):
                diagnose_point(lambda: x * x - y * y, [x, y], **{name: bad})
