"""Newton's method: damped and saddle-free steps, Levenberg–Marquardt adaptation, state, errors.

Oracles: scikit-learn's ``LogisticRegression`` for L2-regularized softmax regression, the closed
form (H + λI)⁻¹g on quadratics, and a hand-built saddle of a tiny tanh net.
"""

from __future__ import annotations

import copy
import json
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

import ravine as rv
from ravine.autodiff import second_order
from ravine.nn import functional as F
from ravine.optim.newton import Newton


def probabilities(model, X) -> np.ndarray:
    logits = model(X).data
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def gradient(closure, params) -> np.ndarray:
    return second_order.flatten(rv.grad(closure(), list(params)))


# --- softmax regression against scikit-learn ---------------------------------------------------

@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg"])
@pytest.mark.parametrize("name,lam", [("iris", 1e-2), ("wine", 1e-3)])
def test_softmax_regression_reaches_sklearn_probabilities_within_15_steps(name, lam, solver):
    """Ours minimizes (1/n) Σ ℓᵢ + λ‖W‖²; scikit-learn minimizes C Σ ℓᵢ + ½‖W‖², both with the
    intercept unpenalized. Dividing sklearn's by Cn gives (1/n) Σ ℓᵢ + ‖W‖²/(2Cn): C = 1/(2λn).

    The multinomial solution is unique only up to a constant added to every class's logits, so
    probabilities are compared, not weights. lbfgs stops short however small its ``tol`` (its
    ftol rule ends it at a gradient norm ~1e-7 on iris), 2–4e-7 from the optimum in probability;
    newton-cg converges to rounding, so it checks our solution far below the 1e-6 asked for
    (Newton gets within 1e-6 of both in 6 steps on iris, 9 on wine).
    """
    data = rv.data.load(name, dtype="float64")
    X = rv.data.Standardizer().fit_transform(data.X)
    y = data.y
    n = len(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = LogisticRegression(C=1.0 / (2.0 * lam * n), solver=solver, tol=1e-12,
                                       max_iter=100_000).fit(X, y)
    model = rv.nn.MLP(X.shape[1], [], data.n_classes, dtype="float64", seed=0)
    closure = lambda: F.cross_entropy(model(X), y) + rv.nn.L2(lam)(model)  # noqa: E731
    opt = Newton(model.named_parameters())
    errors = []
    for _ in range(15):
        opt.step(closure)
        errors.append(np.abs(probabilities(model, X) - reference.predict_proba(X)).max())
    assert errors[-1] <= 1e-6, errors
    assert errors[0] > 1e-2  # it did start far away
    assert np.linalg.norm(gradient(closure, model.parameters())) < 1e-10
    assert opt.last["eig_min"] > -1e-12  # convex: H is positive semidefinite (the bias shift is flat)
    if solver == "newton-cg":
        assert errors[-1] <= 1e-9


# --- the step against the closed form ------------------------------------------------------------

def quadratic(n=4, seed=0):
    """L(θ) = ½ θᵀAθ − bᵀθ with A positive definite: g = Aθ − b, H = A."""
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, n))
    A = M @ M.T + n * np.eye(n)
    b = rng.standard_normal(n)
    theta = rv.Tensor(rng.standard_normal(n), requires_grad=True)
    At, bt = rv.Tensor(A), rv.Tensor(b)
    return theta, A, b, lambda: 0.5 * (theta @ (At @ theta)) - (bt * theta).sum()


@pytest.mark.parametrize("saddle_free", [False, True])
def test_one_step_is_the_damped_newton_solve(saddle_free):
    theta, A, b, closure = quadratic()
    start = theta.data.copy()
    lam, lr = 0.3, 0.7
    opt = Newton([theta], damping=lam, lr=lr, adapt=False, saddle_free=saddle_free)
    loss = opt.step(closure)
    expected = start - lr * np.linalg.solve(A + lam * np.eye(4), A @ start - b)  # |A| = A here
    np.testing.assert_allclose(theta.data, expected, rtol=0, atol=1e-12)
    assert float(loss.data) == pytest.approx(0.5 * start @ A @ start - b @ start, rel=1e-14)
    assert opt.last["solver"] == ("eigh" if saddle_free else "cholesky")
    np.testing.assert_allclose([opt.last["eig_min"], opt.last["eig_max"]],
                               np.linalg.eigvalsh(A)[[0, -1]], rtol=1e-12)
    assert opt.last["accepted"] and opt.last["rho"] is None and opt.last["new_loss"] is None


