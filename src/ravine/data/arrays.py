"""Reading NumPy ``.npy`` and ``.npz`` files, never unpickling, and memory-mapping large ``.npy``.

Every file is opened with ``allow_pickle=False``, and the array header is read first: an object
array (which only unpickling could rebuild, and unpickling can run code) is refused with a clear
message before any of its data is touched. A file that is not in NumPy's format is refused too.
The checks are ``ravine._npz``'s, the reader model files use as well.

Positions in these messages are array indices counted from 0, and say so:
``data.npy: NaN at row 3, column 1 (0-based)``.
"""

from __future__ import annotations

import os

import numpy as np

from ._args import float_dtype
from .._checks import check_int, check_optional
from .._chunks import first_non_finite
from .._npz import NUMERIC_AND_TEXT, NpzError, read_npy_header, read_npz
from .dataset import Dataset
from .errors import DataError, existing_file
from .labels import check_task, encode_array_labels

def _load_npy_array(path, mmap_mode=None) -> np.ndarray:
    try:
        with open(path, "rb") as fp:
            read_npy_header(fp, path, "the file")
    except NpzError as error:
        raise DataError(error.reason, path=path) from None
    try:
        return np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
    except ValueError as e:  # a pickle the header check could not see (e.g. a v3 header)
        raise DataError(f"could not be read without unpickling ({e}); refusing", path=path) \
            from None


def _numeric(array, path, what):
    if array.dtype.kind not in "biuf":
        raise DataError(f"{what} holds {array.dtype} values; expected numbers", path=path)


def _check_finite(array, path, what, chunk_rows=None):
    found = first_non_finite(array, chunk_rows)
    if found is not None:
        index, kind = found
        where = f"row {index[0]}" + (f", column {index[1]}" if len(index) > 1 else "")
        raise DataError(f"{what}{kind} at {where} (0-based)", path=path)


def _check_fits(array, converted, path, what, columns=None):
    """Raise when a float64 value became inf in float32 (``converted`` is ``array`` cast)."""
    if converted.dtype == array.dtype or array.dtype.kind != "f":
        return
    found = first_non_finite(converted)
    if found is not None:
        (i, k), _ = found
        column = k if columns is None else columns[k]
        raise DataError(f"{what}{array[i, k].item()!r} at row {i}, column {column} (0-based) "
                        f"does not fit in {converted.dtype}; pass dtype='float64'", path=path)


def load_npy(path, label_column=None, dtype="float32", task=None) -> Dataset:
    """Load a 2-D numeric ``.npy`` array whose column ``label_column`` (default: last) holds labels.

    ``label_column`` is an integer index (0-based; negative counts from the end): a ``.npy`` has no
    column names. Object arrays and pickles are refused without running anything in them; NaN/inf
    is an error naming row and column (0-based). Labels follow ``ravine.data.labels``.

    Example:
        >>> import pathlib, tempfile
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "data.npy"
        >>> np.save(p, np.array([[0.5, 1.0, 0], [1.5, 2.0, 1]]))
        >>> ds = load_npy(p)
        >>> ds.X.shape, ds.y.tolist()
        ((2, 2), [0, 1])
    """
    dt = float_dtype(dtype)
    task = check_task(task)
    p = existing_file(path)
    if isinstance(label_column, str):
        text = label_column.strip()
        if not (text.lstrip("+-").isdigit() and text.lstrip("+-").isascii()):
            raise DataError(f"label_column {label_column!r}: a .npy file has no column names; "
                            f"give an integer index", path=p)
        label_column = int(text)  # "2" from a command line
    label_column = check_optional(check_int, "label_column", label_column,
                                  hint="a 0-based column index")
    data = _load_npy_array(p)
    _numeric(data, p, "the array")
    if data.ndim != 2 or data.shape[1] < 2:
        raise DataError(f"must hold a 2-D array with the features and a label column; got shape "
                        f"{data.shape}", path=p)
    n_cols = data.shape[1]
    j = n_cols - 1 if label_column is None else int(label_column)
    if not -n_cols <= j < n_cols:
        raise DataError(f"label column {j} does not exist: the array has {n_cols} columns (indices "
                        f"0 to {n_cols - 1}, or -{n_cols} to -1)", path=p)
    j %= n_cols
    _check_finite(data, p, "")
    features = [k for k in range(n_cols) if k != j]
    with np.errstate(over="ignore"):  # overflow to inf is reported by _check_fits
        X = np.ascontiguousarray(data[:, features], dtype=dt)
    _check_fits(data[:, features], X, p, "", columns=features)
    y, classes = encode_array_labels(data[:, j], task, path=p, dtype=dt, column=j + 1,
                                     describe=lambda i: f"the label at row {i}, column {j} "
                                                       f"(0-based)")
    return Dataset(X, y, name=os.path.basename(p), task=task, classes=classes)


_NPZ_KEYS = ("X", "y", "feature_names")


