"""Reading ``.npy`` headers and ``.npz`` archives as data only: nothing in them is ever unpickled.

One reader for data files (``ravine.data``) and model and checkpoint files (``ravine.runs``). An
``.npz`` is opened as the zip archive it is; before a member's data is read:

* the file must start like a zip archive: a single ``.npy``, a Python pickle or anything else
  renamed ``.npz`` is refused, saying which it looks like;
* every member must be a ``.npy`` file, named once (``X.npy`` holds the array ``X``);
* every member must start like a ``.npy`` array (a pickle in its place is refused unread), and its
  header must not announce an object array (only unpickling could rebuild one);
* ``check_names`` (optional) sees the array names first, so a wrong set of names costs nothing.

Then each member is read with ``numpy.lib.format.read_array(allow_pickle=False)`` and its dtype
kind checked against ``kinds``. Every refusal is an ``NpzError`` (a ``ValueError``) whose
``reason`` names the member; its message starts with the file. Callers re-raise it as their own
error type (``DataError``, ``ModelFileError``).

Example::

    arrays = read_npz("model.npz")                           # {"0.weight": array, ...}
    arrays = read_npz(data_bytes, path="checkpoint.npz")     # the bytes already read
"""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np

__all__ = ["NpzError", "read_npz", "read_npy_header", "NUMERIC", "NUMERIC_AND_TEXT"]

NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"

NUMERIC = "biufc"            # booleans and numbers: model and checkpoint files
NUMERIC_AND_TEXT = "biufcUS"  # and strings: data files (labels, feature names)
_KIND_WORDS = {"biufc": "numeric and boolean", "biufcUS": "numeric, boolean and string"}

_PICKLE_REFUSED = ("ravine refuses to load pickles (unpickling can run arbitrary code) and nothing "
                   "in it was run; save numeric arrays instead")


class NpzError(ValueError):
    """A file that is not an npz (or npy) of plain arrays; ``reason`` is the message without the file."""

    def __init__(self, path, reason: str):
        self.path = None if path is None else os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}" if self.path is not None else reason)


def looks_like_pickle(head: bytes) -> bool:
    """Whether bytes start like a pickle (protocol 2+ opcode, or a protocol-0 opener)."""
    return head[:1] == b"\x80" or head[:1] in (b"(", b"c", b"]", b"}")


def _looks_like(head: bytes) -> str:
    if head.startswith(b"PK"):
        return "a zip archive (an .npz file?)"
    return "a Python pickle" if looks_like_pickle(head) else "something else"


def read_npy_header(fp, path, what: str, holder: str | None = None):
    """``(shape, dtype)`` from an open ``.npy`` stream positioned at its start; ``NpzError`` for a
    stream that is not a ``.npy`` array (``what`` is not ...) or holds an object array (``holder``,
    default ``what``, holds ...). ``(None, None)`` for a version 3.0 header, which
    ``read_array(allow_pickle=False)`` still checks."""
    head = fp.read(len(NPY_MAGIC))
    if head != NPY_MAGIC:
        raise NpzError(path, f"{what} is not a .npy array (it looks like {_looks_like(head)}); "
                             f"refused without reading it")
    raw = fp.read(2)
    if len(raw) != 2:
        raise NpzError(path, f"{what} is a truncated .npy array")
    version = (raw[0], raw[1])
    fmt = np.lib.format
    try:
        if version == (1, 0):
            shape, _, dtype = fmt.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, _, dtype = fmt.read_array_header_2_0(fp)
        else:
            return None, None
    except ValueError as error:
        raise NpzError(path, f"{what} has a damaged .npy header ({error})") from None
    if dtype.hasobject:
        raise NpzError(path, f"{holder or what} holds pickled Python objects (an object array, dtype {dtype}); "
                             f"{_PICKLE_REFUSED}")
    return shape, dtype


def read_npz(source, path=None, *, kinds: str = NUMERIC, check_names=None) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` (a path, or its bytes with ``path`` naming it), never unpickling.

    ``kinds``: the dtype kinds accepted (``NUMERIC`` or ``NUMERIC_AND_TEXT``); ``check_names``:
    called with the list of array names before any array is read (it raises to refuse them).
    Raises ``NpzError`` (see the module docstring); a missing file is the caller's to report.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        head, opened = data[:8], io.BytesIO(data)
    else:
        path = source if path is None else path
        with open(source, "rb") as fp:
            head = fp.read(8)
        opened = source
    if head.startswith(NPY_MAGIC):
        raise NpzError(path, "is a single .npy array, not an .npz archive of named arrays")
    if not (head.startswith(_ZIP_MAGIC) or head.startswith(_EMPTY_ZIP_MAGIC)):
        if looks_like_pickle(head):
            raise NpzError(path, "is not an .npz archive: it looks like a Python pickle, which "
                                 "ravine refuses to load (unpickling can run arbitrary code)")
        raise NpzError(path, "is not an .npz archive (it does not start with a zip header)")
    try:
        archive = zipfile.ZipFile(opened)
    except (zipfile.BadZipFile, OSError) as error:
        raise NpzError(path, f"is damaged or incomplete (not a readable zip archive: {error})") from None
    with archive:
        members: dict[str, zipfile.ZipInfo] = {}
        for info in archive.infolist():
            member = info.filename
            if info.is_dir() or not member.endswith(".npy"):
                raise NpzError(path, f"member {member!r} is not a .npy array; an .npz read by ravine "
                                     f"holds only .npy arrays")
            name = member[:-len(".npy")]
            if name in members:
                raise NpzError(path, f"the array {name!r} appears twice")
            members[name] = info
        if check_names is not None:
            check_names(list(members))
        arrays: dict[str, np.ndarray] = {}
        for name, info in members.items():
            try:
                with archive.open(info) as f:
                    read_npy_header(f, path, f"member {info.filename!r}", f"array {name!r}")
                with archive.open(info) as f:
                    array = np.lib.format.read_array(f, allow_pickle=False)
            except NpzError:
                raise
            except ValueError as error:  # a pickle the header did not show (a version 3.0 header)
                if "pickle" in str(error).lower():
                    raise NpzError(path, f"array {name!r} holds pickled Python objects; "
                                         f"{_PICKLE_REFUSED}") from None
                raise NpzError(path, f"array {name!r} cannot be read: {error}") from None
            except (zipfile.BadZipFile, EOFError, OSError) as error:
                raise NpzError(path, f"is damaged or incomplete (array {name!r}: {error})") from None
            if array.dtype.hasobject or array.dtype.kind not in kinds:
                allowed = _KIND_WORDS.get(kinds, f"kinds {kinds!r}")
                raise NpzError(path, f"array {name!r} has dtype {array.dtype}; only {allowed} "
                                     f"arrays are accepted")
            arrays[name] = array
    return arrays
