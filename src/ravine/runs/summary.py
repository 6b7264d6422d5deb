"""``summary.json`` and ``ravine runs``: how a run ended, and a table of runs.

``build_summary`` makes the dict ``RunFolder.write_summary`` writes, with the keys ``list_runs``
reads: ``format``, ``version``, ``ravine_version``, ``data``, ``status`` (``run_status``),
``stop_reason``, ``epochs_run``, ``best_epoch``, ``seconds`` and ``<split>_<figure>`` for the final
figures (``train_loss``, ``valid_error``, ``test_error``, ...).

Example::

    run.write_summary(build_summary(history, data="digits",
                                    results={"train": tr, "valid": va, "test": te}))
    for row in list_runs("runs"):
        print(row["folder"], row["status"], row["epochs"], row["test_error"])
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any, Mapping

from .checkpoint import CHECKPOINT_JSON
from .folder import CONFIG, METRICS, RUN_FORMAT, RUN_VERSION, SUMMARY, is_run_folder
from .metrics import history_rows
from .toml_io import read_toml

__all__ = ["build_summary", "run_status", "list_runs", "STATUSES"]

STATUSES = ("finished", "early-stopped", "diverged", "stopped", "running-or-interrupted")


def run_status(stop_reason: str | None) -> str:
    """The status of a run that ended with ``History.stop_reason``: "finished" (None),
    "diverged", "early-stopped", or "stopped" (stopped for another reason).

    Example: ``run_status(history.stop_reason)``  # "finished"
    """
    if stop_reason is None:
        return "finished"
    if stop_reason.startswith("training diverged"):
        return "diverged"
    if stop_reason.startswith("early stopping"):
        return "early-stopped"
    return "stopped"


def build_summary(history, *, data: str, results: Mapping[str, Mapping[str, float]] | None = None,
                  seconds: float | None = None, extra: Mapping[str, Any] | None = None) -> dict:
    """The ``summary.json`` dict of a finished run, with the keys ``list_runs`` reads.

    ``results``: final figures per split, ``{"train": {"loss": .., "error": ..}, "valid": {..},
    "test": {..}}`` (any subset; regression may give only loss), flattened to ``train_loss``,
    ``valid_error``, ...; ``seconds``: total wall time (default: the sum of the epochs' seconds);
    ``extra``: more keys. ``best_epoch`` is where ``val_loss`` was lowest (``loss`` without a
    validation set); ``status`` comes from ``history.stop_reason`` (``run_status``).

    Example::

        build_summary(history, data="digits", results={"test": trainer.evaluate(Xt, yt)})
    """
    from .. import __version__

    epochs, _ = history_rows(history)
    stop_reason = history.get("stop_reason") if isinstance(history, Mapping) else history.stop_reason
    best = None
    for key in ("val_loss", "loss"):
        values = [(row[key], row.get("epoch", i + 1)) for i, row in enumerate(epochs)
                  if isinstance(row.get(key), (int, float)) and math.isfinite(row[key])]
        if values:
            best = min(values, key=lambda pair: pair[0])[1]
            break
    if seconds is None:
        seconds = sum(float(row.get("seconds", 0.0)) for row in epochs)
    summary: dict[str, Any] = {
        "format": RUN_FORMAT, "version": RUN_VERSION, "ravine_version": __version__,
        "data": data, "status": run_status(stop_reason), "stop_reason": stop_reason,
        "epochs_run": len(epochs), "best_epoch": best, "seconds": float(seconds),
    }
    for split, figures in (results or {}).items():
        for name, value in figures.items():
            summary[f"{split}_{name}"] = value
    summary.update(extra or {})
    return summary


def _config_data(path: Path):
    try:
        config = read_toml(path / CONFIG)
    except (OSError, ValueError):
        return None
    data = config.get("data")
    if isinstance(data, Mapping):
        data = data.get("name", data.get("path"))
    return data if isinstance(data, str) else None


def _checkpoint_epoch(path: Path):
    try:
        record = json.loads((path / CHECKPOINT_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    epoch = record.get("epoch") if isinstance(record, dict) else None
    return epoch if isinstance(epoch, int) else None


def _epoch_rows(path: Path):
    try:
        with open(path / METRICS, encoding="utf-8", newline="") as f:
            return sum(1 for row in csv.reader(f) if row and row[0] == "epoch")
    except OSError:
        return None


def list_runs(root="runs") -> list[dict]:
    """One row per run folder directly inside ``root`` (sorted by folder name, i.e. by start
    time for default names), for ``ravine runs``. Each row has ``folder`` (name), ``path``,
    ``data``, ``status`` (one of ``STATUSES``, or "unreadable"), ``epochs`` (epochs run),
    ``best_epoch``, ``valid_error``, ``test_error`` and ``seconds`` — None where unknown.

    A run with a ``summary.json`` has ended, and its figures come from there; a run without one is
    "running-or-interrupted", with the epochs from its checkpoint (or metrics.csv).

    Example::

        for row in list_runs("runs"):
            print(f"{row['folder']:32} {row['status']:22} {row['test_error']}")
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder")
    rows = []
    for path in sorted(p for p in root.iterdir() if p.is_dir()):
        if not is_run_folder(path):
            continue
        row: dict[str, Any] = {"folder": path.name, "path": str(path), "data": None, "status": None,
                               "epochs": None, "best_epoch": None, "valid_error": None,
                               "test_error": None, "seconds": None}
        summary_path = path / SUMMARY
        if summary_path.exists():
            try:
                summary = json.loads(summary_path.read_text(encoding="utf-8"))
                if not isinstance(summary, dict):
                    raise ValueError("not an object")
            except (OSError, ValueError):
                row.update(status="unreadable", data=_config_data(path))
                rows.append(row)
                continue
            status = summary.get("status")
            row.update(
                data=summary.get("data") or _config_data(path),
                status=status if status in STATUSES else run_status(summary.get("stop_reason")),
                epochs=summary.get("epochs_run"), best_epoch=summary.get("best_epoch"),
                valid_error=summary.get("valid_error"), test_error=summary.get("test_error"),
                seconds=summary.get("seconds"))
        else:
            epochs = _checkpoint_epoch(path)
            row.update(data=_config_data(path), status="running-or-interrupted",
                       epochs=epochs if epochs is not None else _epoch_rows(path))
        rows.append(row)
    return rows
