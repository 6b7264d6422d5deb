"""``TrainingSession``: training driven from outside, a few steps or epochs at a time.

``trainer.start(X, y, validation_data=...)`` returns a session; ``session.run(steps=n)`` or
``session.run(epochs=n)`` trains and returns; between calls the state can be read (``step``,
``epoch``, ``last_loss``, ``history``) and changed, taking effect at the next step: the learning
rate and every optimizer hyperparameter, the optimizer itself, the schedule, the clipping, the
penalties and their strength, the training data. ``Trainer.fit`` is ``start`` + ``run(epochs=k)`` +
``finish``, so running the same epochs in pieces of any size gives bit for bit the same weights.

An epoch is one pass over the training data in a fresh shuffled order, drawn when the epoch's
first step is taken. It ends right after its last step — the epoch's figures, the validation
evaluation, the callbacks' ``on_epoch_end`` and the checkpoint all happen then, within the
``run`` call that took that step — or when the training data are replaced (``set_data``), which
ends the epoch in progress after the steps it made (the next step starts a new epoch on the new
data).

Example::

    session = trainer.start(X, y, validation_data=(Xv, yv))
    session.run(steps=10)
    session.step, session.last_loss              # 10, the loss of the 10th mini-batch
    session.set_hyperparameters(lr=0.01, momentum=0.5)
    session.run(epochs=2)                        # finishes the epoch in progress, then one more
    session.finish()                             # on_train_end (early stopping restores the best)
"""

from __future__ import annotations

import math
import time

from .._checks import check_int
from ..data import batches
from .callbacks import CallbackList
from .steps import check_clipping


