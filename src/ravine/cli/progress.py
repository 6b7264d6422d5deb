"""Progress output of the command: one plain line per epoch."""

from __future__ import annotations

import sys

from ..train import Callback


class EpochPrinter(Callback):
    """Prints ``epoch  3/30  loss 0.1234  error 2.31%  val_loss …  val_error …  0.05s``."""

    def __init__(self, epochs: int, stream=None):
        self.epochs, self.stream = epochs, stream or sys.stdout
        self.width = len(str(epochs))

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        parts = [f"epoch {epoch:>{self.width}}/{self.epochs}"]
        for key in ("loss", "error", "val_loss", "val_error"):
            if key in logs:
                value = logs[key]
                parts.append(f"{key} {value:.2%}" if key.endswith("error") else f"{key} {value:.4f}")
        parts.append(f"{logs.get('seconds', 0.0):.2f}s")
        print("  ".join(parts), file=self.stream, flush=True)
