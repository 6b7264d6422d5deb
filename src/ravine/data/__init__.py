"""ravine.data: data sets, user files checked cell by cell, splits, standardization and batches.

The data layer imports only NumPy, SciPy, scikit-learn and the standard library; it knows nothing
of models or training.

- ``load(name_or_path, label_column=None, dtype="float32", task=None)`` — a ``Dataset`` by name
  (``DATASETS``) or from a ``.csv``/``.npy``/``.npz`` path; ``load_csv``, ``load_npy``,
  ``load_npz`` for one format; ``load_npy_memmap`` for data larger than memory.
- ``make_moons``, ``make_circles``, ``make_spirals``, ``make_xor``, ``make_blobs`` — seeded 2-D
  problems returning ``(X, y)``.
- ``train_valid_test_split`` and ``split_indices`` — seeded, stratified.
- ``Standardizer`` — fit on the training split, ``(x − μ)/σ``, saved as plain lists.
- ``batches`` and ``iter_batches`` — shuffled mini-batches, reproducible from a Generator.

Errors about data raise ``DataError`` (a ``ValueError`` naming file, line and column); a missing
file raises ``DataFileNotFoundError`` (both ``FileNotFoundError`` and ``ValueError``).

Example:
    >>> import ravine.data as rd
    >>> ds = rd.load("iris")
    >>> train, valid, test = rd.train_valid_test_split(ds, seed=0)
    >>> scaler = rd.Standardizer().fit(train.X)
    >>> xb, yb = next(rd.iter_batches(scaler.transform(train.X), train.y, batch_size=16, seed=0))
    >>> xb.shape
    (16, 4)
"""

from .arrays import load_npy, load_npy_memmap, load_npz
from .batches import batches, iter_batches
from .csvfile import load_csv, load_csv_features
from .dataset import Dataset
from .errors import DataError, DataFileNotFoundError
from .registry import DATASETS, GENERATED, load
from .shipped import SHIPPED, load_shipped
from .split import split_indices, train_valid_test_split
from .standardize import Standardizer
from .synthetic import make_blobs, make_circles, make_moons, make_spirals, make_xor

open_memmap = load_npy_memmap  # the other name the design notes use

__all__ = [
    "DATASETS", "GENERATED", "SHIPPED", "Dataset", "DataError", "DataFileNotFoundError",
    "Standardizer", "batches", "iter_batches", "load", "load_csv", "load_csv_features", "load_npy", "load_npy_memmap",
    "load_npz", "load_shipped", "make_blobs", "make_circles", "make_moons", "make_spirals",
    "make_xor", "open_memmap", "split_indices", "train_valid_test_split",
]
