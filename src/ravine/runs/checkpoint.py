"""Checkpoints for resuming: ``checkpoint.npz`` (arrays) + ``checkpoint.json`` (everything else).

A crash at any moment — SIGKILL, power cut — leaves a loadable checkpoint that is entirely the
old one or entirely the new one, never a mix. ``checkpoint.json`` is the commit record: it holds
the SHA-256 of the npz it belongs to. ``save_checkpoint``

1. writes the new arrays to ``checkpoint.next.npz`` (atomically: temp file, fsync, rename);
2. writes the new ``checkpoint.json`` (atomically) — this is the moment the new checkpoint counts;
3. renames ``checkpoint.next.npz`` to ``checkpoint.npz`` and fsyncs the folder.

A crash before 2 leaves the old JSON and the old npz (the stale ``.next`` file is ignored); a crash
between 2 and 3 leaves the new JSON, whose hash matches ``checkpoint.next.npz``, which
``load_checkpoint`` then reads (and the next ``save_checkpoint`` finishes the rename first). Any
other disagreement between the JSON and the arrays — an npz copied from elsewhere, a truncated or
damaged file — fails with a ``CheckpointError`` saying the checkpoint is incomplete.

``meta`` is plain JSON data: epoch and step counters, the schedule's position, RNG states
(``Generator.bit_generator.state`` is a dict of ints), ``History.to_dict()``, the optimizer's
hyperparameters. Floats round-trip exactly, NaN and ±inf included. Arrays go in ``arrays``
(``ravine.train.state.split_arrays`` separates a nested state into the two).

Example::

    arrays, meta = trainer.state()            # (name -> array, JSON-safe dict with "epoch")
    save_checkpoint(run.path, arrays, meta)
    arrays, meta = load_checkpoint(run.path)
    trainer.load_state(arrays, meta)
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .._atomic import atomic_write_bytes, atomic_write_text, fsync_folder, json_text, npz_bytes
from .safe_read import (ModelFileError, ravine_version, check_format, parse_npz, read_bytes,
                        read_json_file)

__all__ = ["save_checkpoint", "load_checkpoint", "has_checkpoint", "CheckpointError",
           "CHECKPOINT_NPZ", "CHECKPOINT_JSON", "FORMAT", "VERSION"]

FORMAT = "ravine-checkpoint"
VERSION = 1
CHECKPOINT_NPZ = "checkpoint.npz"
CHECKPOINT_JSON = "checkpoint.json"
STAGED_NPZ = "checkpoint.next.npz"


class CheckpointError(ModelFileError):
    """A checkpoint that cannot be resumed from; the message names the folder and why."""


def _sha256_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _finish_interrupted_save(folder: Path) -> None:
    """If a save stopped between writing the JSON and renaming the staged npz, finish the rename."""
    staged = folder / STAGED_NPZ
    if not staged.exists():
        return
    try:
        recorded = read_json_file(folder / CHECKPOINT_JSON, "checkpoint").get("npz", {}).get("sha256")
    except (OSError, ValueError, AttributeError):
        recorded = None
    if recorded is not None and _sha256_of(folder / CHECKPOINT_NPZ) != recorded \
            and _sha256_of(staged) == recorded:
        _promote_staged(folder)


def save_checkpoint(folder, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> Path:
    """Save ``arrays`` (name → numeric array) and ``meta`` (JSON-safe dict) as the checkpoint of
    ``folder``, replacing the previous one so that a crash at any moment leaves the old or the new
    (see the module docstring). ``meta["epoch"]``, if present, is also recorded at the JSON's top.
    Returns the path of ``checkpoint.json``.

    Raises TypeError before writing anything if ``meta`` holds something JSON cannot (the message
    says where: ``meta['rng']['state'] is a numpy array``) or an array is not numeric.

    Example::

        save_checkpoint("runs/x", {"model.0.weight": W}, {"epoch": 3, "history": h.to_dict()})
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot save a checkpoint in {folder}: no such folder")
    if not isinstance(meta, Mapping):
        raise TypeError(f"meta must be a dict; got {type(meta).__name__}")
    json_text(meta, what="meta")  # refuse non-JSON meta before writing anything
    data = npz_bytes(arrays)
    digest = hashlib.sha256(data).hexdigest()
    epoch = meta.get("epoch")
    record = {
        "format": FORMAT,
        "version": VERSION,
        "ravine_version": ravine_version(),
        "epoch": epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else None,
        "npz": {"file": CHECKPOINT_NPZ, "sha256": digest, "bytes": len(data),
                "arrays": {k: {"shape": list(np.shape(v)), "dtype": np.asarray(v).dtype.name}
                           for k, v in arrays.items()}},
        "meta": meta,
    }
    text = json_text(record, what="checkpoint.json")
    _finish_interrupted_save(folder)
    atomic_write_bytes(folder / STAGED_NPZ, data)
    atomic_write_text(folder / CHECKPOINT_JSON, text)  # the commit point
    _promote_staged(folder)
    return folder / CHECKPOINT_JSON


