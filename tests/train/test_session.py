"""Training driven from outside: ``trainer.start`` + ``session.run`` in pieces equals ``fit`` bit for
bit, and changes made between calls (hyperparameters, optimizer, schedule, clipping, penalties,
data) take effect at the next step exactly as the same change made at the same step in PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ravine as rv
from helpers.oracle import rel_err, torch_twin

RTOL = 1e-10


def _data(n=50, features=4, classes=3, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, features)).astype(dtype)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
    return X, y[:n] % classes


CONFIGS = {
    "plain, compiled": dict(model={}, trainer={}),
    "plain, graph": dict(model={}, trainer={"compiled": False}),
    "batch norm and dropout": dict(model={"batchnorm": True, "dropout": 0.2}, trainer={}),
    "schedule, clipping, L2, early stopping": dict(
        model={"activation": "relu"},
        trainer={"clip_norm": 0.5, "regularizers": [rv.nn.L2(1e-3)]}, schedule=True, stopping=True),
}


def _trainer(config, n_data):
    model = rv.nn.MLP(4, [8, 6], 3, seed=1, **config["model"])
    extra = dict(config["trainer"])
    if config.get("schedule"):
        extra["schedule"] = rv.optim.schedules.cosine(0.1, steps=20)
    callbacks = [rv.train.EarlyStopping(patience=1)] if config.get("stopping") else []
    trainer = rv.train.Trainer(model, rv.optim.SGD(model, lr=0.1, momentum=0.9), batch_size=8,
                               seed=3, progress=False, callbacks=callbacks, **extra)
    return model, trainer


def _same_run(a, b):
    model_a, trainer_a = a
    model_b, trainer_b = b
    for (name, x), (_, y) in zip(model_a.state_dict().items(), model_b.state_dict().items()):
        assert np.array_equal(x, y), f"{name} differs"
    assert trainer_a.step == trainer_b.step and trainer_a.epoch == trainer_b.epoch
    for key in ("loss", "error", "val_loss", "lr"):
        assert trainer_a.history[key] == trainer_b.history[key], key
    assert trainer_a.rng.bit_generator.state == trainer_b.rng.bit_generator.state


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("pieces", [[1], [3], [7], [2, 5, 11], ["epoch", 4, "epoch", 1]])
def test_fit_equals_run_in_pieces_bit_for_bit(name, pieces):
    config = CONFIGS[name]
    X, y = _data(n=49)              # 7 batches of 8 and a remainder of 1 (batch norm skips it)
    valid = _data(n=20, seed=9)
    whole = _trainer(config, len(X))
    whole[1].fit(X, y, epochs=4, validation_data=valid)
    assert whole[1].step > 0

    pieced = _trainer(config, len(X))
    session = pieced[1].start(X, y, validation_data=valid, epochs=4)
    i = 0
    while not session.stopped:
        piece = pieces[i % len(pieces)]
        session.run(epochs=1) if piece == "epoch" else session.run(steps=piece)
        i += 1
    session.finish()
    assert i > 1
    _same_run(whole, pieced)


def test_an_unbounded_session_runs_as_many_steps_as_asked_and_the_state_is_readable():
    X, y = _data(n=40)
    model, trainer = _trainer(CONFIGS["plain, compiled"], len(X))
    session = trainer.start(X, y)
    assert (session.step, session.epoch, session.in_epoch, session.last_loss) == (0, 0, False, None)
    assert session.step_kind == "compiled"
    session.run(steps=3)
    assert (session.step, session.epoch, session.in_epoch) == (3, 1, True)
    assert len(session.history) == 0            # the epoch is still in progress
    session.run(steps=2)                        # 5 batches of 8: the epoch ends with its last one
    assert (session.step, session.epoch, session.in_epoch) == (5, 1, False)
    assert len(session.history) == 1 and np.isfinite(session.last_loss)
    session.run(epochs=2)
    assert (session.step, session.epoch) == (15, 3)
    assert not session.stopped
    session.finish()
    assert session.stopped
    with pytest.raises(RuntimeError, match="finished"):
        session.run(steps=1)


def test_run_and_set_arguments_are_checked():
    X, y = _data(n=16)
    _, trainer = _trainer(CONFIGS["plain, compiled"], len(X))
    session = trainer.start(X, y)
    with pytest.raises(ValueError, match="steps= or epochs="):
        session.run()
    with pytest.raises(ValueError, match="steps= or epochs="):
        session.run(steps=1, epochs=1)
    with pytest.raises(TypeError, match="steps must be an integer ≥ 0; got True"):
        session.run(steps=True)
    with pytest.raises(ValueError, match="SGD has no hyperparameter 'betas'"):
        session.set_hyperparameters(betas=(0.9, 0.99))
    with pytest.raises(ValueError, match="lr must be ≥ 0; got -1"):
        session.set_hyperparameters(lr=-1)
    with pytest.raises(ValueError, match="clip_norm must be > 0; got 0"):
        session.set_clipping(clip_norm=0)
    with pytest.raises(TypeError, match="epochs must be an integer ≥ 0; got True"):
        trainer.fit(X, y, epochs=True)
    assert trainer.optimizer.param_groups[0]["lr"] == 0.1  # nothing was changed by the refusals


# --- the oracle: the same changes at the same steps in PyTorch -----------------------------------

def _twins(activation="tanh"):
    model = rv.nn.MLP(4, [7, 5], 3, activation=activation, seed=2, dtype="float64")
    return model, torch_twin(model)


def _assert_same_weights(model, reference, when):
    for (name, p), (_, q) in zip(model.named_parameters(), reference.named_parameters()):
        assert rel_err(p.data, q.detach().numpy()) <= RTOL, f"{name} differs {when}"


OPTIMIZERS = {
    "sgd": (lambda m: rv.optim.SGD(m, lr=0.1, momentum=0.9),
            lambda r: torch.optim.SGD(r.parameters(), lr=0.1, momentum=0.9),
            {"lr": 0.03, "momentum": 0.5, "nesterov": True}),
    "adam": (lambda m: rv.optim.Adam(m, lr=0.01),
             lambda r: torch.optim.Adam(r.parameters(), lr=0.01),
             {"lr": 0.002, "betas": (0.8, 0.9), "weight_decay": 0.01}),
    "rmsprop": (lambda m: rv.optim.RMSProp(m, lr=0.01, momentum=0.5),
                lambda r: torch.optim.RMSprop(r.parameters(), lr=0.01, momentum=0.5),
                {"lr": 0.005, "alpha": 0.9, "momentum": 0.0}),
    "adagrad": (lambda m: rv.optim.AdaGrad(m, lr=0.1),
                lambda r: torch.optim.Adagrad(r.parameters(), lr=0.1),
                {"lr": 0.02}),
}


def _torch_step(reference, optimizer, xb, yb, l2=0.0, clip_norm=None):
    optimizer.zero_grad()
    loss = torch.nn.functional.cross_entropy(reference(torch.from_numpy(xb)), torch.from_numpy(yb))
    objective = loss + l2 * sum((p * p).sum() for n, p in reference.named_parameters() if "weight" in n)
    objective.backward()
    if clip_norm is not None:
        torch.nn.utils.clip_grad_norm_(reference.parameters(), clip_norm)
    optimizer.step()
    return loss.item()


@pytest.mark.parametrize("compiled", ["auto", False])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_hyperparameter_changes_mid_run_equal_torch_making_the_same_change(name, compiled):
    make, make_torch, changes = OPTIMIZERS[name]
    model, reference = _twins()
    X, y = _data(n=24, dtype=np.float64)
    trainer = rv.train.Trainer(model, make(model), batch_size=4, shuffle=False, progress=False,
                               compiled=compiled)
    torch_opt = make_torch(reference)
    session = trainer.start(X, y)
    batches = [(X[i:i + 4], y[i:i + 4]) for i in range(0, 24, 4)]
    for step in range(16):
        if step == 9:  # in the middle of the second epoch
            session.set_hyperparameters(**changes)
            for group in torch_opt.param_groups:
                group.update(changes)
        session.run(steps=1)
        expected = _torch_step(reference, torch_opt, *batches[step % 6])
        assert session.last_loss == pytest.approx(expected, rel=1e-12)
        _assert_same_weights(model, reference, f"after step {step + 1}")


def test_schedule_clipping_penalty_optimizer_and_data_changes_equal_torch():
    model, reference = _twins("relu")
    X, y = _data(n=24, dtype=np.float64)
    X2, y2 = _data(n=18, seed=5, dtype=np.float64)
    trainer = rv.train.Trainer(model, rv.optim.SGD(model, lr=0.1, momentum=0.9), batch_size=4,
                               shuffle=False, progress=False)
    torch_opt = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    session = trainer.start(X, y)
    data, position, l2, clip, schedule = X, 0, 0.0, None, None
    for step in range(30):
        if step == 4:
            clip = 0.3
            session.set_clipping(clip_norm=clip)
        if step == 8:
            l2 = 1e-2
            session.set_regularizers([rv.nn.L2(l2)])
            assert session.step_kind == "compiled"
        if step == 11:  # mid-epoch: the epoch ends with its steps so far, the next one is on X2
            session.set_data(X2, y2)
            data, position = (X2, y2), 0
            assert not session.in_epoch
        if step == 15:
            schedule = rv.optim.schedules.exponential(0.1, gamma=0.9)
            session.set_schedule(schedule)
        if step == 20:
            torch_opt = torch.optim.Adam(reference.parameters(), lr=0.01)
            session.set_optimizer(rv.optim.Adam(model, lr=0.01))
            schedule = None
            session.set_schedule(None)
        if schedule is not None:
            for group in torch_opt.param_groups:
                group["lr"] = schedule(trainer.step)
        Xd, yd = data if step >= 11 else (X, y)
        start = position * 4
        xb, yb = Xd[start:start + 4], yd[start:start + 4]
        position = (position + 1) % -(-len(Xd) // 4)
        session.run(steps=1)
        expected = _torch_step(reference, torch_opt, xb, yb, l2=l2, clip_norm=clip)
        assert session.last_loss == pytest.approx(expected, rel=1e-12), f"step {step + 1}"
        _assert_same_weights(model, reference, f"after step {step + 1}")
    # the epoch cut short by set_data is in the history with the steps it made
    assert trainer.history["epoch"][:3] == [1, 2, 3]


def test_a_changed_learning_rate_is_the_base_a_schedule_scales():
    X, y = _data(n=16)
    model = rv.nn.MLP(4, [5], 3, seed=0)
    schedule = rv.optim.schedules.exponential(0.1, gamma=0.5)
    trainer = rv.train.Trainer(model, rv.optim.SGD(model, lr=0.1), batch_size=4, schedule=schedule,
                               progress=False)
    session = trainer.start(X, y)
    session.run(steps=2)
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5)
    session.set_hyperparameters(lr=1.0)
    session.run(steps=1)
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(1.0 * 0.25)


def test_data_with_points_added_and_removed_is_trained_on_from_the_next_step():
    X, y = _data(n=16)
    model, trainer = _trainer(CONFIGS["plain, compiled"], len(X))
    session = trainer.start(X, y)
    session.run(steps=1)                        # one of the epoch's two batches of 8
    bigger = (np.vstack([X, X[:5] + 1]), np.concatenate([y, y[:5]]))
    session.set_data(*bigger)
    assert len(trainer.history) == 1 and trainer.batches_per_epoch == 3
    session.run(epochs=1)
    assert trainer.step == 1 + 3 and trainer.epoch == 2
    with pytest.raises(ValueError, match="training: 4 rows of features but 3 labels"):
        session.set_data(X[:4], y[:3])
    assert len(session.X) == 21  # a refused change leaves the data as they were