@pytest.mark.parametrize("saddle_free", [False, True])
def test_x2_minus_y2_plain_newton_goes_to_the_saddle_saddle_free_leaves_it(saddle_free):
    """L = x² − y², H = diag(2, −2). Per coordinate d = g/(h + λ) (plain) or g/(|h| + λ):
    along y, g = −2y, so plain Newton takes y → y − 2y/(2 − λ) ≈ 0 (to the saddle) while saddle-free
    Newton takes y → y + 2y/(2 + λ) ≈ 2y (away from it); along x both go to x ≈ 0."""
    theta = rv.Tensor(np.array([1.0, 0.5]), requires_grad=True)
    closure = lambda: theta[0] * theta[0] - theta[1] * theta[1]  # noqa: E731
    lam = 1e-3
    opt = Newton([theta], damping=lam, adapt=False, saddle_free=saddle_free)
    opt.step(closure)
    x = 1.0 - 2.0 / (2.0 + lam)
    y = 0.5 + 1.0 / (2.0 + lam) if saddle_free else 0.5 - 1.0 / (2.0 - lam)
    np.testing.assert_allclose(theta.data, [x, y], rtol=0, atol=1e-15)
    assert opt.last["solver"] == "eigh"  # H + λI is indefinite: no Cholesky
    assert (opt.last["eig_min"], opt.last["eig_max"], opt.last["n_negative"]) == (-2.0, 2.0, 1)


# --- the saddle of a tiny tanh net ---------------------------------------------------------------

def tiny_net_at_saddle():
    """A 2-1-1 tanh net f(x) = v·tanh(wᵀx + b) + c fitted by mean squared error to a target that
    a tanh unit can fit exactly, Y = tanh(1.5x₁ − x₂), placed at the critical point
        w = 0, b = 0, v = 0, c = mean(Y):
    the hidden unit outputs tanh(0) = 0 and nothing flows out of it (v = 0), so ∂L/∂w = ∂L/∂b =
    ∂L/∂v = 0, and ∂L/∂c = 0 as c is the best constant. The Hessian couples v and w only:
    ∂²L/∂v∂wⱼ = 2·mean((c − Y)xⱼ) =: aⱼ, ∂²L/∂c² = 2, everything else 0 — eigenvalues ±‖a‖, 0, 0, 2.
    A strict saddle: turning on the unit (v and w together, along a) lowers the loss; b is a flat
    direction (for w = v = 0 any b is critical: a line of saddles of equal loss).
    """
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 2))
    Y = np.tanh(X @ np.array([[1.5], [-1.0]]))
    model = rv.nn.MLP(2, [1], 1, activation="tanh", dtype="float64", seed=0)
    for _, p in model.named_parameters():
        p.data[...] = 0.0
    dict(model.named_parameters())["2.bias"].data[...] = Y.mean()
    return model, (lambda: F.mse_loss(model(X), Y))


def test_the_tiny_net_start_is_a_saddle():
    model, closure = tiny_net_at_saddle()
    params = list(model.parameters())
    assert np.abs(gradient(closure, params)).max() == 0.0
    eigenvalues = np.linalg.eigvalsh(second_order.hessian(closure, params))
    assert eigenvalues[0] < -1.0 and eigenvalues[-1] > 1.0  # −1.2 and 2: mixed signs
    assert np.sum(np.abs(eigenvalues) < 1e-12) == 2  # w ⊥ a and b: flat


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_near_a_saddle_saddle_free_newton_escapes_and_plain_newton_does_not(seed):
    saddle_model, saddle_closure = tiny_net_at_saddle()
    saddle_loss = float(saddle_closure().data)  # 0.54
    runs = {}
    for saddle_free, adapt in ((False, False), (True, True)):
        model, closure = tiny_net_at_saddle()
        params = list(model.parameters())
        rng = np.random.default_rng(seed)
        for p in params:
            p.data += 1e-2 * rng.standard_normal(p.shape)  # the same perturbation for both
        if not saddle_free:  # the start: a small gradient and a negative eigenvalue
            assert np.linalg.norm(gradient(closure, params)) < 0.05
            assert np.linalg.eigvalsh(second_order.hessian(closure, params))[0] < -1.0
        opt = Newton(model.named_parameters(), damping=1e-3, saddle_free=saddle_free, adapt=adapt)
        losses = []
        for _ in range(25):
            opt.step(closure)
            losses.append(float(closure().data))
        runs[saddle_free] = (losses, gradient(closure, params),
                             np.linalg.eigvalsh(second_order.hessian(closure, params)))
    # plain Newton (fixed small damping) converges to a saddle: the saddle's loss, no gradient,
    # a negative eigenvalue still there
    losses, g, eigenvalues = runs[False]
    assert max(abs(v - saddle_loss) for v in losses[5:]) < 1e-6 * saddle_loss
    assert np.linalg.norm(g) < 1e-8
    assert eigenvalues[0] < -0.1
    # saddle-free Newton descends the negative curvature, far below the saddle (often down to the
    # global minimum, loss 0, which seed 0 reaches); with adapt, the loss never goes up
    losses, g, eigenvalues = runs[True]
    assert losses[-1] < 0.3 * saddle_loss
    assert all(b <= a for a, b in zip(losses, losses[1:]))


