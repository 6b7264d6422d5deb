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

import math
import time

import numpy as np

from .._checks import check_finite
from .._random import as_generator
from ..autodiff.softmax import check_labels
from ..fast import CompiledStep, why_not_compiled
from ..nn.batchnorm import BatchNorm1d
from ..optim.clip import clip_grad_norm_, clip_grad_value_
from .callbacks import CallbackList
from .evaluate import LOSSES, evaluate, predict_output
from .history import History
from .progress import default_progress
from .state import restore_trainer, trainer_state


def _mean_squared_error_targets(y: np.ndarray, out_features: int, dtype) -> np.ndarray:
    targets = np.asarray(y, dtype=dtype)
    if targets.ndim == 1 and out_features == 1:
        targets = targets[:, None]
    return targets


class Trainer:
    """Trains ``model`` with ``optimizer`` on mini-batches of ``batch_size`` examples.

    ``optimizer``: any ``rv.optim`` optimizer over the model's parameters (default: Adam, lr 1e-3).
    ``loss``: "cross_entropy" (classification: the model outputs logits, labels are integers) or
    "mse" (regression). ``regularizers``: penalties such as ``rv.nn.L2(1e-4)`` added to the
    objective. ``seed`` (int or Generator) drives the shuffling: same seed, same run, bit for bit.
    ``schedule``: an ``rv.optim.schedules`` schedule; before each update every parameter group's lr
    is set to its initial lr × ``schedule.multiplier(step)`` (= schedule(step) / schedule.base_lr, so a
    single group whose lr is the schedule's α₀ follows ``schedule(step)`` exactly). A
    reduce-on-plateau schedule is driven instead by ``schedule_monitor`` after each epoch.
    ``clip_norm`` / ``clip_value``: clip the gradients (global norm / each entry) before each update.
    ``callbacks``: ``rv.train.Callback`` instances (early stopping, monitors). ``progress``: "auto"
    (a progress bar on a terminal, plain lines otherwise), "bar", "lines" or False.
    ``shuffle``: draw a new order of the examples every epoch (default), or keep the data's order.
    ``compiled``: "auto" (default) runs each step of a plain MLP (no batch norm or dropout) with
    ``rv.fast.CompiledStep`` — the same boxes called in a fixed order, bit for bit the same
    gradients, without the graph's overhead; False always records the graph.
    """

    def __init__(self, model, optimizer=None, loss: str = "cross_entropy", regularizers=(),
                 batch_size: int = 32, seed=0, callbacks=(), schedule=None,
                 schedule_monitor: str = "val_loss", clip_norm: float | None = None,
                 clip_value: float | None = None, progress="auto", compiled="auto", shuffle: bool = True):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; expected one of {', '.join(LOSSES)}")
        if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
        if optimizer is None:
            from ..optim import Adam

            optimizer = Adam(model.parameters(), lr=1e-3)
        for name, value in (("clip_norm", clip_norm), ("clip_value", clip_value)):
            if value is not None and not (isinstance(value, (int, float)) and 0 < value < math.inf):
                raise ValueError(f"{name} must be a positive number or None; got {value!r}")
        self.model, self.optimizer, self.loss_name = model, optimizer, loss
        self.schedule, self.schedule_monitor = schedule, schedule_monitor
        self.clip_norm, self.clip_value = clip_norm, clip_value
        if compiled not in ("auto", False):
            raise ValueError(f"compiled must be 'auto' or False; got {compiled!r}")
        self.compiled = compiled
        self.shuffle = bool(shuffle)
        self.loss_fn = LOSSES[loss]
        self.regularizers = list(regularizers)
        self.batch_size = int(batch_size)
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
    @property
    def classification(self) -> bool:
        return self.loss_name == "cross_entropy"

    def _check_data(self, X, y, what: str):
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
        y = np.asarray(y)
        if len(y) != len(X):
            raise ValueError(f"{what}: {len(X)} rows of features but {len(y)} labels")
        if self.classification:
            y = check_labels(y, len(X), self._out_features())
        else:
            y = _mean_squared_error_targets(y, self._out_features(), dtype)
            check_finite(y, f"{what} targets")
        return X, y

    def _out_features(self) -> int:
        out = getattr(self.model, "out_features", None)
        if out is None:
            out = self.model.parameters()[-1].shape[0]
        return int(out)

    # --- training -----------------------------------------------------------------------------
    def _objective(self, out, yb):
        loss = self.loss_fn(out, yb)
        total = loss
        for reg in self.regularizers:
            total = total + reg(self.model)
        return loss, total

    def objective(self, xb, yb):
        """(data loss, training objective J = loss + penalties) of the model on one mini-batch."""
        return self._objective(self.model(xb), yb)

    def fit(self, X, y, epochs: int = 100, validation_data=None, checkpoint=None) -> History:
        """Train for ``epochs`` more epochs (or until a callback stops it); return the History.

        ``checkpoint(trainer)``, if given, is called at the end of every epoch, after every callback
        (so it sees the epoch's complete row and any decision to stop): save ``trainer.state()``.
        """
        X, y = self._check_data(X, y, "training")
        valid = self._check_data(*validation_data, "validation") if validation_data is not None else None
        if not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"epochs must be a non-negative integer; got {epochs!r}")
        callbacks = CallbackList(self.callbacks, self)
        self.stop_training, self.stop_reason = False, None
        last_epoch = self.planned_epochs = self.epoch + int(epochs)
        self.batches_per_epoch = -(-len(X) // self.batch_size)
        for group in self.optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        callbacks.on_train_begin({})
        while self.epoch < last_epoch and not self.stop_training:
            self.epoch += 1
            logs: dict = {"epoch": self.epoch}
            callbacks.on_epoch_begin(self.epoch, logs)
            started = time.perf_counter()
            self._run_epoch(X, y, callbacks, logs)
            if valid is not None and not self.stop_training:
                logs.update({f"val_{k}": v for k, v in self.evaluate(*valid, checked=True).items()})
            logs["seconds"] = time.perf_counter() - started
            self._observe_plateau(logs)
            self.history.append(logs)  # the row itself: keys callbacks add below land in it too
            callbacks.on_epoch_end(self.epoch, logs)
            self.history.stop_reason = self.stop_reason
            if checkpoint is not None:
                checkpoint(self)
        callbacks.on_train_end({"epoch": self.epoch})
        return self.history

    def state(self) -> tuple[dict, dict]:
        """(arrays, JSON-safe meta): the whole training state, for ``load_state`` (train/state.py)."""
        return trainer_state(self)

    def load_state(self, arrays: dict, meta: dict) -> None:
        """Continue from a state saved by ``state()`` (same model, optimizer and callbacks)."""
        restore_trainer(self, arrays, meta)

    def _run_epoch(self, X, y, callbacks, logs) -> None:
        from ..data import batches

        model, optimizer = self.model, self.optimizer
        model.train()
        snapshot = model.state_dict()
        params = model.parameters()
        per_step_schedule = self.schedule is not None and not hasattr(self.schedule, "observe")
        one_is_too_few = any(isinstance(m, BatchNorm1d) for _, m in model.named_modules())
        compiled = None if getattr(optimizer, "needs_closure", False) else self._compiled_step()
        total_loss, wrong, seen = 0.0, 0, 0
        for index in batches(len(X), self.batch_size, shuffle=self.shuffle, seed=self.rng):
            if one_is_too_few and len(index) == 1:
                continue  # batch norm cannot normalize a batch of one example: skip that remainder
            xb, yb = X[index], y[index]
            if per_step_schedule:
                self._scale_lr(self.schedule.multiplier(self.step))
            if callbacks.per_batch_begin:
                callbacks.on_batch_begin(self.step + 1, {"inputs": xb, "targets": yb})
            if compiled is not None:  # sets every gradient, as zero_grad() + backward() would
                value, objective_value, out_data = compiled(xb, yb)
            else:
                out = model(xb)
                loss, objective = self._objective(out, yb)
                value, objective_value, out_data = loss.item(), objective.item(), out.data
            if not math.isfinite(value) or not math.isfinite(objective_value):
                self._diverged(snapshot, value)
                break
            if compiled is None:
                optimizer.zero_grad()
                objective.backward()
            if self.clip_norm is not None:
                clip_grad_norm_(params, self.clip_norm)
            if self.clip_value is not None:
                clip_grad_value_(params, self.clip_value)
            if getattr(optimizer, "needs_closure", False):  # Newton re-evaluates the objective itself
                optimizer.step(lambda: self._objective(model(xb), yb)[1])
            else:
                optimizer.step()
            self.step += 1
            m = len(index)
            total_loss += value * m
            seen += m
            if self.classification:
                wrong += int(np.count_nonzero(out_data.argmax(axis=1) != yb))
            if callbacks.per_batch:
                callbacks.on_batch_end(self.step, {"loss": value, "size": m})
        logs["loss"] = total_loss / seen if seen else math.nan
        if self.classification:
            logs["error"] = wrong / seen if seen else math.nan
        logs["lr"] = optimizer.param_groups[0]["lr"]

    def _compiled_step(self):
        """A ``CompiledStep`` for this model, loss and penalties, when it applies and is allowed."""
        if self.compiled is False or why_not_compiled(self.model, self.loss_name, self.regularizers):
            return None
        key = (id(self.model), tuple(id(r) for r in self.regularizers))
        if getattr(self, "_compiled_key", None) != key:
            self._compiled_key, self._compiled = key, CompiledStep(self.model, self.loss_name, self.regularizers)
        return self._compiled

    def _scale_lr(self, multiplier: float) -> None:
        """Every group's lr becomes its initial lr × ``multiplier``."""
        for group in self.optimizer.param_groups:
            group["lr"] = group["initial_lr"] * multiplier

    def _observe_plateau(self, logs: dict) -> None:
        if self.schedule is None or not hasattr(self.schedule, "observe"):
            return
        if self.schedule_monitor not in logs:
            raise KeyError(f"the reduce-on-plateau schedule watches {self.schedule_monitor!r}, which this "
                           f"epoch did not log (give validation_data, or schedule_monitor='loss')")
        self._scale_lr(self.schedule.observe(logs[self.schedule_monitor]) / self.schedule.base_lr)

    def _diverged(self, snapshot, value) -> None:
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
            X, y = self._check_data(X, y, "evaluation")
        return evaluate(self.model, X, y, self.loss_name)