def _promote_staged(folder: Path) -> None:
    os.replace(folder / STAGED_NPZ, folder / CHECKPOINT_NPZ)
    fsync_folder(folder)


def has_checkpoint(folder) -> bool:
    """Whether ``folder`` holds a checkpoint (its ``checkpoint.json``); it is checked on loading.

    Example: ``if has_checkpoint("runs/x"): arrays, meta = load_checkpoint("runs/x")``
    """
    return (Path(folder) / CHECKPOINT_JSON).is_file()


def load_checkpoint(folder) -> tuple[dict[str, np.ndarray], dict]:
    """The ``(arrays, meta)`` saved by ``save_checkpoint`` in ``folder``. Reads only.

    Raises ``FileNotFoundError`` if there is no checkpoint, and ``CheckpointError`` (a
    ValueError) naming the folder if the JSON is not a checkpoint of a version this ravine reads,
    or if no npz matches the SHA-256 the JSON records ("the checkpoint is incomplete"), or if the
    npz holds anything but numeric arrays (a pickle is refused, never run).

    Example::

        arrays, meta = load_checkpoint("runs/x")
        start_epoch = meta["epoch"] + 1
    """
    folder = Path(folder)
    json_path = folder / CHECKPOINT_JSON
    if not json_path.is_file():
        raise FileNotFoundError(f"{folder} holds no checkpoint ({CHECKPOINT_JSON} is missing)")
    try:
        record = read_json_file(json_path, "ravine checkpoint")
        check_format(json_path, record, FORMAT, VERSION, "ravine checkpoint")
    except CheckpointError:
        raise
    except ModelFileError as error:
        raise CheckpointError(str(error)) from None
    npz = record.get("npz")
    meta = record.get("meta")
    if not isinstance(npz, dict) or not isinstance(npz.get("sha256"), str) or not isinstance(meta, dict):
        raise CheckpointError(f"{json_path} is not a complete checkpoint record (it needs 'npz' "
                              f"with a 'sha256', and 'meta')")
    for name in (CHECKPOINT_NPZ, STAGED_NPZ):
        path = folder / name
        try:
            data = read_bytes(path)
        except (FileNotFoundError, ModelFileError):
            continue
        if hashlib.sha256(data).hexdigest() == npz["sha256"]:
            try:
                return parse_npz(data, path), meta
            except ModelFileError as error:
                raise CheckpointError(str(error)) from None
    npz_path = folder / CHECKPOINT_NPZ
    found = "is missing" if not npz_path.exists() else \
        "does not match it (its SHA-256 differs: it is truncated, damaged or from another save)"
    raise CheckpointError(
        f"the checkpoint in {folder} is incomplete: {CHECKPOINT_JSON} (epoch {record.get('epoch')}) "
        f"describes arrays that no file holds — {CHECKPOINT_NPZ} {found}. It cannot be resumed "
        f"from; start the run again")
