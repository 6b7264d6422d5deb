"""Runs: what a training run leaves on disk, written so that a crash never leaves a half file.

- ``atomic``: ``atomic_write_bytes/text/json``, ``atomic_save_npz``, ``atomic_open`` — temporary file
  in the same folder, flush, fsync, ``os.replace``, fsync of the folder.
- ``toml_io``: ``read_toml`` (tomllib), ``write_toml``/``dumps_toml`` (our own small writer).
- ``model_file``: ``save_model``/``load_model`` — ``model.npz`` + ``model.json``, never a pickle.
- ``checkpoint``: ``save_checkpoint``/``load_checkpoint`` — the old or the new, never a mix.
- ``folder``: ``RunFolder`` (creating, opening, every file's path and writer), ``is_run_folder``.
- ``metrics``: metrics.csv (epoch rows, then monitor rows per step); ``summary``: summary.json,
  ``build_summary``, ``run_status``, ``list_runs`` (``ravine runs``).
- ``safe_read``: ``read_npz`` (never unpickles), JSON and format-version checks.
- ``plots``: ``plot_curves`` — curves.png.

Example::

    import ravine as rv
    from ravine.runs import RunFolder, load_model

    run = RunFolder.create(data_name="digits")
    run.write_config(config)
    ...                                   # train, writing run.save_checkpoint(...) each epoch
    run.write_metrics(history); run.plot_curves(history)
    run.save_model(model, preprocessing=scaler, classes=classes)
    loaded = load_model(run.path); loaded.predict(X)
"""

from .._atomic import (atomic_open, atomic_save_npz, atomic_write_bytes, atomic_write_json,
                     atomic_write_text)
from .checkpoint import CheckpointError, has_checkpoint, load_checkpoint, save_checkpoint
from .folder import RunFolder, RunFolderError, is_run_folder
from .metrics import read_metrics
from .model_file import LoadedModel, ModelFileError, load_model, read_npz, save_model
from .plots import plot_curves
from .summary import build_summary, list_runs, run_status
from .toml_io import TomlError, dumps_toml, loads_toml, read_toml, write_toml

__all__ = [
    "atomic_open", "atomic_save_npz", "atomic_write_bytes", "atomic_write_json", "atomic_write_text",
    "CheckpointError", "has_checkpoint", "load_checkpoint", "save_checkpoint",
    "RunFolder", "RunFolderError", "build_summary", "is_run_folder", "list_runs", "read_metrics",
    "run_status",
    "LoadedModel", "ModelFileError", "load_model", "read_npz", "save_model",
    "plot_curves",
    "TomlError", "dumps_toml", "loads_toml", "read_toml", "write_toml",
]
