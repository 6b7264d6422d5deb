"""CurvatureMonitor and LayerMonitor, checked against quantities computed by hand.

The curvature monitor is tested on linear regression with the full batch, where the objective
J(w, b) = mean((Xw + b − y)²) is a quadratic with the constant Hessian H = (2/m)·AᵀA, A = [X 1]:
gᵀHg is known in closed form, and the second-order prediction of a step's change is exact.
"""

from __future__ import annotations

import numpy as np
import pytest

import ravine as rv
from ravine.diagnose.curvature_monitor import CurvatureMonitor
from ravine.diagnose.layer_monitor import LayerMonitor, saturation


class Recorder(rv.train.Callback):
    """Keeps the parameters (and, optionally, the objective's gradient) before and after each update."""

    def __init__(self, gradients=False):
        self.gradients = gradients
        self.before, self.after, self.grads, self.batches = {}, {}, {}, {}

    def on_batch_begin(self, step, logs):
        model = self.trainer.model
        self.before[step] = {n: p.data.copy() for n, p in model.named_parameters()}
        self.batches[step] = (logs["inputs"].copy(), logs["targets"].copy())
        if self.gradients:
            xb, yb = logs["inputs"], logs["targets"]
            with rv.nn.no_side_effects(model):
                objective = self.trainer.objective(xb, yb)[1]
            names = [n for n, _ in model.named_parameters()]
            self.grads[step] = dict(zip(names, (g.data for g in rv.grad(objective, model.parameters()))))

    def on_batch_end(self, step, logs):
        self.after[step] = {n: p.data.copy() for n, p in self.trainer.model.named_parameters()}


def rel(actual, expected):
    return abs(actual - expected) / abs(expected)


# --- CurvatureMonitor on a quadratic --------------------------------------------------------------

def regression_problem(m=24, d=3, seed=0):
    rng = np.random.default_rng(seed)
    # Columns of different scales: a spread of curvatures, so the top eigenvector matters.
    X = rng.standard_normal((m, d)) * np.array([3.0, 1.0, 0.3])[:d]
    y = X @ np.array([1.0, -2.0, 0.5])[:d] + 0.1 * rng.standard_normal(m) + 0.7
    A = np.hstack([X, np.ones((m, 1))])
    H = (2.0 / m) * A.T @ A
    return X, y, A, H


def closed_form(theta, A, y):
    """J, g = ∇J and H for J(θ) = mean((Aθ − y)²), θ = (w, b)."""
    m = len(y)
    r = A @ theta - y
    return float(r @ r / m), (2.0 / m) * A.T @ r


def theta_of(params: dict) -> np.ndarray:
    return np.concatenate([params["0.weight"].ravel(), params["0.bias"].ravel()])


def linear_trainer(lr, callbacks, seed=0, d=3):
    model = rv.nn.MLP(d, [], 1, dtype="float64", seed=seed)
    trainer = rv.train.Trainer(model, rv.optim.SGD(model.parameters(), lr=lr), loss="mse",
                               batch_size=10_000, callbacks=callbacks, progress=False)
    return model, trainer


def test_gTHg_is_exact_on_a_quadratic_and_so_is_the_predicted_change():
    X, y, A, H = regression_problem()
    recorder, monitor = Recorder(), CurvatureMonitor(every=1)
    lr = 0.05
    _, trainer = linear_trainer(lr, [recorder, monitor])
    trainer.fit(X, y, epochs=6)
    assert len(monitor.rows) == 6 and trainer.history.steps == monitor.rows
    for row in monitor.rows:
        step = row["step"]
        theta = theta_of(recorder.before[step])
        J, g = closed_form(theta, A, y)
        gTg, gTHg = g @ g, g @ H @ g
        assert rel(row["loss"], J) <= 1e-12
        assert rel(row["gTg"], gTg) <= 1e-10
        assert rel(row["gTHg"], gTHg) <= 1e-10
        assert rel(row["curvature"], gTHg / gTg) <= 1e-10
        assert rel(row["stable_lr"], 2 * gTg / gTHg) <= 1e-10
        assert row["lr"] == lr
        # Exact for a quadratic: J(θ − εg) − J(θ) = −ε gᵀg + ½ ε² gᵀHg.
        J_next, _ = closed_form(theta - lr * g, A, y)
        assert rel(row["predicted_change"], J_next - J) <= 1e-8
        assert row["ill_conditioned"] is False          # lr = 0.05 < 2/λ_max
        # ... and that is the change the update really made.
        np.testing.assert_allclose(theta_of(recorder.after[step]), theta - lr * g, rtol=1e-12)
    assert lr < 2 / np.linalg.eigvalsh(H)[-1]