def load_npz(path, label_column=None, dtype="float32", task=None) -> Dataset:
    """Load an ``.npz`` holding arrays ``X`` (n × d numbers) and ``y`` (n labels or targets).

    An optional array ``feature_names`` (d strings) names the columns; any other key is an error,
    as is a missing one (the message lists what the file holds). ``label_column`` must be ``None``:
    the labels are ``y``. Arrays are read with ``allow_pickle=False``; object arrays are refused.

    Example:
        >>> import pathlib, tempfile
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "data.npz"
        >>> np.savez(p, X=np.eye(3), y=np.array(["a", "b", "a"]))
        >>> ds = load_npz(p)
        >>> ds.y.tolist(), ds.classes.tolist()
        ([0, 1, 0], ['a', 'b'])
    """
    dt = float_dtype(dtype)
    task = check_task(task)
    p = existing_file(path)
    if label_column is not None:
        raise DataError(f"label_column={label_column!r} does not apply to an .npz file: its labels "
                        f"are the array 'y'", path=p)
    arrays = _read_npz(p)
    X, y = arrays["X"], arrays["y"]
    _numeric(X, p, "X")
    if X.ndim != 2 or X.shape[1] < 1:
        raise DataError(f"X must be 2-D (samples × features); got shape {X.shape}", path=p)
    if y.ndim != 1:
        raise DataError(f"y must be 1-D; got shape {y.shape}", path=p)
    if len(y) != len(X):
        raise DataError(f"X has {len(X)} rows but y has {len(y)}", path=p)
    _check_finite(X, p, "X contains ")
    with np.errstate(over="ignore"):
        Xc = np.ascontiguousarray(X, dtype=dt)
    _check_fits(X, Xc, p, "X: ")
    y, classes = encode_array_labels(y, task, path=p, dtype=dt, describe=lambda i: f"y[{i}]")
    names = arrays.get("feature_names")
    if names is not None:
        if names.dtype.kind not in "US" or names.shape != (X.shape[1],):
            raise DataError(f"feature_names must be {X.shape[1]} strings; got dtype {names.dtype}, "
                            f"shape {names.shape}", path=p)
        names = [str(n) for n in names]
    return Dataset(Xc, y, name=os.path.basename(p), task=task, feature_names=names,
                   classes=classes)


def _read_npz(path) -> dict:
    """The arrays of a data ``.npz`` (``ravine._npz.read_npz``), with its names checked first."""
    def check_names(names):
        unexpected = sorted(set(names) - set(_NPZ_KEYS))
        missing = [k for k in ("X", "y") if k not in names]
        held = ", ".join(repr(k) for k in sorted(names)) or "nothing"
        if missing:
            raise DataError(f"has no array {' or '.join(repr(k) for k in missing)}; it holds "
                            f"{held} (expected 'X' and 'y', optionally 'feature_names')", path=path)
        if unexpected:
            raise DataError(f"holds unexpected entries {', '.join(repr(k) for k in unexpected)} "
                            f"(expected 'X' and 'y', optionally 'feature_names')", path=path)

    try:
        return read_npz(path, kinds=NUMERIC_AND_TEXT, check_names=check_names)
    except NpzError as error:
        raise DataError(error.reason, path=path) from None


def load_npy_memmap(path_X, path_y, task=None, *, validate=True, chunk_rows=None,
                    name=None) -> Dataset:
    """A ``Dataset`` whose ``X`` stays on disk: a read-only ``numpy.memmap`` of a ``.npy`` file.

    For data larger than memory. ``X`` must be a 2-D float32 or float64 ``.npy`` (converting it
    would read it whole) and is never read whole: validation (``validate=True``, NaN/inf naming the
    row and column) goes block by block of ``chunk_rows`` rows (default: ~4 MiB per block), and
    ``iter_batches`` reads only each batch's rows. ``y`` (one value per row, small next to ``X``) is
    read into memory; its labels follow ``ravine.data.labels``. Split with ``split_indices`` and
    pass the indices to ``iter_batches``; ``Standardizer.fit`` also works block by block.

    Example:
        >>> import pathlib, tempfile
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> np.save(d / "X.npy", np.ones((1000, 8), np.float32))
        >>> np.save(d / "y.npy", np.arange(1000) % 2)
        >>> ds = load_npy_memmap(d / "X.npy", d / "y.npy")
        >>> isinstance(ds.X, np.memmap), ds.n_classes
        (True, 2)
    """
    task = check_task(task)
    px, py = existing_file(path_X), existing_file(path_y)
    X = _load_npy_array(px, mmap_mode="r")
    if X.ndim != 2:
        raise DataError(f"X must be 2-D (samples × features); got shape {X.shape}", path=px)
    if X.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise DataError(f"a memory-mapped X must be float32 or float64 (converting it would read "
                        f"it whole); got {X.dtype}", path=px)
    y = _load_npy_array(py)
    if y.ndim != 1:
        raise DataError(f"y must be 1-D; got shape {y.shape}", path=py)
    if len(y) != len(X):
        raise DataError(f"has {len(y)} labels but {px} has {len(X)} rows", path=py)
    if validate:
        _check_finite(X, px, "", chunk_rows)
    y, classes = encode_array_labels(y, task, path=py, dtype=X.dtype, describe=lambda i: f"y[{i}]")
    return Dataset(X, y, name=name or os.path.basename(px), task=task, classes=classes)
