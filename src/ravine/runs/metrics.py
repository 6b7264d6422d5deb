"""``metrics.csv``: a training history as one CSV that ``csv`` and pandas read as it is.

One header and two kinds of rows, told apart by the ``kind`` column::

    kind,epoch,step,loss,error,val_loss,val_error,lr,seconds,...,gTg,curvature,grad_norm[0.weight],...
    epoch,1,,0.91,0.25,0.52,0.14,0.05,0.21,...
    step,1,1,2.30,,,,0.05,,...,0.83,4.1,0.12,...

``epoch`` rows first (one per epoch, in order), then ``step`` rows (monitor rows from
``History.steps``: ``step`` is the update count, ``epoch`` the epoch it fell in). The columns are
``kind, epoch, step``, then ``loss, error, val_loss, val_error, lr, seconds`` (always present), then
every other key in the order first seen. A cell is empty where a row has no such key. Floats are
written exactly (``repr``), NaN as ``nan`` and infinities as ``inf``/``-inf``; booleans as 1/0.
``pandas.read_csv`` reads it as it is, and ``df[df.kind == "epoch"]`` / ``df[df.kind == "step"]``
separate the two.

Example::

    atomic_write_text("runs/x/metrics.csv", metrics_csv_text(trainer.history))
    history = read_metrics("runs/x/metrics.csv")
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Mapping

import numpy as np

from .toml_io import float_text

__all__ = ["metrics_csv_text", "read_metrics", "history_rows", "EPOCH_COLUMNS"]

EPOCH_COLUMNS = ("loss", "error", "val_loss", "val_error", "lr", "seconds")


def history_rows(history) -> tuple[list[dict], list[dict]]:
    """(epoch rows, step rows) of a ``History`` or of its ``to_dict()``.

    Example: ``epochs, steps = history_rows(trainer.history)``
    """
    if isinstance(history, Mapping):
        return list(history.get("epochs", ())), list(history.get("steps", ()))
    if hasattr(history, "epochs") and hasattr(history, "steps"):
        return list(history.epochs), list(history.steps)
    raise TypeError(f"history must be a History or History.to_dict(); got {type(history).__name__}")


def _cell(value, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return float_text(value)
    if isinstance(value, str):
        return value
    raise TypeError(f"{where} is a {type(value).__name__}; metrics.csv holds numbers and strings")


def metrics_csv_text(history) -> str:
    """The text of ``metrics.csv`` for ``history`` (a ``History`` or its ``to_dict()``).

    Example: ``metrics_csv_text(History([{"epoch": 1, "loss": 0.5}]))``
    """
    epochs, steps = history_rows(history)
    columns: dict[str, None] = dict.fromkeys(("kind", "epoch", "step", *EPOCH_COLUMNS))
    for row in epochs + steps:
        columns.update(dict.fromkeys(k for k in row if isinstance(k, str)))
    for row in epochs + steps:
        bad = [k for k in row if not isinstance(k, str) or k == "kind"]
        if bad:
            raise ValueError(f"history rows cannot have the key {bad[0]!r} in metrics.csv")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(columns))
    for kind, rows in (("epoch", epochs), ("step", steps)):
        for i, row in enumerate(rows):
            cells = [kind]
            for column in list(columns)[1:]:
                where = f"history {kind} row {i}, {column!r}"
                cells.append(_cell(row.get(column), where))
            writer.writerow(cells)
    return out.getvalue()


_INT = re.compile(r"[+-]?[0-9]+")


def _parse(text: str):
    if _INT.fullmatch(text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


def read_metrics(path):
    """``metrics.csv`` read back as a ``History`` (epoch rows, then step rows; booleans as 1/0).

    Example::

        history = read_metrics("runs/x/metrics.csv"); history["val_error"]
    """
    from ..train.history import History

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header or header[:3] != ["kind", "epoch", "step"]:
        raise ValueError(f"{path}: not a ravine metrics.csv (its header must start with "
                             f"kind,epoch,step)")
    epochs, steps = [], []
    for line, cells in enumerate(reader, start=2):
        if len(cells) != len(header):
            raise ValueError(f"{path}, line {line}: {len(cells)} cells for {len(header)} columns")
        row = {k: _parse(v) for k, v in zip(header[1:], cells[1:]) if v != ""}
        if cells[0] == "epoch":
            epochs.append(row)
        elif cells[0] == "step":
            steps.append(row)
        else:
            raise ValueError(f"{path}, line {line}: kind must be 'epoch' or 'step'; got {cells[0]!r}")
    return History(epochs, steps)
