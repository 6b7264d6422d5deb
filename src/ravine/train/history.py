"""``History``: what happened during training, one row per epoch (and optional rows per step).

Keys follow Keras: ``loss`` and ``error`` on the training mini-batches (running averages over the
epoch, while the weights move), ``val_loss`` and ``val_error`` on the validation set after the epoch,
``lr``, ``seconds``; monitors add their own keys. ``history["val_loss"]`` is the list over epochs.

Example::

    history = trainer.fit(X, y, validation_data=(Xv, yv), epochs=20)
    best = history.best_epoch("val_loss")
"""

from __future__ import annotations

import math
from typing import Iterable


class History:
    """Per-epoch logs (``epochs``, a list of dicts) and per-step monitor rows (``steps``)."""

    def __init__(self, epochs: Iterable[dict] = (), steps: Iterable[dict] = (), stop_reason: str | None = None):
        self.epochs: list[dict] = [dict(row) for row in epochs]
        self.steps: list[dict] = [dict(row) for row in steps]
        self.stop_reason = stop_reason

    def append(self, logs: dict) -> None:
        """Add an epoch's row: the dict itself, so keys added to it later (by callbacks) are kept."""
        self.epochs.append(logs)

    def record_step(self, logs: dict) -> None:
        """Add a per-step row; rows of the same ``step`` (from several monitors) are merged."""
        if self.steps and "step" in logs and self.steps[-1].get("step") == logs["step"]:
            self.steps[-1].update(logs)
        else:
            self.steps.append(dict(logs))

    def __len__(self) -> int:
        return len(self.epochs)

    def keys(self) -> list[str]:
        seen: dict[str, None] = {}
        for row in self.epochs:
            seen.update(dict.fromkeys(row))
        return list(seen)

    def __contains__(self, key: str) -> bool:
        return any(key in row for row in self.epochs)

    def __getitem__(self, key: str) -> list[float]:
        """The values of ``key`` over epochs (NaN for an epoch that did not log it)."""
        if key not in self:
            raise KeyError(f"History has no {key!r}; it has {', '.join(self.keys()) or 'nothing yet'}")
        return [row.get(key, math.nan) for row in self.epochs]

    def last(self, key: str, default=None):
        for row in reversed(self.epochs):
            if key in row:
                return row[key]
        return default

    def best_epoch(self, monitor: str = "val_loss", mode: str = "min") -> int:
        """The epoch number (as logged in ``epoch``) where ``monitor`` was best."""
        values = [(row[monitor], row["epoch"]) for row in self.epochs
                  if monitor in row and not math.isnan(row[monitor])]
        if not values:
            raise KeyError(f"History has no finite {monitor!r} to choose a best epoch from")
        pick = min if mode == "min" else max
        return pick(values, key=lambda pair: pair[0])[1]

    def to_dict(self) -> dict:
        return {"epochs": self.epochs, "steps": self.steps, "stop_reason": self.stop_reason}

    @classmethod
    def from_dict(cls, state: dict) -> "History":
        return cls(state.get("epochs", ()), state.get("steps", ()), state.get("stop_reason"))

    def __repr__(self) -> str:
        return f"History({len(self.epochs)} epochs, keys={self.keys()})"
