"""Atomic file writes: a reader sees the old file or the new one, never half of either.

Every write goes to a temporary file in the target's own folder (``.<name>.<pid>.<random>.tmp``,
so the final rename never crosses file systems), which is flushed and fsynced, then renamed over
the target with ``os.replace`` (atomic on POSIX and Windows), and finally the folder itself is
fsynced so that the rename survives a power cut. If anything fails before the rename — an
exception in the code producing the content, a full disk — the temporary file is removed and the
old content is untouched. (A process killed with SIGKILL cannot clean up: it may leave a
``.*.tmp`` file beside the target, never a damaged target.)

This module imports nothing from ravine, so it can sit below every layer.

Example::

    atomic_write_text("runs/x/config.toml", text)
    atomic_write_json("runs/x/summary.json", {"epochs_run": 30})
    digest = atomic_save_npz("runs/x/model.npz", model.state_dict())   # SHA-256 of the bytes
    with atomic_open("predictions.csv", "w") as f:                      # streamed
        csv.writer(f).writerows(rows)
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import secrets
from typing import Any, Iterator, Mapping

import numpy as np

__all__ = ["atomic_open", "atomic_write_bytes", "atomic_write_text", "atomic_write_json",
           "atomic_save_npz", "npz_bytes", "json_text", "fsync_folder", "TEMP_SUFFIX", "writable_file"]

TEMP_SUFFIX = ".tmp"


def writable_file(path) -> str:
    """``path`` as a str naming a file whose folder exists (the checks every atomic write makes)."""
    try:
        target = os.fspath(path)
    except TypeError:
        raise TypeError(f"path must be a file path (str or os.PathLike); got {type(path).__name__}") from None
    if isinstance(target, bytes):
        target = os.fsdecode(target)
    if not target or target.endswith(("/", os.sep)):
        raise ValueError(f"path must name a file; got {target!r}")
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot write {target}: the folder {folder} does not exist")
    if os.path.isdir(target):
        raise IsADirectoryError(f"cannot write {target}: it is a folder")
    return target


def fsync_folder(folder) -> None:
    """fsync a folder so that renames inside it are durable (a no-op where the OS refuses)."""
    with contextlib.suppress(OSError):
        fd = os.open(os.fspath(folder), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_open(path, mode: str = "wb", *, encoding: str = "utf-8",
                newline: str | None = "") -> Iterator[Any]:
    """Open a temporary file that replaces ``path`` atomically when the block ends without error.

    ``mode``: ``"wb"`` (binary) or ``"w"`` (text, ``encoding``; ``newline=""`` writes line endings
    exactly as given, as the ``csv`` module wants). On an exception inside the block the temporary
    file is deleted, ``path`` keeps its old content, and the exception propagates.

    Example::

        with atomic_open("out.csv", "w") as f:
            csv.writer(f).writerow(["a", "b"])
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w'; got {mode!r}")
    target = writable_file(path)
    folder, base = os.path.split(os.path.abspath(target))
    tmp = os.path.join(folder, f".{base}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        if mode == "wb":
            f = os.fdopen(fd, "wb")
        else:
            f = os.fdopen(fd, "w", encoding=encoding, newline=newline)
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_folder(folder)


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see the module docstring).

    Example::

        atomic_write_bytes("blob.bin", b"\\x00\\x01")
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes; got {type(data).__name__}")
    with atomic_open(path, "wb") as f:
        f.write(data)


def atomic_write_text(path, text: str, *, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically, encoded as ``encoding``, line endings untouched.

    Example::

        atomic_write_text("notes.txt", "first line\\n")
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str; got {type(text).__name__}")
    atomic_write_bytes(path, text.encode(encoding))


def _plain(value, where: str, nan: str):
    """``value`` as plain JSON data: numpy scalars become Python numbers (exactly), tuples lists;
    ``nan="keep"`` keeps NaN/±inf (Python's JSON extension), ``"null"`` writes them as null."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if nan == "null" and not math.isfinite(number):
            return None
        return number
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where} has the key {k!r}; JSON object keys must be strings")
            out[k] = _plain(v, f"{where}[{k!r}]", nan)
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{where}[{i}]", nan) for i, v in enumerate(value)]
    if isinstance(value, np.ndarray):
        raise TypeError(f"{where} is a numpy array; JSON holds plain numbers, strings and lists "
                        f"(use .tolist(), or save arrays in an .npz)")
    raise TypeError(f"{where} is a {type(value).__name__}, which JSON cannot hold")


def json_text(obj, *, nan: str = "keep", what: str = "value") -> str:
    """``obj`` as indented JSON text ending in a newline, after checking it is plain data.

    ``nan="keep"``: NaN and ±inf are written as ``NaN``/``Infinity`` (Python reads them back
    exactly; strict JSON readers do not); ``nan="null"``: they become ``null`` (strict JSON).
    """
    if nan not in ("keep", "null"):
        raise ValueError(f"nan must be 'keep' or 'null'; got {nan!r}")
    plain = _plain(obj, what, nan)
    return json.dumps(plain, indent=2, ensure_ascii=False, allow_nan=(nan == "keep")) + "\n"


def atomic_write_json(path, obj, *, nan: str = "keep") -> None:
    """Write ``obj`` (dicts with str keys, lists, tuples, str, int, float, bool, None, numpy
    scalars) as UTF-8 JSON, atomically. A value JSON cannot hold raises TypeError naming where it
    is (``obj['history']['epochs'][3]['x'] is a numpy array``) before anything is written. Floats
    round-trip exactly. ``nan``: see ``json_text``.

    Example::

        atomic_write_json("summary.json", {"best_epoch": 12, "test_error": 0.031})
    """
    atomic_write_text(path, json_text(obj, nan=nan, what=os.path.basename(os.fspath(path))))


def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """The bytes of an ``.npz`` holding ``arrays`` (name → numeric array), never a pickle.

    Names are non-empty strings (``"model/0.weight"`` is fine); arrays must be numeric or boolean
    (object arrays would be pickled, and are refused).
    """
    if not isinstance(arrays, Mapping):
        raise TypeError(f"arrays must be a dict of name -> array; got {type(arrays).__name__}")
    checked = {}
    for name, value in arrays.items():
        if not isinstance(name, str) or not name or name.endswith("/"):
            raise ValueError(f"array names must be non-empty strings not ending in '/'; got {name!r}")
        array = np.asarray(value)
        if array.dtype.kind not in "biufc":
            raise TypeError(f"array {name!r} has dtype {array.dtype}; only numeric and boolean arrays "
                            f"are saved (anything else would need pickle)")
        checked[name] = array
    buffer = io.BytesIO()
    np.savez(buffer, **checked)
    return buffer.getvalue()


def atomic_save_npz(path, arrays: Mapping[str, np.ndarray]) -> str:
    """Save numeric ``arrays`` as an uncompressed ``.npz`` at ``path``, atomically; returns the
    SHA-256 (hex) of the bytes written, so a companion JSON file can vouch for this exact file.

    Example::

        digest = atomic_save_npz("model.npz", {"0.weight": W, "0.bias": b})
    """
    data = npz_bytes(arrays)
    atomic_write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()
