"""The step objects: which kind runs, the compiled step equal to the graph's bit for bit, Newton's
closure step without a backward pass, and clipping refused where it cannot apply."""

from __future__ import annotations

import numpy as np
import pytest

import ravine as rv
from ravine.autodiff.activations import ACTIVATIONS
from ravine.autodiff.tensor import Tensor
from ravine.nn import functional as F
from ravine.train import ClosureStep, CompiledStep, GraphStep


def _data(n=30, classes=3, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4)).astype(dtype)
    return X, rng.integers(0, classes, size=n)


def test_the_trainer_says_which_step_runs():
    plain = rv.nn.MLP(4, [6], 3, seed=0)
    assert rv.train.Trainer(plain, progress=False).step_kind == "compiled"
    assert rv.train.Trainer(plain, progress=False, compiled=False).step_kind == "graph"
    assert rv.train.Trainer(rv.nn.MLP(4, [6], 3, batchnorm=True, seed=0), progress=False).step_kind == "graph"
    small = rv.nn.MLP(4, [3], 3, seed=0, dtype="float64")
    assert rv.train.Trainer(small, rv.optim.Newton(small), progress=False).step_kind == "closure"
    for trainer, kind in ((rv.train.Trainer(plain, progress=False), CompiledStep),
                          (rv.train.Trainer(plain, progress=False, compiled=False), GraphStep),
                          (rv.train.Trainer(small, rv.optim.Newton(small), progress=False), ClosureStep)):
        assert type(trainer.make_step()) is kind


@pytest.mark.parametrize("activation", [*ACTIVATIONS, "identity"])
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
@pytest.mark.parametrize("extras", [{}, {"regularizers": [rv.nn.L1(1e-3), rv.nn.L2(1e-2)], "clip_norm": 0.5},
                                    {"clip_value": 0.01}])
def test_the_compiled_step_trains_bit_for_bit_as_the_graph_step(activation, loss, extras):
    X, labels = _data(dtype=np.float32)
    y = labels if loss == "cross_entropy" else X[:, :3] * 2 - 1
    runs = []
    for compiled in ("auto", False):
        model = rv.nn.MLP(4, [7, 5], 3, activation=activation, seed=4)
        trainer = rv.train.Trainer(model, rv.optim.SGD(model, lr=0.05, momentum=0.9), loss=loss,
                                   batch_size=7, progress=False, compiled=compiled, **extras)
        trainer.fit(X, y, epochs=3)
        runs.append((trainer.step_kind, model.state_dict(), trainer.history["loss"]))
    (kind_a, weights_a, loss_a), (kind_b, weights_b, loss_b) = runs
    assert (kind_a, kind_b) == ("compiled", "graph")
    assert loss_a == loss_b
    for name in weights_a:
        assert np.array_equal(weights_a[name], weights_b[name]), name
    assert not np.array_equal(weights_a["0.weight"], rv.nn.MLP(4, [7, 5], 3, activation=activation,
                                                               seed=4).state_dict()["0.weight"])


def test_newton_runs_as_a_closure_step_without_a_backward_pass_and_as_driven_by_hand(monkeypatch):
    X, y = _data(n=40)
    calls = []
    backward = Tensor.backward
    monkeypatch.setattr(Tensor, "backward", lambda self, *a, **k: (calls.append(1), backward(self, *a, **k)))

    model = rv.nn.MLP(4, [], 3, seed=0, dtype="float64")
    by_hand = rv.nn.MLP(4, [], 3, seed=0, dtype="float64")
    trainer = rv.train.Trainer(model, rv.optim.Newton(model, damping=1e-2), regularizers=[rv.nn.L2(1e-2)],
                               batch_size=40, progress=False)
    history = trainer.fit(X, y, epochs=4)
    assert trainer.step_kind == "closure" and calls == []

    opt = rv.optim.Newton(by_hand, damping=1e-2)
    losses = [opt.step(lambda: F.cross_entropy(by_hand(X), y) + rv.nn.L2(1e-2)(by_hand)) for _ in range(4)]
    for name, value in model.state_dict().items():
        assert np.array_equal(value, by_hand.state_dict()[name]), name
    # the step reports the data loss at the weights before each update (the objective less λΩ)
    assert history["loss"][0] == pytest.approx(float(losses[0]) - 1e-2 * sum(
        float((p.data ** 2).sum()) for p in rv.nn.MLP(4, [], 3, seed=0, dtype="float64").parameters()
        if p.regularize), rel=1e-12)


@pytest.mark.parametrize("option", ["clip_norm", "clip_value"])
def test_clipping_is_refused_for_newton_with_a_clear_error(option):
    model = rv.nn.MLP(4, [3], 3, seed=0, dtype="float64")
    with pytest.raises(ValueError, match=f"{option} cannot apply to Newton: its step is solved from the Hessian"):
        rv.train.Trainer(model, rv.optim.Newton(model), progress=False, **{option: 1.0})
    session = rv.train.Trainer(model, rv.optim.Newton(model), progress=False).start(*_data())
    with pytest.raises(ValueError, match=f"{option} cannot apply to Newton"):
        session.set_clipping(**{option: 1.0})
    first_order = rv.train.Trainer(model, rv.optim.SGD(model, lr=0.1), clip_norm=1.0, progress=False)
    session = first_order.start(*_data())
    with pytest.raises(ValueError, match="clip_norm cannot apply to Newton"):
        session.set_optimizer(rv.optim.Newton(model))


def test_a_step_that_meets_a_non_finite_loss_makes_no_update():
    X, y = _data(n=8)
    for compiled in ("auto", False):
        model = rv.nn.MLP(4, [5], 3, activation="relu", seed=0, dtype="float64")
        for linear in model.linear_layers():  # finite weights whose forward pass overflows
            linear.weight.data[...] = 1e200
        before = model.state_dict()
        step = rv.train.Trainer(model, rv.optim.SGD(model, lr=0.1), progress=False,
                                compiled=compiled).make_step()
        with np.errstate(all="ignore"):
            loss, objective, out = step(X, y)
        assert not np.isfinite(loss)
        for name, value in model.state_dict().items():
            assert np.array_equal(value, before[name]), name
