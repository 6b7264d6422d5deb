"""Reading a CSV file of numbers and labels, with errors that say file, line and column.

The format: comma-separated values (read with the standard ``csv`` module, so quoted fields work),
UTF-8 (a byte-order mark is allowed), one example per line, every line with the same number of
fields. One column holds the labels (``label_column``: a header name, or an integer index counted
from 0 as in Python — negative indices count from the end; by default the last column); every other
column is a feature and must hold a finite number in every row. Blank lines are skipped. Text that
spells an integer (``"2"``, as a command line gives it) is an index, unless the first line is a
header (it holds text) with a column of exactly that name.

A header is recognised when ``label_column`` is a name, or when some cell of the first line, outside
the label column, is non-empty text that is not a number. (A header whose names are all numbers is
therefore read as data: give ``label_column`` by name to force a header.)

Lines in messages count from 1 and include the header line, as an editor shows them; columns count
from 1, as a spreadsheet shows them, followed by the header name when there is one:

    data.csv, line 7, column 3 ("petal_width"): expected a number, got 'abc'

The labels follow ``ravine.data.labels``: integers or class names for classification (the kind is
set by the first data line: when it is a number, every label must be an integer), finite numbers for
regression.
"""

from __future__ import annotations

import csv
import math
import os
from array import array

import numpy as np

from ._args import float_dtype
from .dataset import Dataset
from .errors import DataError, existing_file
from .labels import NOT_INTEGER_HINT, check_task, encode_classes, require_two_classes

_BLOCK_ROWS = 4096  # rows parsed into one float64 block, so memory is ~8 bytes per cell


def _number(text: str):
    """The float in ``text``, or ``None`` when it is not a number (``nan``/``inf`` are numbers)."""
    try:
        return float(text)
    except ValueError:
        return None


def _integer_text(text: str):
    """``int(text)`` when ``text`` spells an integer (``"2"``, ``" -1 "``), else ``None``."""
    t = text.strip()
    return int(t) if t.lstrip("+-").isdigit() and t.lstrip("+-").isascii() else None


def _has_text(cells, skip=None) -> bool:
    """Whether some cell (other than column ``skip``) is non-empty text that is not a number: the
    mark of a header line."""
    return any(c.strip() and _number(c) is None for j, c in enumerate(cells) if j != skip)


def _nonblank_rows(reader):
    """Yield ``(line, fields)``, skipping blank lines; ``line`` is 1-based (the last physical line
    of the record when a quoted field spans lines)."""
    for fields in reader:
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        yield reader.line_num, fields


NO_LABELS = object()  # label_column for a file of features only (inputs to predict on)


class _Columns:
    """The shape of the file: column count, header names, which column holds the labels."""

    def __init__(self, path, first_line, first, label_column):
        self.path = path
        self.n = len(first)
        if label_column is NO_LABELS:
            self.label, self.features = None, list(range(self.n))
            self.has_header = _has_text(first)
            self.names = [c.strip() for c in first] if self.has_header else None
            return
        if self.n < 2:
            hint = ""
            for sep, name in ((";", "semicolons"), ("\t", "tabs")):
                if sep in first[0]:
                    hint = (f" (it seems to be separated by {name}; ravine reads comma-separated "
                            f"files)")
                    break
            raise DataError(f"has 1 column; a data file needs at least one feature column and a "
                            f"label column{hint}", path=path, line=first_line)
        if isinstance(label_column, (bool, np.bool_)) or not (
                label_column is None or isinstance(label_column, (str, int, np.integer))):
            raise TypeError(f"label_column must be a column name, an integer index or None; got "
                            f"{type(label_column).__name__} {label_column!r}")
        if isinstance(label_column, str) and _integer_text(label_column) is not None:
            if not (_has_text(first) and label_column.strip() in (c.strip() for c in first)):
                label_column = _integer_text(label_column)  # "2" from a command line: an index
        if isinstance(label_column, str):
            self.has_header = True
            self.names = [c.strip() for c in first]
            self.label = self._find_name(label_column, first_line)
        else:
            self.label = self._index(label_column, first)
            self.has_header = _has_text(first, skip=self.label)
            self.names = [c.strip() for c in first] if self.has_header else None
        self.features = [j for j in range(self.n) if j != self.label]

    def _listing(self) -> str:
        return ", ".join(repr(n) for n in self.names)

    def _find_name(self, name, line):
        hits = [j for j, n in enumerate(self.names) if n == name.strip()]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            cols = " and ".join(str(j + 1) for j in hits)
            raise DataError(f"label column {name!r} is ambiguous: columns {cols} have that name",
                            path=self.path, line=line)
        hint = ""
        if all(_number(n) is not None for n in self.names):
            hint = (" (this line looks like data, not a header; give label_column as an integer "
                    "index)")
        raise DataError(f"label column {name!r} not found; the columns are {self._listing()}{hint}",
                        path=self.path, line=line)

    def _index(self, label_column, first):
        if label_column is None:
            return self.n - 1
        j = int(label_column)
        if not -self.n <= j < self.n:
            names = ""
            if _has_text(first):  # a header, whichever column holds the labels
                names = "; the columns are " + ", ".join(repr(c.strip()) for c in first)
            raise DataError(f"label column {j} does not exist: the file has {self.n} columns "
                            f"(indices 0 to {self.n - 1}, or -{self.n} to -1){names}",
                            path=self.path)
        return j % self.n

    def name(self, j):
        """The header name of column ``j`` (0-based), or ``None``."""
        return self.names[j] or None if self.names else None

    def error(self, message, line, j):
        return DataError(message, path=self.path, line=line, column=j + 1,
                         column_name=self.name(j))