# --- Levenberg–Marquardt ----------------------------------------------------------------------------

def pseudo_huber(start=2.0):
    """L(θ) = √(1 + θ²): convex, but its curvature (1 + θ²)^(−3/2) is so small at θ = 2 that the
    undamped Newton step, θ − g/H = θ − θ(1 + θ²) = −8, raises the loss from 2.24 to 8.06."""
    theta = rv.Tensor(np.array([start]), requires_grad=True)
    return theta, lambda: (theta * theta + 1.0).sqrt().sum()


def test_a_step_that_raises_the_loss_is_rejected_and_damping_grows():
    theta, closure = pseudo_huber()
    opt = Newton([theta], damping=1e-6)
    before = theta.data.copy()
    returned = opt.step(closure)
    last = opt.last
    assert not last["accepted"]
    assert last["new_loss"] > last["loss"] == pytest.approx(np.sqrt(5.0), rel=1e-15)
    assert last["rho"] < 0 and last["actual"] < 0 < last["predicted"]
    assert float(returned.data) == last["loss"]  # the loss before the step, as LBFGS
    np.testing.assert_array_equal(theta.data, before)  # θ restored exactly
    assert opt.current_damping == 2e-6 == last["next_damping"]
    # rejections in a row raise λ by 2, 4, 8, ...; the first accepted step resets the growth
    dampings = [opt.current_damping]
    while not opt.last["accepted"]:
        opt.step(closure)
        dampings.append(opt.current_damping)
        assert len(dampings) < 20
    rejected = np.array(dampings[:-1])  # λ after each rejection: 2e-6, 8e-6, 6.4e-5, ...
    assert len(rejected) >= 3
    np.testing.assert_allclose(rejected[1:] / rejected[:-1], 2.0 ** np.arange(2, len(rejected) + 1))
    assert abs(theta.data[0]) < 2.0 and opt.state["0.0"]["damping_growth"] == 2.0
    assert opt.state["0.0"]["step"] == len(dampings)  # every call counts, accepted or not
    for _ in range(20):
        opt.step(closure)
    assert abs(theta.data[0]) < 1e-8  # and it gets to the minimum


def test_damping_shrinks_on_good_steps():
    """On a quadratic the model is exact, so ρ = 1 and λ ← λ/3 at every step (until the changes
    drop to rounding noise, where λ is kept)."""
    theta, A, b, closure = quadratic()
    opt = Newton([theta], damping=1e-2)
    for k in range(3):
        opt.step(closure)
        assert opt.last["accepted"] and opt.last["rho"] == pytest.approx(1.0, abs=1e-4)
        assert opt.current_damping == pytest.approx(1e-2 / 3 ** (k + 1), rel=1e-15)
    for _ in range(5):
        opt.step(closure)
    np.testing.assert_allclose(theta.data, np.linalg.solve(A, b), rtol=0, atol=1e-12)
    assert opt.last["accepted"]


def test_without_adapt_damping_is_fixed_and_the_closure_runs_once():
    theta, closure = pseudo_huber(0.5)
    calls = []

    def counted():
        calls.append(1)
        return closure()

    opt = Newton([theta], damping=0.1, adapt=False)
    for _ in range(3):
        opt.step(counted)
        assert opt.last["damping"] == opt.current_damping == 0.1
        assert opt.last["new_loss"] is None and opt.last["actual"] is None
    assert len(calls) == 3


