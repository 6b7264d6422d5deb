"""Turning a column of labels into ``y`` and ``classes``: the rules shared by every file format.

Classification (the default task): labels are integers (``1``, ``-1``, ``3.0`` — integral numbers
are accepted) or class names (any text, e.g. ``"setosa"``). They are encoded as ``0 … K−1`` in
sorted order of the original labels, which are kept in ``classes`` (``classes[k]`` is the label of
class ``k``). A number that is not an integer (``2.5``) is an error: real-valued targets need
``task="regression"``. At least two classes are required.

Regression: every target must be a finite number; ``y`` is float.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_choice
from .dataset import TASKS
from .errors import DataError

NOT_INTEGER_HINT = ("classification labels must be integers or class names (for real-valued "
                    "targets pass task='regression', or --task regression to ravine train)")


def check_task(task) -> str:
    """``'classification'`` for ``None``, else ``task`` if it is one of the two tasks."""
    return check_choice("task", task, TASKS + (None,)) or "classification"


def encode_classes(labels) -> tuple[np.ndarray, np.ndarray]:
    """``(y, classes)``: ``classes`` the sorted distinct labels, ``y`` each label's index in it.

    Example:
        >>> encode_classes(np.array(["b", "a", "b"]))
        (array([1, 0, 1]), array(['a', 'b'], dtype='<U1'))
    """
    classes, y = np.unique(np.asarray(labels), return_inverse=True)
    return y.reshape(-1).astype(np.int64), classes


def require_two_classes(classes, *, path=None, column=None, column_name=None, what="labels"):
    """Raise ``DataError`` when there are fewer than two classes."""
    if len(classes) < 2:
        found = f"only one: {classes[0].item()!r}" if len(classes) else "none"
        raise DataError(f"classification needs at least 2 classes; the {what} have {found}",
                        path=path, column=column, column_name=column_name)


def encode_array_labels(labels: np.ndarray, task: str, *, path, describe, dtype=np.float64,
                        column=None):
    """``(y, classes)`` from a 1-D array of labels read from an array file.

    ``describe(i)`` says where row ``i`` is (e.g. ``"y[17]"``) for error messages.
    """
    kind = labels.dtype.kind
    if task == "regression":
        if kind not in "biuf":
            raise DataError(f"regression targets must be numbers; got dtype {labels.dtype}",
                            path=path)
        y = labels.astype(dtype)
        _require_finite(labels, path, describe)
        return y, None
    if kind in "US":
        y, classes = encode_classes(labels.astype(str))
    elif kind == "b":
        y, classes = encode_classes(labels.astype(np.int64))
    elif kind in "iu":
        y, classes = encode_classes(labels.astype(np.int64))
    elif kind == "f":
        _require_finite(labels, path, describe)
        frac = labels != np.round(labels)
        if frac.any():
            i = int(np.flatnonzero(frac)[0])
            raise DataError(f"{describe(i)} is {labels[i].item()!r}, not an integer; "
                            f"{NOT_INTEGER_HINT}",
                            path=path)
        if np.abs(labels).max(initial=0) >= 2.0 ** 53:
            i = int(np.argmax(np.abs(labels)))
            raise DataError(f"{describe(i)} is {labels[i].item()!r}, too large to be a class "
                            f"label", path=path)
        y, classes = encode_classes(labels.astype(np.int64))
    else:
        raise DataError(f"labels must be integers or class names; got dtype {labels.dtype}",
                        path=path)
    require_two_classes(classes, path=path, column=column)
    return y, classes


def _require_finite(values: np.ndarray, path, describe):
    if values.dtype.kind != "f":
        return
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(f"{describe(i)} is {values[i].item()!r}; labels must be finite",
                        path=path)