def _bad_cell(cols: _Columns, fields, line) -> DataError:
    """The error for the first feature cell of ``fields`` that is not a finite number."""
    for j in cols.features:
        text = fields[j].strip()
        if not text:
            return cols.error("empty cell; expected a number", line, j)
        value = _number(text)
        if value is None:
            return cols.error(f"expected a number, got {text!r}", line, j)
        if not math.isfinite(value):
            return cols.error(f"expected a finite number, got {text!r}", line, j)
    raise AssertionError("no bad cell found")  # pragma: no cover


def _read(path, label_column):
    """Parse the file: ``(cols, features float64, labels [str], lines array)``."""
    blocks, buffer, labels, lines = [], [], [], array("q")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        try:
            rows = _nonblank_rows(reader)
            first = next(rows, None)
            if first is None:
                raise DataError("the file is empty; expected lines of comma-separated numbers "
                                "with a label column", path=path)
            first_line, first_fields = first
            cols = _Columns(path, first_line, first_fields, label_column)
            header_line = first_line if cols.has_header else None
            data = rows if cols.has_header else _chain(first, rows)
            features, label, n = cols.features, cols.label, cols.n
            for line, fields in data:
                if len(fields) != n:
                    where = f"line {header_line}" if header_line else f"line {first_line}"
                    raise DataError(f"{path}, line {line} has {len(fields)} fields, expected {n} "
                                    f"(as on {where})", path=path, line=line, located=True)
                try:
                    values = [float(fields[j]) for j in features]
                    finite = all(map(math.isfinite, values))
                except ValueError:
                    finite = False
                if not finite:
                    raise _bad_cell(cols, fields, line)
                buffer.append(values)
                labels.append(fields[label].strip() if label is not None else "")
                lines.append(line)
                if len(buffer) == _BLOCK_ROWS:
                    blocks.append(np.array(buffer, dtype=np.float64))
                    buffer = []
        except csv.Error as e:
            raise DataError(f"is not valid CSV: {e}", path=path, line=reader.line_num) from None
        except UnicodeDecodeError as e:
            raise DataError(f"is not UTF-8 text ({e.reason} at line {reader.line_num + 1})",
                            path=path) from None
    if buffer:
        blocks.append(np.array(buffer, dtype=np.float64))
    if not labels:
        raise DataError(f"has a header (line {header_line}) but no data rows", path=path)
    return cols, np.concatenate(blocks), labels, lines


def _chain(first, rest):
    yield first
    yield from rest


def _labels(cols: _Columns, labels, lines, task, dtype):
    """``(y, classes)`` from the label strings, with errors at their line."""
    j = cols.label

    def number_at(i, what):
        text = labels[i]
        if not text:
            raise cols.error(f"empty cell; expected {what}", lines[i], j)
        value = _number(text)
        return text, value

    if task == "regression":
        out = np.empty(len(labels), dtype=dtype)
        for i in range(len(labels)):
            text, value = number_at(i, "a number (regression target)")
            if value is None:
                raise cols.error(f"expected a number (regression target), got {text!r}",
                                 lines[i], j)
            if not math.isfinite(value):
                raise cols.error(f"expected a finite number, got {text!r}", lines[i], j)
            out[i] = value
        return out, None

    numeric = bool(labels[0]) and _number(labels[0]) is not None
    if numeric:
        ints = np.empty(len(labels), dtype=np.int64)
        for i in range(len(labels)):
            text, value = number_at(i, "an integer class label")
            if value is None:
                raise cols.error(f"expected an integer class label like the others (line "
                                 f"{lines[0]} has {labels[0]!r}), got {text!r}", lines[i], j)
            if not math.isfinite(value):
                raise cols.error(f"expected an integer class label, got {text!r}", lines[i], j)
            if not value.is_integer():
                raise cols.error(f"label {text!r} is not an integer; {NOT_INTEGER_HINT}",
                                 lines[i], j)
            if abs(value) >= 2.0 ** 53:
                raise cols.error(f"got {text!r}, too large to be a class label", lines[i], j)
            ints[i] = int(value)
        y, classes = encode_classes(ints)
    else:
        for i, text in enumerate(labels):
            if not text:
                raise cols.error("empty cell; expected a class label", lines[i], j)
        y, classes = encode_classes(np.array(labels, dtype=str))
    require_two_classes(classes, path=cols.path, column=j + 1, column_name=cols.name(j),
                        what="labels in this column")
    return y, classes