def test_setting_the_group_damping_restarts_the_adaptation():
    theta, A, b, closure = quadratic()
    opt = Newton([theta], damping=1e-2)
    opt.step(closure)
    assert opt.current_damping == pytest.approx(1e-2 / 3)
    opt.param_groups[0]["damping"] = 0.5
    opt.step(closure)
    assert opt.last["damping"] == 0.5


def test_last_reports_the_hessian_spectrum_and_the_loss():
    model = rv.nn.MLP(3, [3], 2, activation="tanh", dtype="float64", seed=1)
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((20, 3)), rng.integers(0, 2, size=20)
    closure = lambda: F.cross_entropy(model(X), y)  # noqa: E731
    params = list(model.parameters())
    eigenvalues = np.linalg.eigvalsh(second_order.hessian(closure, params))
    g = gradient(closure, params)
    loss = float(closure().data)
    opt = Newton(model.named_parameters(), damping=0.1, saddle_free=True)
    opt.step(closure)
    last = opt.last
    assert last["loss"] == loss
    assert last["grad_norm"] == pytest.approx(np.linalg.norm(g), rel=1e-12)
    assert last["eig_min"] == pytest.approx(eigenvalues[0], rel=1e-9, abs=1e-12)
    assert last["eig_max"] == pytest.approx(eigenvalues[-1], rel=1e-9)
    assert last["n_negative"] == 7  # and 4 zero eigenvalues: shifts of the logits (3 units, bias)
    assert last["accepted"] and last["new_loss"] == float(closure().data) < loss
    assert last["actual"] == loss - last["new_loss"]
    assert last["rho"] == last["actual"] / last["predicted"]
    assert set(last) >= {"loss", "rho", "damping", "accepted", "eig_min", "eig_max", "predicted", "actual"}


# --- state ---------------------------------------------------------------------------------------

def iris_net(seed=0):
    data = rv.data.load("iris", dtype="float64")
    X = rv.data.Standardizer().fit_transform(data.X)
    model = rv.nn.MLP(4, [3], 3, activation="tanh", dtype="float64", seed=seed)
    return model, (lambda: F.cross_entropy(model(X), data.y) + rv.nn.L2(1e-3)(model))


