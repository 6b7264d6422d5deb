"""Reading ravine's files as data only: an npz without pickle, a JSON object, a format version.

``read_npz`` opens an ``.npz`` as the zip archive it is and reads each member with
``numpy.lib.format.read_array(allow_pickle=False)``, after checking that the member starts like a
``.npy`` array at all: an object array (which would need pickle), a member that is a pickle, a
``.npy`` or a raw pickle renamed ``.npz`` are refused with a ``ModelFileError`` naming the file and
member, and none of their bytes is ever unpickled. The checks are ``ravine._npz``'s (the data
layer's ``.npz`` files are read by the same code). Used by ``model_file`` and ``checkpoint``.

Example::

    arrays, sha256 = read_npz("runs/x/model.npz")
    info = read_json_file("runs/x/model.json", "ravine model file")
    check_format("runs/x/model.json", info, "ravine-model", 1, "ravine model file")
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Mapping

import numpy as np

from .._npz import NUMERIC, NpzError
from .._npz import read_npz as _read_npz

__all__ = ["ModelFileError", "read_npz", "parse_npz", "read_bytes", "read_json_file", "check_format"]

class ModelFileError(ValueError):
    """A model or checkpoint file that cannot be loaded: the message names the file and why."""


def ravine_version() -> str:
    from .. import __version__

    return __version__


def read_npz(path) -> tuple[dict[str, np.ndarray], str]:
    """The arrays of the ``.npz`` at ``path`` and the SHA-256 (hex) of its bytes; never unpickles.

    Raises ``ModelFileError`` naming the file (and member) for anything but an npz of numeric or
    boolean arrays: an object array (which would need pickle), a member that is not a ``.npy``
    array, a truncated or damaged archive, a ``.npy`` or a pickle in place of an npz.
    ``FileNotFoundError`` if there is no file.

    Example::

        arrays, sha256 = read_npz("runs/x/model.npz")
    """
    data = read_bytes(path)
    return parse_npz(data, path), hashlib.sha256(data).hexdigest()


def read_bytes(path) -> bytes:
    """The bytes of the file at ``path`` (FileNotFoundError / ModelFileError naming it)."""
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path} is a folder, not an .npz file") from None


def parse_npz(data: bytes, path) -> dict[str, np.ndarray]:
    """The arrays of an npz held in ``data`` (read from ``path``, named in errors); see ``read_npz``.

    The checks are ``ravine._npz.read_npz``'s, the reader data files use as well."""
    try:
        return _read_npz(data, path, kinds=NUMERIC)
    except NpzError as error:
        raise ModelFileError(str(error)) from None


def read_json_file(path, what: str) -> dict:
    """A JSON object from ``path``; ``ModelFileError`` naming the file for anything else."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file (expected the {what})") from None
    except UnicodeDecodeError:
        raise ModelFileError(f"{path} is not a {what}: it is not UTF-8 text") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path} is a folder, not a {what}") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ModelFileError(f"{path} is not a valid {what}: {error.msg} at line {error.lineno}, "
                             f"column {error.colno}") from None
    if not isinstance(value, dict):
        raise ModelFileError(f"{path} is not a {what}: expected a JSON object, got {type(value).__name__}")
    return value


def check_format(path, info: Mapping, fmt: str, version: int, what: str) -> int:
    """Check ``info["format"]`` and ``info["version"]``; returns the version."""
    if info.get("format") != fmt:
        raise ModelFileError(f"{path} is not a {what} (its format is {info.get('format')!r}; "
                             f"expected {fmt!r})")
    found = info.get("version")
    if isinstance(found, bool) or not isinstance(found, int) or found < 1:
        raise ModelFileError(f"{path}: unknown {what} version {found!r}")
    if found > version:
        made_by = info.get("ravine_version", "a newer ravine")
        raise ModelFileError(f"{path} is a {what} of format version {found}, written by ravine "
                             f"{made_by}; this ravine ({ravine_version()}) reads version {version} and older. "
                             f"Upgrade ravine to load it")
    return found
