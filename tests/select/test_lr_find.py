"""The learning-rate range test: a usable suggestion on digits, nothing left changed, a plot that
decodes, and bad arguments refused by name."""

import math

import numpy as np
import pytest

import ravine as rv
from ravine.cli.config import TrainConfig
from ravine.select.lr_find import LRFindResult, lr_find, plot_lr_find


@pytest.fixture(scope="module")
def digits():
    d = rv.data.load("digits")
    X = d.X.astype(np.float32)
    X = (X - X.mean(0)) / (X.std(0) + 1e-6)
    idx = np.random.default_rng(0).permutation(len(X))[:500]
    return X[idx], d.y[idx]


def sgd_trainer(lr=0.05, momentum=0.9, **model_options):
    model = rv.nn.MLP(64, [16], 10, seed=0, **model_options)
    opt = rv.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    return rv.train.Trainer(model, opt, batch_size=32, progress=False, seed=0)


@pytest.mark.parametrize("optimizer,momentum", [("sgd", 0.0), ("sgd", 0.9), ("adam", 0.9)])
def test_suggestion_trains(digits, optimizer, momentum):
    X, y = digits
    config = TrainConfig(hidden=[16], optimizer=optimizer, momentum=momentum, batch_size=32)
    result = lr_find(config, X, y, start_lr=1e-5, end_lr=10.0, steps=50)
    assert isinstance(result, LRFindResult)
    assert math.isfinite(result.suggestion) and 1e-5 <= result.suggestion <= 10.0
    assert len(result.lrs) == len(result.losses) == len(result.stable_lrs) == len(result.raw_losses)
    assert np.all(np.diff(np.log(result.lrs)) > 0)
    assert np.isfinite(result.stable_lrs).sum() >= 3           # the bound was measured along the way
    if optimizer == "sgd":
        assert result.stable_cap is not None and result.suggestion <= result.stable_cap
    assert result.suggestion <= result.min_loss_lr

    trained = TrainConfig(hidden=[16], optimizer=optimizer, momentum=momentum, batch_size=32,
                          lr=result.suggestion)
    from ravine.cli.build import build_model, build_trainer
    model = build_model(trained, 64, 10)
    trainer = build_trainer(trained, model, "classification", progress=False)
    start = trainer.evaluate(X, y)["loss"]
    history = trainer.fit(X, y, epochs=5)
    losses = history["loss"]
    end = trainer.evaluate(X, y)["loss"]
    assert trainer.stop_reason is None
    assert math.isfinite(end) and end < 0.25 * start
    assert len(losses) == 5 and all(math.isfinite(v) for v in losses)


def _state(trainer):
    return (trainer.model.state_dict(), trainer.optimizer.state_dict(),
            [None if p.grad is None else np.array(p.grad.data if hasattr(p.grad, "data") else p.grad)
             for p in trainer.model.parameters()])


def _same(a, b):
    (ma, oa, ga), (mb, ob, gb) = a, b
    assert ma.keys() == mb.keys() and all(np.array_equal(ma[k], mb[k]) for k in ma)
    assert oa["param_groups"] == ob["param_groups"]
    assert oa["state"].keys() == ob["state"].keys()
    for name in oa["state"]:
        for key, value in oa["state"][name].items():
            assert np.array_equal(value, ob["state"][name][key]), (name, key)
    assert [g is None for g in ga] == [g is None for g in gb]
    assert all(np.array_equal(x, z) for x, z in zip(ga, gb) if x is not None)


@pytest.mark.parametrize("options", [{}, {"batchnorm": True, "dropout": 0.2}])
def test_leaves_model_and_optimizer_as_found(digits, options):
    X, y = digits
    trainer = sgd_trainer(**options)
    session = trainer.start(X, y)
    session.run(steps=7)                               # a non-trivial momentum buffer and step count
    before = _state(trainer)
    rngs = [m.rng.bit_generator.state for _, m in trainer.model.named_modules() if hasattr(m, "rng")]
    counters = (trainer.step, trainer.epoch, len(trainer.history), trainer.rng.bit_generator.state)
    result = lr_find(trainer, X, y, steps=30)
    _same(before, _state(trainer))
    assert rngs == [m.rng.bit_generator.state for _, m in trainer.model.named_modules() if hasattr(m, "rng")]
    assert counters == (trainer.step, trainer.epoch, len(trainer.history), trainer.rng.bit_generator.state)
    assert trainer.optimizer.param_groups[0]["lr"] == 0.05
    # the same run again gives the same figures: nothing of the first run was left behind
    again = lr_find(trainer, X, y, steps=30)
    assert np.array_equal(result.losses, again.losses) and result.suggestion == again.suggestion
    session.run(steps=3)                               # and training goes on
    assert math.isfinite(session.last_loss)


def test_stops_when_the_loss_diverges(digits):
    X, y = digits
    result = lr_find(sgd_trainer(momentum=0.9), X, y, start_lr=1e-3, end_lr=1e3, steps=80, divergence=1.5)
    assert len(result.lrs) < 80
    assert "diverged" in result.stop_reason or "became" in result.stop_reason
    assert result.suggestion < result.lrs[-1]


def test_plot_decodes(digits, tmp_path):
    from PIL import Image

    X, y = digits
    result = lr_find(sgd_trainer(), X, y, steps=30)
    path = tmp_path / "lr.png"
    assert plot_lr_find(result, path) == path
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] > image.size[1] > 100
    assert [p.name for p in tmp_path.iterdir()] == ["lr.png"]          # no temporary file left
    with pytest.raises(ValueError, match="png"):
        plot_lr_find(result, tmp_path / "lr.jpg")
    with pytest.raises(TypeError, match="LRFindResult"):
        plot_lr_find({"lrs": []}, tmp_path / "x.png")


@pytest.mark.parametrize("kwargs,error,name", [
    ({"start_lr": 0.0}, ValueError, "start_lr"),
    ({"start_lr": "1e-3"}, TypeError, "start_lr"),
    ({"end_lr": -1.0}, ValueError, "end_lr"),
    ({"start_lr": 1.0, "end_lr": 0.1}, ValueError, "end_lr must be > start_lr"),
    ({"steps": 3}, ValueError, "steps"),
    ({"steps": 10.0}, TypeError, "steps"),
    ({"smoothing": 1.0}, ValueError, "smoothing"),
    ({"divergence": 1.0}, ValueError, "divergence"),
    ({"seed": -1}, ValueError, "seed"),
    ({"curvature_every": 0}, ValueError, "curvature_every"),
])
def test_bad_arguments(digits, kwargs, error, name):
    X, y = digits
    with pytest.raises(error, match=name):
        lr_find(sgd_trainer(), X, y, **kwargs)


def test_bad_inputs(digits):
    X, y = digits
    with pytest.raises(TypeError, match="trainer_or_config"):
        lr_find("sgd", X, y)
    with pytest.raises(ValueError, match="lr"):
        lr_find({"hidden": [8], "optimizer": "newton"}, X[:50], y[:50], steps=5)
    with pytest.raises(TypeError, match="float64"):
        lr_find(sgd_trainer(), X.astype(np.float64), y)
    with pytest.raises(ValueError, match="not_a_key|unknown"):
        lr_find({"not_a_key": 1}, X, y)


def test_dict_config(digits):
    X, y = digits
    result = lr_find({"hidden": [8], "optimizer": "sgd", "momentum": 0.0}, X, y, steps=20)
    assert math.isfinite(result.suggestion)
    assert result.to_dict()["suggestion"] == result.suggestion
