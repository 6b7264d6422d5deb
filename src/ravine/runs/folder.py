"""The run folder: everything one training run leaves on disk, each file written atomically.

::

    runs/20240501-142233-digits/
        config.toml       the complete configuration (``ravine train --config`` repeats the run)
        metrics.csv       one row per epoch, then one row per monitored step
        summary.json      final figures: losses and errors, best epoch, epochs run, seconds, status
        curves.png        loss, error, learning rate, per-layer gradient norms, curvature
        model.npz/.json   the trained model (``model_file``)
        checkpoint.npz/.json  the state to resume from (``checkpoint``)

A folder counts as a run folder when it holds a ``config.toml`` written by ``write_config`` (its
first line is ``# ravine run configuration``), a ``summary.json`` of format ``ravine-run`` or a
``checkpoint.json``. ravine writes only into an empty folder, a new one, or a run folder.

``metrics.csv`` is described in ``metrics``; ``summary.json`` and ``ravine runs`` in ``summary``.

Example::

    run = RunFolder.create(data_name="digits")          # runs/20240501-142233-digits
    run.write_config(config)
    run.write_metrics(history); run.plot_curves(history)
    run.write_summary(build_summary(history, data="digits", results=results))
    for row in list_runs("runs"): print(row["folder"], row["status"], row["test_error"])
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from pathlib import Path
from typing import Any, Mapping

from .._atomic import atomic_write_text, json_text
from .checkpoint import CHECKPOINT_JSON, CHECKPOINT_NPZ, STAGED_NPZ
from .metrics import metrics_csv_text, read_metrics
from .toml_io import dumps_toml, read_toml

__all__ = ["RunFolder", "RunFolderError", "is_run_folder", "RUN_FORMAT", "RUN_VERSION", "CONFIG_MARK",
           "RUN_FILES"]

RUN_FORMAT = "ravine-run"
RUN_VERSION = 1
CONFIG_MARK = "# ravine run configuration"
CONFIG, METRICS, SUMMARY, CURVES = "config.toml", "metrics.csv", "summary.json", "curves.png"
MODEL_NPZ, MODEL_JSON = "model.npz", "model.json"
RUN_FILES = (CONFIG, METRICS, SUMMARY, CURVES, MODEL_NPZ, MODEL_JSON, CHECKPOINT_NPZ,
             CHECKPOINT_JSON, STAGED_NPZ)
_DATA_SUFFIXES = {".csv", ".tsv", ".txt", ".npy", ".npz", ".gz", ".bz2", ".xz", ".zip"}


class RunFolderError(ValueError):
    """A folder that cannot serve as a run folder; the message names it and says why."""


# --- recognizing run folders -------------------------------------------------------------------

def _json_format(path: Path) -> str | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value.get("format") if isinstance(value, dict) else None


def _marked_config(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8") as f:
            return f.readline().startswith(CONFIG_MARK)
    except (OSError, UnicodeDecodeError):
        return False


def is_run_folder(path) -> bool:
    """Whether ``path`` is a folder holding a ravine run (see the module docstring).

    Example::

        is_run_folder("runs/20240501-142233-digits")    # True
    """
    path = Path(path)
    if not path.is_dir():
        return False
    return (_marked_config(path / CONFIG) or _json_format(path / SUMMARY) == RUN_FORMAT
            or (path / CHECKPOINT_JSON).is_file())


def _not_a_run(path: Path) -> RunFolderError:
    return RunFolderError(f"{path} is not a ravine run folder (no {CONFIG}/{SUMMARY}/checkpoint)")


# --- naming new runs -----------------------------------------------------------------------------

def _slug(data_name) -> str:
    name = Path(str(data_name)).name
    while Path(name).suffix.lower() in _DATA_SUFFIXES:
        name = Path(name).stem
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:60]
    return name or "run"


# --- the folder --------------------------------------------------------------------------------------

class RunFolder:
    """A run folder: file paths, and atomic writers and readers of its files.

    ``RunFolder.create(...)`` makes a new one (or takes over an empty folder or an old run);
    ``RunFolder.open(path)`` opens an existing run (to evaluate, predict or resume);
    ``RunFolder(path)`` just names one, checking nothing.

    Example::

        run = RunFolder.create(out=None, data_name="digits")
        run.write_config({"data": "digits", "seed": 0, "model": {"hidden": [100]}})
        run.save_model(model, preprocessing=scaler, classes=classes)
    """

    def __init__(self, path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    def __fspath__(self) -> str:
        return str(self.path)

    # --- creating and opening -------------------------------------------------------------------
    @classmethod
    def create(cls, out=None, *, data_name: str = "run", root="runs",
               now: _dt.datetime | None = None) -> "RunFolder":
        """A folder for a new run.

        ``out=None``: a new folder ``<root>/<YYYYmmdd-HHMMSS>-<data>`` (local time; ``data`` is
        ``data_name`` made file-name safe, a path reduced to its stem), with ``-2``, ``-3``, ...
        added if that name is taken. ``out`` given: created if missing; used if it is an empty
        folder; if it is a ravine run folder, that run's files (the ones listed in the module
        docstring, nothing else) are removed first, so no stale model or checkpoint from the old
        run survives; any other existing file or folder is refused with a ``RunFolderError``.

        Example::

            RunFolder.create(data_name="data/wine.csv")      # runs/20240501-142233-wine
            RunFolder.create(out="runs/baseline")
        """
        if out is not None:
            path = Path(out)
            if path.exists() and not path.is_dir():
                raise RunFolderError(f"{path} exists and is a file, not a folder")
            if path.is_dir():
                if any(path.iterdir()):
                    if not is_run_folder(path):
                        raise RunFolderError(
                            f"{path} is a non-empty folder that is not a ravine run; ravine writes "
                            f"a run only into a new folder, an empty one or an old run's folder")
                    _clear_run_files(path)
            else:
                path.mkdir(parents=True)
            return cls(path)
        stamp = (now or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
        base = Path(root) / f"{stamp}-{_slug(data_name)}"
        Path(root).mkdir(parents=True, exist_ok=True)
        for n in range(1, 10_000):
            path = base if n == 1 else base.with_name(f"{base.name}-{n}")
            try:
                path.mkdir()  # atomic claim: two runs started in the same second get two folders
            except FileExistsError:
                continue
            return cls(path)
        raise RunFolderError(f"could not find a free folder name like {base}")

    @classmethod
    def open(cls, path) -> "RunFolder":
        """An existing run folder; ``RunFolderError`` "X is not a ravine run folder (...)" otherwise.

        Example::

            run = RunFolder.open("runs/20240501-142233-digits")
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such run folder")
        if not is_run_folder(path):
            raise _not_a_run(path)
        return cls(path)

    # --- paths ------------------------------------------------------------------------------------
    config_path = property(lambda self: self.path / CONFIG, doc="config.toml")
    metrics_path = property(lambda self: self.path / METRICS, doc="metrics.csv")
    summary_path = property(lambda self: self.path / SUMMARY, doc="summary.json")
    curves_path = property(lambda self: self.path / CURVES, doc="curves.png")
    model_npz_path = property(lambda self: self.path / MODEL_NPZ, doc="model.npz")
    model_json_path = property(lambda self: self.path / MODEL_JSON, doc="model.json")
    checkpoint_npz_path = property(lambda self: self.path / CHECKPOINT_NPZ, doc="checkpoint.npz")
    checkpoint_json_path = property(lambda self: self.path / CHECKPOINT_JSON, doc="checkpoint.json")

    # --- config.toml --------------------------------------------------------------------------------
    def write_config(self, config: Mapping[str, Any], *, omit_none: bool = True) -> Path:
        """Write ``config`` as ``config.toml`` (atomically), headed by the run-folder mark.

        ``None`` values are left out (TOML has no null), so the reader of the file must treat a
        missing key as its default. Example: ``run.write_config({"data": "digits", "seed": 0})``
        """
        from .. import __version__

        comment = (f"{CONFIG_MARK[2:]} (ravine {__version__})\n"
                   f"repeat the run: ravine train --config {CONFIG} --out NEW_FOLDER")
        atomic_write_text(self.config_path, dumps_toml(config, comment=comment, omit_none=omit_none))
        return self.config_path

    def read_config(self) -> dict:
        """``config.toml`` as a dict (``TomlError`` naming the file and line if it is invalid).

        Example: ``seed = RunFolder.open("runs/x").read_config()["seed"]``
        """
        return read_toml(self.config_path)

    # --- metrics.csv, summary.json, curves.png ----------------------------------------------------------
    def write_metrics(self, history) -> Path:
        """Rewrite ``metrics.csv`` from ``history`` atomically (format: ``runs.metrics``).

        Example: ``run.write_metrics(trainer.history)`` at the end of every epoch.
        """
        atomic_write_text(self.metrics_path, metrics_csv_text(history))
        return self.metrics_path

    def read_metrics(self):
        """``metrics.csv`` as a ``History`` (booleans come back as 1/0).

        Example: ``RunFolder.open("runs/x").read_metrics()["val_error"]``
        """
        return read_metrics(self.metrics_path)

    def write_summary(self, summary: Mapping[str, Any]) -> Path:
        """Write ``summary.json`` atomically: ``summary`` (e.g. from ``build_summary``) with
        ``format``/``version``/``ravine_version`` added if missing. Strict JSON: NaN and ±inf are
        written as null, since JSON has no such numbers and other tools read this file.

        Example: ``run.write_summary(build_summary(history, data="digits", results=results))``
        """
        from .. import __version__

        full = {"format": RUN_FORMAT, "version": RUN_VERSION, "ravine_version": __version__,
                **dict(summary)}
        atomic_write_text(self.summary_path, json_text(full, nan="null", what=SUMMARY))
        return self.summary_path

    def read_summary(self) -> dict:
        """``summary.json`` as a dict.

        Example: ``RunFolder.open("runs/x").read_summary()["test_error"]``
        """
        from .model_file import read_json_file

        return read_json_file(self.summary_path, "ravine run summary")

    def plot_curves(self, history, **kwargs) -> Path:
        """Draw ``curves.png`` from ``history`` (``plots.plot_curves``); returns its path.

        Example: ``run.plot_curves(history, title="digits 64-100-10")``
        """
        from .plots import plot_curves

        plot_curves(history, self.curves_path, **kwargs)
        return self.curves_path

    # --- model and checkpoint ----------------------------------------------------------------------
    def save_model(self, model, **kwargs) -> Path:
        """``model_file.save_model(self.path, model, **kwargs)``: model.npz + model.json.

        Example: ``run.save_model(model, preprocessing=scaler, classes=dataset.classes)``
        """
        from .model_file import save_model

        return save_model(self.path, model, **kwargs)

    def load_model(self):
        """``model_file.load_model(self.path)``: a ``LoadedModel``.

        Example: ``RunFolder.open("runs/x").load_model().predict(X)``
        """
        from .model_file import load_model

        return load_model(self.path)

    def save_checkpoint(self, arrays, meta) -> Path:
        """``checkpoint.save_checkpoint(self.path, arrays, meta)``: the old or the new, never a mix.

        Example: ``run.save_checkpoint(*trainer.state())``
        """
        from .checkpoint import save_checkpoint

        return save_checkpoint(self.path, arrays, meta)

    def load_checkpoint(self):
        """``checkpoint.load_checkpoint(self.path)`` → ``(arrays, meta)``.

        Example: ``trainer.load_state(*RunFolder.open("runs/x").load_checkpoint())``
        """
        from .checkpoint import load_checkpoint

        return load_checkpoint(self.path)

    def has_checkpoint(self) -> bool:
        """Whether the run has a checkpoint to resume from (checked when it is loaded).

        Example: ``if run.has_checkpoint(): trainer.load_state(*run.load_checkpoint())``
        """
        return self.checkpoint_json_path.is_file()


def _clear_run_files(path: Path) -> None:
    for name in RUN_FILES:
        (path / name).unlink(missing_ok=True)
    for leftover in path.glob(".*.tmp"):  # temp files of a write that was killed
        if any(leftover.name.startswith(f".{name}.") for name in RUN_FILES):
            leftover.unlink(missing_ok=True)