class TrainingSession:
    """One training run of a ``Trainer`` on fixed data, advanced by ``run`` (see the module doc)."""

    def __init__(self, trainer, X, y, validation_data=None, epochs: int | None = None, checkpoint=None):
        self.trainer = trainer
        self.X, self.y = trainer.check_data(X, y, "training")
        self.validation = (trainer.check_data(*validation_data, "validation")
                           if validation_data is not None else None)
        self.checkpoint = checkpoint
        self.callbacks = CallbackList(trainer.callbacks, trainer)
        trainer.stop_training, trainer.stop_reason = False, None
        trainer.planned_epochs = None if epochs is None else trainer.epoch + epochs
        trainer.batches_per_epoch = -(-len(self.X) // trainer.batch_size)
        for group in trainer.optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self._step = trainer.make_step()
        self._min_batch = max(m.min_batch_examples for _, m in trainer.model.named_modules())
        self._order: list | None = None      # the batches of the epoch in progress (None: between epochs)
        self.last_loss: float | None = None
        self.last_objective: float | None = None
        self.finished = False
        self.callbacks.on_train_begin({})

    # --- what can be read between calls -----------------------------------------------------------
    @property
    def step(self) -> int:
        """Updates made so far (over every session of this trainer)."""
        return self.trainer.step

    @property
    def epoch(self) -> int:
        """The epoch in progress, or the last one finished when between epochs (1-based)."""
        return self.trainer.epoch

    @property
    def in_epoch(self) -> bool:
        """Whether an epoch is in progress (some but not all of its steps taken)."""
        return self._order is not None

    @property
    def history(self):
        return self.trainer.history

    @property
    def stopped(self) -> bool:
        """Whether training stopped (a callback, divergence, or the planned epochs reached)."""
        trainer = self.trainer
        if self.finished:
            return True
        if self.in_epoch:  # a stop asked for mid-epoch takes effect at the epoch's end
            return False
        return trainer.stop_training or (trainer.planned_epochs is not None
                                         and trainer.epoch >= trainer.planned_epochs)

    @property
    def stop_reason(self) -> str | None:
        return self.trainer.stop_reason

    @property
    def step_kind(self) -> str:
        """The kind of step that runs: "graph", "compiled" or "closure"."""
        return self._step.kind

    # --- running ----------------------------------------------------------------------------------
    def run(self, steps: int | None = None, epochs: int | None = None) -> TrainingSession:
        """Make ``steps`` more updates, or run until ``epochs`` more epochs have ended (an epoch in
        progress counts as the first); stop early if training stops. Give exactly one of the two."""
        if (steps is None) == (epochs is None):
            raise ValueError(f"run takes steps= or epochs= (one of them); got steps={steps!r}, "
                             f"epochs={epochs!r}")
        if self.finished:
            raise RuntimeError("this training session is finished; start a new one with trainer.start")
        if steps is not None:
            steps = check_int("steps", steps, minimum=0)
            target = self.trainer.step + steps
            while self.trainer.step < target and not self.stopped:
                if not self._advance(until_epoch_end=False) and not self.in_epoch:
                    break  # an epoch without a single usable batch: steps cannot be made
        else:
            for _ in range(check_int("epochs", epochs, minimum=0)):
                if self.stopped:
                    break
                self._advance(until_epoch_end=True)
        return self

    def finish(self):
        """End the session: the callbacks' ``on_train_end`` (early stopping may restore the best
        weights). Returns the History. An epoch in progress is ended first."""
        if not self.finished:
            if self.in_epoch:
                self._end_epoch()
            self.callbacks.on_train_end({"epoch": self.trainer.epoch})
            self.finished = True
        return self.trainer.history

    def _begin_epoch(self) -> None:
        trainer = self.trainer
        trainer.epoch += 1
        self._logs: dict = {"epoch": trainer.epoch}
        self.callbacks.on_epoch_begin(trainer.epoch, self._logs)
        self._seconds = 0.0
        trainer.model.train()
        self._snapshot = trainer.model.state_dict()   # the last weights known good
        self._order = list(batches(len(self.X), trainer.batch_size, shuffle=trainer.shuffle,
                                   seed=trainer.rng))
        self._position = 0
        self._skip_unusable()
        self._total_loss, self._wrong, self._seen = 0.0, 0, 0

    def _skip_unusable(self) -> None:
        """Batch norm cannot normalize a batch of one example: skip such a remainder."""
        order, minimum = self._order, self._min_batch
        while self._position < len(order) and len(order[self._position]) < minimum:
            self._position += 1

    def _advance(self, until_epoch_end: bool) -> int:
        """One update (or, with ``until_epoch_end``, the rest of the epoch), ending the epoch after
        its last batch; returns the number of updates made."""
        if self._order is None:
            self._begin_epoch()
        trainer, callbacks, step = self.trainer, self.callbacks, self._step
        schedule = trainer.schedule
        per_step_schedule = schedule is not None and not schedule.stateful
        loss, X, y, order = trainer.loss, self.X, self.y, self._order
        started, diverged, first = time.perf_counter(), False, trainer.step
        while self._position < len(order):
            index = order[self._position]
            self._position += 1
            xb, yb = X[index], y[index]
            if per_step_schedule:
                trainer.scale_lr(schedule.multiplier(trainer.step))
            if callbacks.per_batch_begin:
                callbacks.on_batch_begin(trainer.step + 1, {"inputs": xb, "targets": yb})
            value, objective, out = step(xb, yb)
            if not (math.isfinite(value) and math.isfinite(objective)):
                trainer.diverged(self._snapshot, value)
                diverged = True
                break
            trainer.step += 1
            self.last_loss, self.last_objective = value, objective
            m = len(index)
            self._total_loss += value * m
            self._seen += m
            wrong = loss.errors(out, yb)
            if wrong is not None:
                self._wrong += wrong
            if callbacks.per_batch:
                callbacks.on_batch_end(trainer.step, {"loss": value, "size": m})
            self._skip_unusable()
            if not until_epoch_end:
                break
        self._seconds += time.perf_counter() - started
        if diverged or self._position >= len(order):
            self._end_epoch()
        return trainer.step - first

    def _end_epoch(self) -> None:
        trainer, logs, seen = self.trainer, self._logs, self._seen
        started = time.perf_counter()
        logs["loss"] = self._total_loss / seen if seen else math.nan
        if trainer.loss.task == "classification":
            logs["error"] = self._wrong / seen if seen else math.nan
        logs["lr"] = trainer.optimizer.param_groups[0]["lr"]
        if self.validation is not None and not trainer.stop_training:
            logs.update({f"val_{k}": v for k, v in trainer.evaluate(*self.validation, checked=True).items()})
        logs["seconds"] = self._seconds + (time.perf_counter() - started)
        trainer.observe_plateau(logs)
        trainer.history.append(logs)  # the row itself: keys callbacks add below land in it too
        self._order = None
        self.callbacks.on_epoch_end(trainer.epoch, logs)
        trainer.history.stop_reason = trainer.stop_reason
        if self.checkpoint is not None:
            self.checkpoint(trainer)

    # --- changes between calls, effective at the next step ----------------------------------------
    def set_hyperparameters(self, **values) -> None:
        """Set optimizer hyperparameters (``lr``, ``momentum``, ``betas``, ...) in every parameter
        group, checked by the optimizer now. A new ``lr`` is also the base a schedule scales."""
        optimizer = self.trainer.optimizer
        known = optimizer.defaults
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"{type(optimizer).__name__} has no hyperparameter "
                             f"{', '.join(repr(k) for k in unknown)}; it has {', '.join(known)}")
        for group in optimizer.param_groups:
            checked = optimizer.check({**{k: group[k] for k in known}, **values})
            group.update({k: checked[k] for k in values})
            if "lr" in values:
                group["initial_lr"] = checked["lr"]

    def set_optimizer(self, optimizer) -> None:
        """Continue with another optimizer (over the same parameters), from the current weights."""
        trainer = self.trainer
        check_clipping(optimizer, trainer.clip_norm, trainer.clip_value)
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        trainer.optimizer = optimizer
        self._step = trainer.make_step()

    def set_schedule(self, schedule) -> None:
        """Follow another learning-rate schedule (None: keep the current lr) from the next step;
        it is read at the global step count, so a schedule's clock does not restart."""
        self.trainer.schedule = schedule

    def set_clipping(self, clip_norm: float | None = None, clip_value: float | None = None) -> None:
        """Clip by global norm and/or by value from the next step (None: not at all)."""
        trainer = self.trainer
        trainer.clip_norm, trainer.clip_value = check_clipping(trainer.optimizer, clip_norm, clip_value)
        self._step = trainer.make_step()

    def set_regularizers(self, regularizers) -> None:
        """Penalize with these regularizers (e.g. ``[rv.nn.L2(1e-3)]``; [] for none) from the next step."""
        self.trainer.regularizers = list(regularizers)
        self._step = self.trainer.make_step()

    def set_data(self, X, y) -> None:
        """Train on these data from the next step; an epoch in progress ends after its steps."""
        X, y = self.trainer.check_data(X, y, "training")
        if self.in_epoch:
            self._end_epoch()
        self.X, self.y = X, y
        self.trainer.batches_per_epoch = -(-len(X) // self.trainer.batch_size)


__all__ = ["TrainingSession"]