def test_the_flag_fires_at_a_rate_above_two_over_lambda_max():
    """Start at θ* + δu (u the top eigenvector): then g = λ_max δ u, gᵀHg/gᵀg = λ_max, and a rate
    just above 2/λ_max overshoots at the very first step."""
    X, y, A, H = regression_problem()
    eigenvalues, vectors = np.linalg.eigh(H)
    lam_max, u = eigenvalues[-1], vectors[:, -1]
    theta_star = np.linalg.lstsq(A, y, rcond=None)[0]
    lr = 1.02 * 2 / lam_max
    monitor = CurvatureMonitor(every=1)
    model, trainer = linear_trainer(lr, [monitor])
    start = theta_star + 0.5 * u
    model[0].weight.data[...] = start[:3].reshape(1, 3)
    model[0].bias.data[...] = start[3:]
    trainer.fit(X, y, epochs=1)
    row = monitor.rows[0]
    assert row["curvature"] == pytest.approx(lam_max, rel=1e-10)
    assert row["ill_conditioned"] is True
    assert row["stable_lr"] == pytest.approx(2 / lam_max, rel=1e-10) and row["stable_lr"] < lr
    J_next, _ = closed_form(theta_of({"0.weight": model[0].weight.data, "0.bias": model[0].bias.data}), A, y)
    assert J_next > row["loss"]                                   # the loss indeed went up
    assert J_next - row["loss"] == pytest.approx(row["predicted_change"], rel=1e-8)


def test_in_a_run_above_two_over_lambda_max_the_flag_is_the_loss_going_up():
    """Start near θ* with a tiny component δ along the top eigenvector u and larger ones along the
    others. Gradient descent at lr = 1.3·2/λ_max first descends (the other directions dominate g),
    while the component along u grows by |1 − lr·λ_max| = 1.6 per step, until it dominates and the
    run diverges. The flag (½·lr·gᵀHg > gᵀg) is off while the loss goes down and on exactly from the
    step where it starts going up; the prediction of each change is exact."""
    X, y, A, H = regression_problem()
    eigenvalues, vectors = np.linalg.eigh(H)
    lr = 1.3 * 2 / eigenvalues[-1]
    assert lr * eigenvalues[-2] < 2                      # only the top direction is unstable
    theta_star = np.linalg.lstsq(A, y, rcond=None)[0]
    start = theta_star + 1e-4 * vectors[:, -1] + vectors[:, :-1].sum(axis=1)
    monitor = CurvatureMonitor(every=1)
    model, trainer = linear_trainer(lr, [monitor])
    model[0].weight.data[...] = start[:3].reshape(1, 3)
    model[0].bias.data[...] = start[3:]
    trainer.fit(X, y, epochs=30)
    rows = monitor.rows
    assert len(rows) == 30
    for row, following in zip(rows, rows[1:]):
        change = following["loss"] - row["loss"]
        assert change == pytest.approx(row["predicted_change"], rel=1e-7, abs=1e-12 * row["loss"])
        assert row["ill_conditioned"] == (0.5 * row["lr"] * row["gTHg"] > row["gTg"])
        assert row["ill_conditioned"] == (change > 0)
        assert row["stable_lr"] == pytest.approx(2 * row["gTg"] / row["gTHg"], rel=1e-12)
        assert row["ill_conditioned"] == (row["stable_lr"] < lr)
    flags = [row["ill_conditioned"] for row in rows]
    first = flags.index(True)
    assert 3 <= first and not any(flags[:first]) and all(flags[first:])   # off, then on for good
    assert rows[-1]["loss"] > 1e3 * rows[0]["loss"]


def test_every_n_steps_and_bad_arguments():
    X, y, _, _ = regression_problem()
    monitor = CurvatureMonitor(every=3)
    _, trainer = linear_trainer(0.01, [monitor])
    trainer.fit(X, y, epochs=7)
    assert [row["step"] for row in monitor.rows] == [1, 4, 7]
    assert [row["epoch"] for row in monitor.rows] == [1, 4, 7]
    for bad, error in ((0, ValueError), (-2, ValueError), (1.5, TypeError), (True, TypeError)):
        with pytest.raises(error, match=f"CurvatureMonitor: every must be an integer ≥ 1; got {bad!r}"):
            CurvatureMonitor(every=bad)
        with pytest.raises(error, match=f"LayerMonitor: every must be an integer ≥ 1; got {bad!r}"):
            LayerMonitor(every=bad)


# --- measuring leaves no trace --------------------------------------------------------------------

