"""Progress of training: a rich progress bar on a terminal, one plain line per epoch otherwise.

Example line::

    epoch  3/30  loss 0.1234  error 2.31%  val_loss 0.1456  val_error 3.06%  lr 0.05  0.05s
"""

from __future__ import annotations

import sys

from .callbacks import Callback

SHOWN = ("loss", "error", "val_loss", "val_error")


def format_epoch(epoch: int, epochs: int | None, logs: dict) -> str:
    """One line of figures for an epoch: losses as decimals, errors as percentages."""
    total = f"/{epochs}" if epochs else ""
    width = len(str(epochs)) if epochs else 1
    parts = [f"epoch {epoch:>{width}}{total}"]
    for key in SHOWN:
        if key in logs:
            value = logs[key]
            parts.append(f"{key} {value:.2%}" if key.endswith("error") else f"{key} {value:.4f}")
    if "lr" in logs:
        parts.append(f"lr {logs['lr']:.4g}")
    parts.append(f"{logs.get('seconds', 0.0):.2f}s")
    return "  ".join(parts)


class EpochLines(Callback):
    """Prints one line per epoch (and the reason training stopped, if it stopped early)."""

    def __init__(self, stream=None):
        self.stream = stream

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        print(format_epoch(epoch, self.trainer.planned_epochs, logs), file=self.stream or sys.stdout,
              flush=True)

    def on_train_end(self, logs: dict) -> None:
        if self.trainer.stop_reason:
            print(self.trainer.stop_reason, file=self.stream or sys.stdout, flush=True)


class ProgressBar(EpochLines):
    """A rich progress bar over the steps of each epoch, with the epoch lines printed above it."""

    def __init__(self, console=None):
        super().__init__()
        from rich.console import Console

        self.console = console or Console()
        self._progress = None

    def on_train_begin(self, logs: dict) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(TextColumn("[bold]epoch {task.fields[epoch]}"), BarColumn(),
                                  MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.fields[loss]}"),
                                  console=self.console, transient=True)
        self._progress.start()
        self._task = self._progress.add_task("train", total=None, epoch="", loss="")

    def on_epoch_begin(self, epoch: int, logs: dict) -> None:
        self._done = 0
        total = self.trainer.batches_per_epoch
        self._every = max(1, total // 100)
        self._progress.reset(self._task, total=total, epoch=f"{epoch}", loss="")

    def on_batch_end(self, step: int, logs: dict) -> None:
        self._done += 1
        if self._done % self._every == 0:
            self._progress.update(self._task, completed=self._done, loss=f"loss {logs['loss']:.4f}")

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        self._progress.console.print(format_epoch(epoch, self.trainer.planned_epochs, logs), highlight=False,
                                     markup=False)

    def on_train_end(self, logs: dict) -> None:
        self._progress.stop()
        if self.trainer.stop_reason:
            self.console.print(self.trainer.stop_reason, highlight=False, markup=False)


def default_progress(progress) -> list[Callback]:
    """The progress callbacks for ``Trainer(progress=...)``: "auto", "bar", "lines" or False/None."""
    if progress in (False, None, "none"):
        return []
    if progress == "auto":
        progress = "bar" if sys.stdout.isatty() else "lines"
    if progress == "bar":
        return [ProgressBar()]
    if progress == "lines":
        return [EpochLines()]
    raise ValueError(f"progress must be 'auto', 'bar', 'lines' or False; got {progress!r}")
