"""``EarlyStopping``: stop when the validation figure has not improved for ``patience`` epochs.

This is the lectures' look-ahead: keep training past the best epoch seen so far, for ``patience``
more epochs, in case the validation curve improves again; if it does not, stop and go back to the
weights of the best epoch (``restore_best_weights=True``, the default). An epoch improves when its
value beats the best so far by more than ``min_delta`` (lower for ``mode="min"``, higher for "max").

Example::

    stop = rv.train.EarlyStopping(monitor="val_loss", patience=10)
    trainer = rv.train.Trainer(model, opt, callbacks=[stop])
    trainer.fit(X, y, epochs=500, validation_data=(Xv, yv))
    stop.best_epoch, stop.stopped_epoch
"""

from __future__ import annotations

import math

import numpy as np

from .._checks import check_choice, check_flag, check_int, check_number
from .callbacks import Callback


class EarlyStopping(Callback):
    """Stops training ``patience`` epochs after the best value of ``monitor``; restores its weights."""

    def __init__(self, monitor: str = "val_loss", patience: int = 10, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = True):
        owner = "EarlyStopping"
        patience = check_int("patience", patience, minimum=0, owner=owner)
        min_delta = check_number("min_delta", min_delta, low=0.0, owner=owner)
        if not isinstance(monitor, str):
            raise TypeError(f"{owner}: monitor must be the name of a logged figure; got {monitor!r}")
        mode = check_choice("mode", mode, ("min", "max", "auto"), owner=owner)
        if mode == "auto":
            mode = "max" if monitor.endswith(("accuracy", "acc", "score")) else "min"
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
        self.mode = mode
        self.restore_best_weights = check_flag("restore_best_weights", restore_best_weights, owner=owner)
        self.reset()

    def reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.best_state = None
        self.wait = 0
        self.stopped_epoch: int | None = None

    def improved(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_train_begin(self, logs: dict) -> None:
        self.stopped_epoch = None

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if self.monitor not in logs:
            raise KeyError(f"EarlyStopping monitors {self.monitor!r} but the epoch logged only "
                           f"{', '.join(sorted(logs))} (give validation_data for val_ figures)")
        value = float(logs[self.monitor])
        if self.improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_state = self.trainer.model.state_dict()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer = self.trainer
            trainer.stop_training = True
            trainer.stop_reason = (
                f"early stopping: {self.monitor} did not improve for {self.patience} epochs after "
                f"epoch {self.best_epoch} (best {self.best:.6g})"
                + ("; restored the weights of that epoch" if self.best_state is not None else "")
            )

    def on_train_end(self, logs: dict) -> None:
        if self.restore_best_weights and self.best_state is not None:
            self.trainer.model.load_state_dict(self.best_state)

    def state_dict(self) -> dict:
        """The look-ahead's progress, with the best epoch's weights (to resume a run exactly)."""
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "stopped_epoch": self.stopped_epoch, "best_state": dict(self.best_state or {})}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.best_epoch = float(state["best"]), state["best_epoch"]
        self.wait, self.stopped_epoch = int(state["wait"]), state["stopped_epoch"]
        self.best_state = {k: np.array(v) for k, v in state["best_state"].items()} or None
