"""``load(name_or_path)``: every data set ravine knows, by name, and user files, by path."""

from __future__ import annotations

import os

from ._args import float_dtype
from .arrays import load_npy, load_npz
from .csvfile import load_csv
from .dataset import Dataset
from .labels import check_task
from .shipped import SHIPPED, load_shipped
from .synthetic import GENERATORS

GENERATED = tuple(GENERATORS)
DATASETS = SHIPPED + GENERATED
FILE_LOADERS = {".csv": load_csv, ".npy": load_npy, ".npz": load_npz}


def load(name_or_path, label_column=None, dtype="float32", task=None, **options) -> Dataset:
    """A ``Dataset`` by name (see ``DATASETS``) or from a ``.csv``/``.npy``/``.npz`` file.

    Names: scikit-learn's bundled ``"digits"``, ``"iris"``, ``"wine"``, ``"breast_cancer"`` (no
    download) and the 2-D generators ``"moons"``, ``"circles"``, ``"spirals"``, ``"xor"``,
    ``"blobs"`` with their defaults; ``options`` go to the generator (``seed``, ``n_samples``,
    ``noise``, ``n_classes`` …). A path ending in ``.csv``, ``.npy`` or ``.npz`` loads a user file
    (``label_column`` and ``task`` apply; see ``load_csv``, ``load_npy``, ``load_npz``). An unknown
    name raises ``ValueError`` listing the known ones.

    Example:
        >>> load("iris").X.shape
        (150, 4)
        >>> load("spirals", n_classes=4, seed=1).n_classes
        4
    """
    dt = float_dtype(dtype)
    task = check_task(task)
    if isinstance(name_or_path, os.PathLike):
        name_or_path = os.fspath(name_or_path)
    if not isinstance(name_or_path, str):
        raise TypeError(f"name_or_path must be a data set name or a path; got "
                        f"{type(name_or_path).__name__} {name_or_path!r}")
    ext = os.path.splitext(name_or_path)[1].lower()
    if ext in FILE_LOADERS:
        if options:
            raise TypeError(f"unexpected options for a file: {', '.join(sorted(options))}")
        return FILE_LOADERS[ext](name_or_path, label_column=label_column, dtype=dt, task=task)
    key = name_or_path.strip().lower().replace("-", "_")
    if key not in DATASETS:
        if os.path.isfile(name_or_path):
            raise ValueError(f"{name_or_path}: unsupported file type {ext or '(no extension)'!r}; "
                             f"expected .csv, .npy or .npz")
        raise ValueError(f"unknown data set {name_or_path!r}; known names: {', '.join(DATASETS)}; "
                         f"or give a path ending in .csv, .npy or .npz")
    if label_column is not None:
        raise ValueError(f"label_column applies to files, not to the data set {key!r}")
    if task != "classification":
        raise ValueError(f"the data set {key!r} is a classification problem; got task={task!r}")
    if key in SHIPPED:
        if options:
            raise TypeError(f"the data set {key!r} takes no options; got "
                            f"{', '.join(sorted(options))}")
        return load_shipped(key, dtype=dt)
    X, y = GENERATORS[key](dtype=dt, **options)
    names = ["x1", "x2"] if X.shape[1] == 2 else None  # blobs may be given centers in d dims
    return Dataset(X, y, name=key, task="classification", feature_names=names)
