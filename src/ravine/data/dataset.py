"""``Dataset``: the features, the labels and what they mean, in one small container."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._checks import check_choice

TASKS = ("classification", "regression")


@dataclass(repr=False, eq=False)
class Dataset:
    """A data set: ``X`` (n × d floats), ``y`` (n labels or targets) and what they mean.

    For ``task="classification"``, ``y`` holds int64 class indices in ``[0, n_classes)`` and
    ``classes[k]`` is the original label of class ``k`` (a number or a name, as found in the source:
    labels ``{1, 2, 3}`` become ``y ∈ {0, 1, 2}`` with ``classes = [1, 2, 3]``; ``"setosa"`` …
    become ``0 …`` with ``classes`` the names). For ``task="regression"``, ``y`` holds float
    targets and ``classes`` is ``None``.

    ``X`` may be a read-only ``numpy.memmap`` (see ``load_npy_memmap``); nothing here reads it
    whole: construction checks shapes and dtypes only.

    Example:
        >>> import numpy as np
        >>> ds = Dataset(np.zeros((4, 2), np.float32), np.array([0, 1, 1, 0]), name="tiny")
        >>> ds
        Dataset('tiny', 4×2 float32, classification, 2 classes)
        >>> ds.n_classes, ds.n_features, len(ds)
        (2, 2, 4)
    """

    X: np.ndarray
    y: np.ndarray
    name: str = ""
    task: str = "classification"
    feature_names: list[str] | None = None
    classes: np.ndarray | None = field(default=None)

    def __post_init__(self):
        if not isinstance(self.X, np.ndarray):
            self.X = np.asarray(self.X)
        self.y = np.asarray(self.y)
        check_choice("task", self.task, TASKS, owner="Dataset")
        if self.X.ndim != 2:
            raise ValueError(f"X must be 2-D (samples × features); got shape {self.X.shape}")
        if self.X.dtype.kind != "f":
            raise ValueError(f"X must hold floats; got dtype {self.X.dtype}")
        if self.y.ndim != 1:
            raise ValueError(f"y must be 1-D; got shape {self.y.shape}")
        if len(self.y) != len(self.X):
            raise ValueError(f"X and y must have the same number of rows; got {len(self.X)} and "
                             f"{len(self.y)}")
        if self.feature_names is not None:
            self.feature_names = [str(f) for f in self.feature_names]
            if len(self.feature_names) != self.X.shape[1]:
                raise ValueError(f"feature_names has {len(self.feature_names)} names but X has "
                                 f"{self.X.shape[1]} features")
        if self.task == "regression":
            if self.classes is not None:
                raise ValueError("classes must be None for a regression data set")
            if self.y.dtype.kind != "f":
                raise ValueError(f"regression targets y must be floats; got dtype {self.y.dtype}")
            return
        if self.y.dtype.kind not in "iu":
            raise ValueError(f"classification labels y must be integers; got dtype {self.y.dtype}")
        self.y = self.y.astype(np.int64, copy=False)
        if self.classes is None:
            k = int(self.y.max()) + 1 if len(self.y) else 0
            self.classes = np.arange(k, dtype=np.int64)
        else:
            self.classes = np.asarray(self.classes)
            if self.classes.ndim != 1:
                raise ValueError(f"classes must be 1-D; got shape {self.classes.shape}")
        if len(self.y):
            lo, hi = int(self.y.min()), int(self.y.max())
            if lo < 0 or hi >= len(self.classes):
                bad = lo if lo < 0 else hi
                row = int(np.flatnonzero(self.y == bad)[0])
                raise ValueError(f"labels must be integers in [0, {len(self.classes)}); got {bad} "
                                 f"at row {row}")

    @property
    def n_samples(self) -> int:
        """The number of rows of ``X``."""
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        """The number of columns of ``X``."""
        return int(self.X.shape[1])

    @property
    def n_classes(self) -> int | None:
        """The number of classes for classification, ``None`` for regression."""
        return None if self.classes is None else int(len(self.classes))

    def __len__(self) -> int:
        return self.n_samples

    def __repr__(self) -> str:
        kind = "memmap " if isinstance(self.X, np.memmap) else ""
        what = (f"{self.n_classes} classes" if self.task == "classification" else "regression")
        task = "classification, " if self.task == "classification" else ""
        return (f"Dataset({self.name!r}, {self.n_samples}×{self.n_features} {kind}{self.X.dtype}, "
                f"{task}{what})")

    def take(self, indices) -> "Dataset":
        """The rows ``indices`` as a new in-memory ``Dataset`` with the same meaning.

        On a memory-mapped ``X`` only those rows are read (in ascending file order if ``indices``
        is sorted).

        Example:
            >>> import numpy as np
            >>> ds = Dataset(np.arange(8.0).reshape(4, 2), np.array([0, 1, 1, 0]))
            >>> ds.take([1, 2]).y
            array([1, 1])
        """
        idx = np.asarray(indices)
        if idx.size == 0:
            idx = idx.astype(np.intp)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise ValueError(f"indices must be a 1-D array of integers; got {idx.dtype} with shape "
                             f"{idx.shape}")
        return Dataset(np.asarray(self.X[idx]), self.y[idx], name=self.name, task=self.task,
                       feature_names=self.feature_names, classes=self.classes)
