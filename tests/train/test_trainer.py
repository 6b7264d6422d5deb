"""The Trainer: epochs, history, callbacks, divergence, reproducibility, accuracy on digits."""

import io
import math
import warnings

import numpy as np
import pytest

import ravine as rv
from ravine.data import Standardizer, load, train_valid_test_split


@pytest.fixture(scope="module")
def digits():
    ds = load("digits")
    (Xtr, ytr), (Xva, yva), (Xte, yte) = train_valid_test_split(ds.X, ds.y, valid=0.2, test=0.2, seed=0)
    scaler = Standardizer().fit(Xtr)
    return (scaler.transform(Xtr), ytr), (scaler.transform(Xva), yva), (scaler.transform(Xte), yte)


def small_problem(n=120, seed=0):
    X, y = rv.data.make_blobs(n_samples=n, n_classes=3, seed=seed)
    return X.astype(np.float32), y


class Recorder(rv.train.Callback):
    """Records the hooks called, and a copy of the weights at the end of every epoch."""

    def __init__(self):
        self.calls, self.weights = [], {}

    def on_train_begin(self, logs):
        self.calls.append("train_begin")

    def on_epoch_begin(self, epoch, logs):
        self.calls.append(f"epoch_begin {epoch}")

    def on_batch_end(self, step, logs):
        self.calls.append("batch")

    def on_epoch_end(self, epoch, logs):
        self.calls.append(f"epoch_end {epoch}")
        self.weights[epoch] = self.trainer.model.state_dict()

    def on_train_end(self, logs):
        self.calls.append("train_end")


def test_history_has_train_and_validation_figures_per_epoch():
    X, y = small_problem()
    model = rv.nn.MLP(2, [8], 3, seed=0)
    trainer = rv.train.Trainer(model, rv.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                               batch_size=16, progress=False)
    history = trainer.fit(X, y, epochs=4, validation_data=(X[:30], y[:30]))
    assert len(history) == 4
    for key in ("epoch", "loss", "error", "val_loss", "val_error", "lr", "seconds"):
        assert len(history[key]) == 4
    assert history["epoch"] == [1, 2, 3, 4]
    assert history["loss"][-1] < history["loss"][0]
    # The validation figures are the model's, measured independently after each epoch.
    assert history["val_loss"][-1] == pytest.approx(trainer.evaluate(X[:30], y[:30])["loss"], rel=1e-6)


def test_callback_hooks_run_in_order_with_one_batch_call_per_step():
    X, y = small_problem(n=40)
    model = rv.nn.MLP(2, [4], 3, seed=0)
    rec = Recorder()
    trainer = rv.train.Trainer(model, rv.optim.SGD(model.parameters(), lr=0.1), batch_size=16,
                               callbacks=[rec], progress=False)
    trainer.fit(X, y, epochs=2)
    per_epoch = ["batch"] * 3
    assert rec.calls == (["train_begin", "epoch_begin 1", *per_epoch, "epoch_end 1",
                          "epoch_begin 2", *per_epoch, "epoch_end 2", "train_end"])


def test_same_seed_same_run_bit_for_bit_and_another_seed_differs():
    X, y = small_problem()

    def run(seed):
        model = rv.nn.MLP(2, [8, 8], 3, seed=seed)
        trainer = rv.train.Trainer(model, rv.optim.SGD(model.parameters(), lr=0.05, momentum=0.9),
                                   batch_size=8, seed=seed, progress=False)
        history = trainer.fit(X, y, epochs=3)
        return model.state_dict(), history["loss"]

    a, b, c = run(3), run(3), run(4)
    assert all(np.array_equal(a[0][k], b[0][k]) for k in a[0]) and a[1] == b[1]
    assert not np.array_equal(a[0]["0.weight"], c[0]["0.weight"])