def test_state_dict_round_trip_continues_identically():
    model, closure = iris_net()
    opt = Newton(model.named_parameters(), damping=1e-6, saddle_free=True)
    for _ in range(4):
        opt.step(closure)
    saved_model = copy.deepcopy(model.state_dict())
    saved = opt.state_dict()
    assert saved["state"]["0.weight"]["damping"] == opt.current_damping != 1e-6
    assert saved["param_groups"][0]["params"] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    saved = json.loads(json.dumps(saved))  # plain numbers: survives JSON
    trail = []
    for _ in range(6):
        opt.step(closure)
        trail.append((opt.last["accepted"], opt.current_damping))

    other, other_closure = iris_net(seed=5)
    other.load_state_dict(saved_model)
    fresh = Newton(other.named_parameters())  # defaults: loading restores the saved ones
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["saddle_free"] is True
    fresh_trail = []
    for _ in range(6):
        fresh.step(other_closure)
        fresh_trail.append((fresh.last["accepted"], fresh.current_damping))
    assert fresh_trail == trail
    for (name, p), (_, q) in zip(model.named_parameters(), other.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    assert fresh.state == opt.state


def test_a_failing_closure_leaves_the_parameters_unchanged():
    theta, closure = pseudo_huber()
    calls = []

    def fails_after_the_step():
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the data went away")
        return closure()

    opt = Newton([theta])
    with pytest.raises(RuntimeError, match="went away"):
        opt.step(fails_after_the_step)
    assert theta.data[0] == 2.0


def test_load_state_dict_refuses_other_optimizers_state():
    model, _ = iris_net()
    opt = Newton(model.named_parameters())
    with pytest.raises(ValueError, match="damping"):
        opt.load_state_dict(rv.optim.SGD(model.named_parameters(), lr=0.1).state_dict())
    broken = opt.state_dict()
    broken["state"]["0.weight"]["damping"] = -1.0
    with pytest.raises(ValueError, match="damping"):
        opt.load_state_dict(broken)
    broken = opt.state_dict()
    broken["state"]["0.weight"]["damping_growth"] = 0.5
    with pytest.raises(ValueError, match="damping_growth"):
        opt.load_state_dict(broken)
    broken = opt.state_dict()
    broken["state"]["0.weight"]["damping"] = 0.0
    with pytest.raises(ValueError, match="damping.*> 0 with adapt=True"):
        opt.load_state_dict(broken)
    broken = opt.state_dict()
    broken["param_groups"][0]["saddle_free"] = "yes"
    with pytest.raises(ValueError, match="saddle_free"):
        opt.load_state_dict(broken)


# --- errors ----------------------------------------------------------------------------------------

def test_refuses_models_beyond_max_params():
    model = rv.nn.MLP(64, [32], 10, dtype="float64", seed=0)  # 2,410 parameters
    with pytest.raises(ValueError, match=r"2,410 parameters.*46\.5 MB.*max_params=2,000"):
        Newton(model.named_parameters())
    small = rv.nn.MLP(10, [20], 3, seed=0)  # 283
    with pytest.raises(ValueError, match=r"283 parameters.*0\.6 MB.*max_params=100"):
        Newton(small.named_parameters(), max_params=100)
    Newton(small.named_parameters(), max_params=283)


def test_step_needs_a_closure_returning_a_scalar_tensor():
    theta, closure = pseudo_huber()
    opt = Newton([theta])
    with pytest.raises(TypeError, match="closure"):
        opt.step()
    with pytest.raises(TypeError, match="closure"):
        opt.step(closure())
    with pytest.raises(ValueError, match="scalar Tensor.*float"):
        opt.step(lambda: 1.0)
    with pytest.raises(ValueError, match=r"scalar Tensor.*of shape \(2,\)"):
        opt.step(lambda: (theta * theta).sum() * rv.Tensor(np.ones(2)))


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(damping=-1.0), ValueError, "damping must be"),
    (dict(damping=float("nan")), ValueError, "damping must be"),
    (dict(damping="big"), TypeError, "damping must be a number"),
    (dict(damping=0.0), ValueError, "damping must be > 0 when adapt=True"),
    (dict(lr=0.0), ValueError, "lr must be > 0"),
    (dict(lr=-1.0), ValueError, "lr must be"),
    (dict(saddle_free="yes"), TypeError, "saddle_free must be True or False"),
    (dict(adapt=1), TypeError, "adapt must be True or False"),
    (dict(max_params=0), ValueError, "Newton: max_params must be an integer ≥ 1; got 0"),
    (dict(max_params=2.5), TypeError, "Newton: max_params must be an integer ≥ 1; got 2.5"),
    (dict(max_params=True), TypeError, "Newton: max_params must be an integer ≥ 1; got True"),
])
def test_hyperparameters_are_checked(kwargs, error, match):
    theta, _ = pseudo_huber()
    with pytest.raises(error, match=match):
        Newton([theta], **kwargs)


def test_damping_zero_is_allowed_without_adapt():
    theta, closure = pseudo_huber(0.5)
    opt = Newton([theta], damping=0.0, adapt=False)
    opt.step(closure)  # pure Newton: θ − θ(1 + θ²) = −0.125
    assert theta.data[0] == pytest.approx(0.5 - 0.5 * 1.25, rel=1e-14)


def test_a_changed_hyperparameter_is_checked_at_the_next_step():
    theta, closure = pseudo_huber()
    opt = Newton([theta])
    opt.param_groups[0]["damping"] = -1.0
    with pytest.raises(ValueError, match="damping"):
        opt.step(closure)


def test_one_parameter_group_only():
    model = rv.nn.MLP(2, [2], 2, dtype="float64", seed=0)
    with pytest.raises(ValueError, match="one parameter group.*got 2 groups"):
        Newton(rv.optim.decay_groups(model, 1e-3))
    opt = Newton(model.named_parameters())
    with pytest.raises(ValueError, match="one parameter group"):
        opt.add_param_group({"params": [rv.Tensor(np.zeros(2), requires_grad=True)]})


def test_float32_models_keep_their_dtype():
    data = rv.data.load("iris")
    X = rv.data.Standardizer().fit_transform(data.X)
    model = rv.nn.MLP(4, [], 3, seed=0)
    closure = lambda: F.cross_entropy(model(X), data.y) + rv.nn.L2(1e-2)(model)  # noqa: E731
    opt = Newton(model.named_parameters())
    first = float(opt.step(closure).data)
    for _ in range(8):
        opt.step(closure)
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert float(closure().data) < 0.5 * first
