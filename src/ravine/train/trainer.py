"""``Trainer``: epochs of shuffled mini-batches minimizing empirical risk plus penalties.

Each step on a mini-batch B of m examples computes the objective
    J(θ) = (1/m) Σ_{t∈B} l(f(x⁽ᵗ⁾; θ), y⁽ᵗ⁾) + Σ_r λ_r Ω_r(θ),
backpropagates it, and lets the optimizer update θ. After each epoch the model is evaluated on the
validation set (what early stopping looks at) and the epoch's figures go into ``History``.

A non-finite loss stops training: the weights are put back to where they were at the start of the
epoch (the last ones known good) and ``history.stop_reason`` names the epoch and step.

Example::

    model = rv.nn.MLP(64, [100], 10, seed=0)
    trainer = rv.train.Trainer(model, rv.optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
    history = trainer.fit(X, y, validation_data=(Xv, yv), epochs=30)
    trainer.evaluate(Xt, yt)        # {'loss': ..., 'error': ...}
"""

from __future__ import annotations

import numpy as np

from .._checks import check_choice, check_finite, check_flag, check_int
from .._random import as_generator
from ..nn import losses
from .evaluate import evaluate, predict_output
from .history import History
from .progress import default_progress
from .session import TrainingSession
from .state import restore_trainer, trainer_state
from .steps import check_clipping, choose_step, objective, step_class