def load_csv_features(path, n_features: int, label_column=None, dtype="float32") -> np.ndarray:
    """The feature matrix of a CSV to predict on, checked cell by cell like ``load_csv``.

    The file holds either ``n_features`` columns (features only) or one more, the label column of
    the training data (``label_column``, default the last), which is then ignored. Any other width
    is an error naming the file and both counts.

    Example:
        >>> import pathlib, tempfile
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "new.csv"
        >>> _ = p.write_text("a,b\\n1,2\\n3,4\\n")
        >>> load_csv_features(p, 2).tolist()
        [[1.0, 2.0], [3.0, 4.0]]
    """
    dt = float_dtype(dtype)
    p = existing_file(path, "CSV file")
    with open(p, newline="", encoding="utf-8-sig") as f:
        try:
            first = next(_nonblank_rows(csv.reader(f)), None)
        except (csv.Error, UnicodeDecodeError):
            first = None  # _read reports it, with its line
    width = len(first[1]) if first else 0
    if first is not None and width not in (n_features, n_features + 1):
        raise DataError(f"has {width} columns; the model takes {n_features} features (give those "
                        f"{n_features} columns, optionally with the label column)", path=p,
                        line=first[0])
    cols, X64, _, lines = _read(p, NO_LABELS if width == n_features else label_column)
    with np.errstate(over="ignore"):
        X = X64.astype(dt)
    if not np.isfinite(X).all():
        i, k = (int(v) for v in np.argwhere(~np.isfinite(X))[0])
        raise cols.error(f"{float(X64[i, k])!r} does not fit in {dt}; the model is {dt}", lines[i],
                         cols.features[k])
    return X


def load_csv(path, label_column=None, dtype="float32", task=None) -> Dataset:
    """Load a CSV file of features and labels into a ``Dataset``, checking every cell.

    ``label_column``: a header name, an integer index (0-based, negative from the end) or ``None``
    for the last column. ``task``: ``None`` or ``"classification"`` (integer labels or class names,
    encoded ``0 … K−1`` in sorted order, originals in ``classes``) or ``"regression"`` (float
    targets). Raises ``DataError`` (a ``ValueError``) naming file, line and column for any bad cell,
    ragged line, empty file, missing label column or single class, and ``DataFileNotFoundError``
    (both a ``FileNotFoundError`` and a ``ValueError``) when the file does not exist.

    Example:
        >>> import pathlib, tempfile
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "data.csv"
        >>> _ = p.write_text("a,b,species\\n1,2,setosa\\n3,4,virginica\\n")
        >>> ds = load_csv(p, label_column="species")
        >>> ds.X.tolist(), ds.y.tolist(), ds.classes.tolist(), ds.feature_names
        ([[1.0, 2.0], [3.0, 4.0]], [0, 1], ['setosa', 'virginica'], ['a', 'b'])
    """
    dt = float_dtype(dtype)
    task = check_task(task)
    p = existing_file(path, "CSV file")
    cols, X64, labels, lines = _read(p, label_column)
    with np.errstate(over="ignore"):  # overflow to inf is reported below, with its position
        X = X64.astype(dt)
    if dt != X64.dtype and not np.isfinite(X).all():
        i, k = (int(v) for v in np.argwhere(~np.isfinite(X))[0])
        j = cols.features[k]
        raise cols.error(f"{float(X64[i, k])!r} does not fit in {dt} (magnitude above "
                         f"{np.finfo(dt).max:.3g}); pass dtype='float64'", lines[i], j)
    y, classes = _labels(cols, labels, lines, task, dt)
    names = None
    if cols.has_header:
        names = [cols.names[j] or f"column_{j + 1}" for j in cols.features]
    return Dataset(X, y, name=os.path.basename(p), task=task, feature_names=names, classes=classes)