def test_divergence_stops_with_a_message_naming_epoch_and_step_and_leaves_finite_weights(digits):
    (X, y), _, _ = digits
    model = rv.nn.MLP(64, [100], 10, activation="relu", seed=0)
    trainer = rv.train.Trainer(model, rv.optim.SGD(model.parameters(), lr=1e4), batch_size=32,
                               progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the overflow that makes the loss infinite
        history = trainer.fit(X, y, epochs=5)
    assert history.stop_reason is not None
    assert "diverged" in history.stop_reason and "epoch 1" in history.stop_reason
    assert "step" in history.stop_reason
    for p in model.parameters():
        assert np.all(np.isfinite(p.data))
    assert trainer.epoch == 1  # it stopped in the epoch where the loss blew up


def test_early_stopping_on_a_planted_validation_curve_stops_patience_epochs_after_the_best():
    X, y = small_problem()
    planted = [1.0, 0.8, 0.6, 0.55, 0.7, 0.56, 0.58, 0.9, 0.4, 0.3]  # best at epoch 4 (0.55)
    patience = 3

    class PlantCurve(rv.train.Callback):
        def on_epoch_end(self, epoch, logs):
            logs["val_loss"] = planted[epoch - 1]

    rec = Recorder()
    stop = rv.train.EarlyStopping(monitor="val_loss", patience=patience)
    model = rv.nn.MLP(2, [8], 3, seed=0)
    trainer = rv.train.Trainer(model, rv.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                               batch_size=16, callbacks=[PlantCurve(), rec, stop], progress=False)
    history = trainer.fit(X, y, epochs=len(planted), validation_data=(X, y))
    assert stop.best_epoch == 4
    assert stop.stopped_epoch == 4 + patience == len(history)
    final = model.state_dict()
    for key, value in rec.weights[4].items():
        np.testing.assert_array_equal(final[key], value)
    assert not np.array_equal(final["0.weight"], rec.weights[len(history)]["0.weight"])
    assert "did not improve for 3 epochs after epoch 4" in history.stop_reason


def test_early_stopping_needs_the_figure_it_monitors():
    X, y = small_problem(n=30)
    model = rv.nn.MLP(2, [4], 3, seed=0)
    trainer = rv.train.Trainer(model, rv.optim.SGD(model.parameters(), lr=0.1),
                               callbacks=[rv.train.EarlyStopping()], progress=False)
    with pytest.raises(KeyError, match="give validation_data"):
        trainer.fit(X, y, epochs=1)


def test_bad_training_data_is_refused_with_a_clear_message():
    X, y = small_problem(n=30)
    model = rv.nn.MLP(2, [4], 3, seed=0)
    trainer = rv.train.Trainer(model, progress=False)
    Xnan = X.copy()
    Xnan[7, 1] = np.nan
    with pytest.raises(ValueError, match=r"training features contains NaN at row 7, column 1"):
        trainer.fit(Xnan, y, epochs=1)
    with pytest.raises(ValueError, match=r"labels must be integers in \[0, 3\); got 3 at row 2"):
        trainer.fit(X, np.where(np.arange(30) == 2, 3, y), epochs=1)
    with pytest.raises(TypeError, match="float64 but the model is float32"):
        trainer.fit(X.astype(np.float64), y, epochs=1)
    with pytest.raises(ValueError, match="30 rows of features but 29 labels"):
        trainer.fit(X, y[:-1], epochs=1)


def test_a_schedule_sets_the_learning_rate_of_every_update():
    X, y = small_problem(n=64)
    model = rv.nn.MLP(2, [4], 3, seed=0)
    opt = rv.optim.SGD(model.parameters(), lr=0.5)
    seen = []

    class WatchLR(rv.train.Callback):
        def on_batch_end(self, step, logs):
            seen.append(opt.param_groups[0]["lr"])

    schedule = rv.optim.schedules.inverse_time(0.5, decay=0.1)
    trainer = rv.train.Trainer(model, opt, batch_size=16, schedule=schedule, callbacks=[WatchLR()],
                               progress=False)
    history = trainer.fit(X, y, epochs=2)
    assert seen == pytest.approx([0.5 / (1 + 0.1 * t) for t in range(8)], rel=1e-12)
    assert history["lr"] == pytest.approx([seen[3], seen[7]])


def test_progress_lines_are_printed_per_epoch(capsys):
    X, y = small_problem(n=40)
    model = rv.nn.MLP(2, [4], 3, seed=0)
    rv.train.Trainer(model, rv.optim.SGD(model.parameters(), lr=0.1), progress="lines").fit(
        X, y, epochs=3, validation_data=(X, y))
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("epoch 1/3  loss ") and "val_error" in lines[0] and lines[0].endswith("s")


def test_progress_bar_draws_on_a_terminal():
    from rich.console import Console

    out = io.StringIO()
    X, y = small_problem(n=40)
    model = rv.nn.MLP(2, [4], 3, seed=0)
    bar = rv.train.ProgressBar(console=Console(file=out, force_terminal=True, width=100))
    rv.train.Trainer(model, rv.optim.SGD(model.parameters(), lr=0.1), callbacks=[bar], progress=False).fit(
        X, y, epochs=2)
    text = out.getvalue()
    assert "epoch 2/2" in text and "loss" in text


def test_digits_with_the_trainers_defaults_matches_scikit_learn(digits):
    """Mean test accuracy over three seeds ≥ scikit-learn's MLPClassifier (same hidden sizes) − 0.01."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    (X, y), _, (Xt, yt) = digits
    ours, theirs = [], []
    for seed in range(3):
        model = rv.nn.MLP(64, [100], 10, seed=seed)
        trainer = rv.train.Trainer(model, seed=seed, progress=False)
        trainer.fit(X, y)
        ours.append(1 - trainer.evaluate(Xt, yt)["error"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = MLPClassifier(hidden_layer_sizes=(100,), random_state=seed).fit(X, y)
        theirs.append(clf.score(Xt, yt))
    assert np.mean(ours) >= np.mean(theirs) - 0.01, (ours, theirs)
    assert math.isfinite(np.mean(ours))