class Trainer:
    """Trains ``model`` with ``optimizer`` on mini-batches of ``batch_size`` examples.

    ``optimizer``: any ``rv.optim`` optimizer over the model's parameters (default: Adam, lr 1e-3).
    ``loss``: "cross_entropy" (classification: the model outputs logits, labels are integers),
    "mse" (regression), or an ``rv.nn.losses.Loss``. ``regularizers``: penalties such as
    ``rv.nn.L2(1e-4)`` added to the objective. ``seed`` (int or Generator) drives the shuffling:
    same seed, same run, bit for bit.
    ``schedule``: an ``rv.optim.schedules`` schedule; before each update every parameter group's lr
    is set to its initial lr × ``schedule.multiplier(step)`` (= schedule(step) / schedule.base_lr, so a
    single group whose lr is the schedule's α₀ follows ``schedule(step)`` exactly). A
    reduce-on-plateau schedule is driven instead by ``schedule_monitor`` after each epoch.
    ``clip_norm`` / ``clip_value``: clip the gradients (global norm / each entry) before each update
    (refused for Newton's method, whose step is not the gradient's).
    ``callbacks``: ``rv.train.Callback`` instances (early stopping, monitors). ``progress``: "auto"
    (a progress bar on a terminal, plain lines otherwise), "bar", "lines" or False.
    ``shuffle``: draw a new order of the examples every epoch (default), or keep the data's order.
    ``compiled``: "auto" (default) runs each step of a plain MLP (no batch norm or dropout) as a
    ``CompiledStep`` — the same boxes called in a fixed order, bit for bit the same gradients,
    without the graph's overhead; False always records the graph (``GraphStep``). Optimizers that
    evaluate the objective themselves (Newton) run as a ``ClosureStep``. ``step_kind`` says which.

    ``fit`` trains for a number of epochs; ``start`` returns a ``TrainingSession`` to drive training
    a few steps at a time, changing the learning rate, the data and more between calls.
    """

    def __init__(self, model, optimizer=None, loss="cross_entropy", regularizers=(),
                 batch_size: int = 32, seed=0, callbacks=(), schedule=None,
                 schedule_monitor: str = "val_loss", clip_norm: float | None = None,
                 clip_value: float | None = None, progress="auto", compiled="auto", shuffle: bool = True):
        self.loss = losses.get(loss)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        if optimizer is None:
            from ..optim import Adam

            optimizer = Adam(model.parameters(), lr=1e-3)
        self.clip_norm, self.clip_value = check_clipping(optimizer, clip_norm, clip_value)
        self.model, self.optimizer = model, optimizer
        self.schedule, self.schedule_monitor = schedule, schedule_monitor
        self.compiled = check_choice("compiled", compiled, ("auto", False))
        self.shuffle = check_flag("shuffle", shuffle)
        self.regularizers = list(regularizers)
        self.rng = as_generator(seed)
        self.callbacks = list(callbacks) + default_progress(progress)
        self.history = History()
        self.stop_training = False
        self.stop_reason: str | None = None
        self.epoch = 0
        self.step = 0
        self.planned_epochs: int | None = None
        self.batches_per_epoch = 0

    # --- data ---------------------------------------------------------------------------------
    def check_data(self, X, y, what: str):
        """(X, y) checked against the model (2-D floats of its dtype, finite) and the loss's targets."""
        dtype = self.model.parameters()[0].dtype
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"{what} features must be a 2-D array (examples × features); got shape {X.shape}")
        if X.dtype != dtype:
            if X.dtype.kind == "f":
                raise TypeError(f"{what} features have dtype {X.dtype} but the model is {dtype}; "
                                f"convert with .astype(np.{dtype})")
            raise TypeError(f"{what} features must be floats; got dtype {X.dtype}")
        check_finite(X, f"{what} features")
        return X, self.loss.targets(y, len(X), self._out_features(), dtype, what)

    def _out_features(self) -> int:
        out = getattr(self.model, "out_features", None)
        if out is None:
            out = self.model.parameters()[-1].shape[0]
        return int(out)

    # --- training -----------------------------------------------------------------------------
    @property
    def step_kind(self) -> str:
        """The kind of step ``fit`` runs now: "compiled", "graph" or "closure" (see ``train.steps``)."""
        return step_class(self.model, self.optimizer, self.loss, self.regularizers, self.compiled).kind

    def make_step(self):
        """A step object for the current model, optimizer, loss, penalties and clipping."""
        return choose_step(self.model, self.optimizer, self.loss, self.regularizers, self.clip_norm,
                           self.clip_value, self.compiled)

    def objective(self, xb, yb):
        """(data loss, training objective J = loss + penalties) of the model on one mini-batch."""
        return objective(self.model, self.loss, self.regularizers, self.model(xb), yb)

    def start(self, X, y, validation_data=None, epochs: int | None = None,
              checkpoint=None) -> TrainingSession:
        """A ``TrainingSession`` on (X, y): call ``run(steps=n)`` / ``run(epochs=n)`` on it, read and
        change its state between calls, and ``finish()`` it. ``epochs``, if given, bounds it."""
        if epochs is not None:
            epochs = check_int("epochs", epochs, minimum=0)
        return TrainingSession(self, X, y, validation_data, epochs, checkpoint)

    def fit(self, X, y, epochs: int = 100, validation_data=None, checkpoint=None) -> History:
        """Train for ``epochs`` more epochs (or until a callback stops it); return the History.

        ``checkpoint(trainer)``, if given, is called at the end of every epoch, after every callback
        (so it sees the epoch's complete row and any decision to stop): save ``trainer.state()``.
        """
        epochs = check_int("epochs", epochs, minimum=0)
        session = self.start(X, y, validation_data, epochs, checkpoint)
        return session.run(epochs=epochs).finish()

    def state(self) -> tuple[dict, dict]:
        """(arrays, JSON-safe meta): the whole training state, for ``load_state`` (train/state.py)."""
        return trainer_state(self)

    def load_state(self, arrays: dict, meta: dict) -> None:
        """Continue from a state saved by ``state()`` (same model, optimizer and callbacks)."""
        restore_trainer(self, arrays, meta)

    def scale_lr(self, multiplier: float) -> None:
        """Every group's lr becomes its initial lr × ``multiplier``."""
        for group in self.optimizer.param_groups:
            group["lr"] = group["initial_lr"] * multiplier

    def observe_plateau(self, logs: dict) -> None:
        """Feed a reduce-on-plateau schedule the epoch's monitored figure and apply its lr."""
        if self.schedule is None or not self.schedule.stateful:
            return
        if self.schedule_monitor not in logs:
            raise KeyError(f"the reduce-on-plateau schedule watches {self.schedule_monitor!r}, which this "
                           f"epoch did not log (give validation_data, or schedule_monitor='loss')")
        self.scale_lr(self.schedule.observe(logs[self.schedule_monitor]) / self.schedule.base_lr)

    def diverged(self, snapshot, value) -> None:
        """Put back the weights of the epoch's start (the last known good) and stop training."""
        self.model.load_state_dict(snapshot)
        self.stop_training = True
        self.stop_reason = (f"training diverged: the loss became {value} at epoch {self.epoch}, "
                            f"step {self.step + 1}; weights restored to the start of epoch {self.epoch} "
                            f"(try a smaller learning rate)")

    # --- evaluation ---------------------------------------------------------------------------
    def predict_output(self, X, batch_size: int = 4096) -> np.ndarray:
        """The model's raw output (logits or regression values) for every row of X."""
        return predict_output(self.model, X, batch_size)

    def evaluate(self, X, y, checked: bool = False) -> dict:
        """{'loss': mean loss, 'error': classification error (classification only)} on (X, y)."""
        if not checked:
            X, y = self.check_data(X, y, "evaluation")
        return evaluate(self.model, X, y, self.loss, checked=True)