def test_a_monitored_run_ends_with_the_same_weights_bit_for_bit():
    """Dropout draws masks and batch norm updates running statistics in every training-mode forward
    pass; the monitors' extra passes must put both back, or the monitored run would drift."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((90, 6)).astype("float32")
    y = rng.integers(0, 3, 90)

    def run(callbacks):
        model = rv.nn.MLP(6, [16, 12], 3, batchnorm=True, dropout=0.25, seed=0)
        trainer = rv.train.Trainer(model, rv.optim.Adam(model.parameters(), lr=1e-2), batch_size=16,
                                   regularizers=[rv.nn.L2(1e-4)], callbacks=callbacks, progress=False,
                                   seed=1)
        history = trainer.fit(X, y, epochs=3)
        generators = [m.rng.bit_generator.state for m in model if isinstance(m, rv.nn.Dropout)]
        return model.state_dict(), history, generators

    curvature, layers = CurvatureMonitor(every=2), LayerMonitor(every=3)
    monitored, monitored_history, monitored_generators = run([curvature, layers])
    plain, plain_history, plain_generators = run([])
    assert len(curvature.rows) >= 8 and len(layers.rows) >= 5
    assert any("saturation[2]" in row for row in layers.rows)
    assert monitored.keys() == plain.keys()
    assert any("running_mean" in key for key in plain)
    for key in plain:
        assert monitored[key].tobytes() == plain[key].tobytes(), f"{key} differs"
    assert monitored_history["loss"] == plain_history["loss"]
    assert monitored_generators == plain_generators


# --- LayerMonitor ---------------------------------------------------------------------------------

@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_layer_monitor_gradient_norms_and_update_ratios_are_the_steps(optimizer):
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((40, 5)), rng.integers(0, 3, 40)
    model = rv.nn.MLP(5, [7, 6], 3, seed=0, dtype="float64")
    opt = (rv.optim.SGD(model.parameters(), lr=0.1) if optimizer == "sgd"
           else rv.optim.Adam(model.parameters(), lr=0.01))
    recorder, monitor = Recorder(gradients=True), LayerMonitor(every=2)
    trainer = rv.train.Trainer(model, opt, batch_size=8, regularizers=[rv.nn.L2(1e-3)],
                               callbacks=[recorder, monitor], progress=False)
    trainer.fit(X, y, epochs=2)
    weights = ["0.weight", "2.weight", "4.weight"]                 # biases are not layers' weights
    assert [row["step"] for row in monitor.rows] == [1, 3, 5, 7, 9]
    for row in monitor.rows:
        step = row["step"]
        for name in weights:
            before, after = recorder.before[step][name], recorder.after[step][name]
            grad = recorder.grads[step][name]
            assert rel(row[f"grad_norm[{name}]"], np.linalg.norm(grad)) <= 1e-12
            assert rel(row[f"weight_norm[{name}]"], np.linalg.norm(after)) <= 1e-12
            ratio = np.linalg.norm(after - before) / np.linalg.norm(before)
            assert rel(row[f"update_ratio[{name}]"], ratio) <= 1e-10
            if optimizer == "sgd":  # ΔW = −lr·g
                assert rel(row[f"update_ratio[{name}]"],
                           0.1 * np.linalg.norm(grad) / np.linalg.norm(before)) <= 1e-8
        assert not any(key.endswith(".bias]") for key in row)
        assert {f"saturation[{i}]" for i in (1, 3)} <= row.keys()


def test_saturation_is_zero_for_tiny_weights_and_about_one_for_huge_ones():
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((64, 10)), rng.integers(0, 2, 64)
    model = rv.nn.MLP(10, [20, 20], 2, activation="tanh", seed=0, dtype="float64")
    originals = [layer.weight.data.copy() for layer in model.linear_layers()]
    for layer, w in zip(model.linear_layers(), originals):
        layer.weight.data[...] = 1e-3 * w
    assert saturation(model, X) == {"1": 0.0, "3": 0.0}
    for layer, w in zip(model.linear_layers(), originals):
        layer.weight.data[...] = 100.0 * w
    fractions = saturation(model, X)
    assert fractions.keys() == {"1", "3"} and min(fractions.values()) >= 0.95
    # The same through the monitor, during training.
    monitor = LayerMonitor(every=1)
    trainer = rv.train.Trainer(model, rv.optim.SGD(model.parameters(), lr=0.01), batch_size=32,
                               callbacks=[monitor], progress=False)
    trainer.fit(X, y, epochs=1)
    assert all(row["saturation[1]"] >= 0.95 and row["saturation[3]"] >= 0.95 for row in monitor.rows)


def test_vanishing_gradients_in_a_deep_sigmoid_net_are_visible_layer_by_layer():
    """σ' ≤ 1/4: with default (Glorot) weights each sigmoid layer shrinks the backpropagated
    gradient, so the first layer's gradient is orders of magnitude below the last's."""
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((64, 10)).astype("float32"), rng.integers(0, 3, 64)
    model = rv.nn.MLP(10, [32] * 8, 3, activation="sigmoid", seed=0)
    monitor = LayerMonitor(every=1)
    trainer = rv.train.Trainer(model, rv.optim.SGD(model.parameters(), lr=0.1), batch_size=32,
                               callbacks=[monitor], progress=False)
    trainer.fit(X, y, epochs=1)
    names = [f"{2 * k}.weight" for k in range(9)]                 # 8 hidden layers + output
    for row in monitor.rows:
        norms = [row[f"grad_norm[{name}]"] for name in names]
        assert norms[0] < 1e-3 * norms[-1]
        assert all(a < b for a, b in zip(norms, norms[1:])), norms   # growing towards the output
