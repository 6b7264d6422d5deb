"""A seeded train / validation / test split, stratified by class.

Sizes: ``n_test = round(test · n)`` and ``n_valid = round(valid · n)`` (halves round up), each at
least 1 when its fraction is above 0; training keeps the rest, which must be at least 1.

Stratified (the default, for classification labels): each part's count is shared out among the
classes in proportion to their sizes (largest remainders first, ties to the lower class index), with
two guarantees that take precedence over the exact sizes above: every class with at least 3 members
appears in every non-empty part, and every class keeps at least one member in training. Within a
class the members are permuted with the generator (classes in sorted order) and dealt to test,
valid, then train. Float labels (regression targets) are split at random, not stratified.

Each part's indices are returned in ascending order (file order, good for memory-mapped data).
Same seed, same split, bit for bit.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .._checks import check_int, check_number
from .._random import as_generator
from .dataset import Dataset


def _fraction(value, name) -> float:
    return check_number(name, value, low=0.0, high=1.0, high_open=True,
                        hint="a fraction of the examples")


def _size(fraction, n) -> int:
    if fraction == 0.0:
        return 0
    return max(1, int(math.floor(fraction * n + 0.5)))


def _apportion(total, quotas, lo, hi) -> np.ndarray:
    """Integers near ``quotas``, each in ``[lo, hi]``, summing to ``total`` if the bounds allow."""
    alloc = np.clip(np.floor(quotas).astype(np.int64), lo, hi)
    rest = quotas - alloc
    while alloc.sum() < total and np.any(alloc < hi):
        k = int(np.argmax(np.where(alloc < hi, rest, -np.inf)))
        alloc[k] += 1
        rest[k] -= 1
    while alloc.sum() > total and np.any(alloc > lo):
        k = int(np.argmin(np.where(alloc > lo, rest, np.inf)))
        alloc[k] -= 1
        rest[k] += 1
    return alloc


def split_indices(y_or_n, valid=0.2, test=0.2, seed=0, stratify=True):
    """``(train, valid, test)`` index arrays (int64, ascending) that partition ``range(n)``.

    ``y_or_n``: the labels (stratified when they are integers, bools or strings and ``stratify``)
    or the number of examples ``n`` (a plain random split). ``seed``: an int or a Generator.

    Example:
        >>> tr, va, te = split_indices(np.repeat([0, 1], 10), valid=0.2, test=0.2, seed=0)
        >>> len(tr), len(va), len(te)
        (12, 4, 4)
    """
    valid = _fraction(valid, "valid")
    test = _fraction(test, "test")
    if valid + test >= 1.0:
        raise ValueError(f"valid + test must be < 1 so that training keeps examples; got {valid} + "
                         f"{test} = {valid + test}")
    if isinstance(y_or_n, (numbers.Integral,)) and not isinstance(y_or_n, (bool, np.bool_)):
        n, labels = check_int("n", y_or_n, minimum=1), None
    else:
        labels = np.asarray(y_or_n)
        if labels.ndim != 1:
            raise ValueError(f"y must be 1-D; got shape {labels.shape}")
        n = len(labels)
        if n == 0:
            raise ValueError("cannot split an empty data set")
    n_test, n_valid = _size(test, n), _size(valid, n)
    if n - n_test - n_valid < 1:
        raise ValueError(f"too few examples ({n}) to split with valid={valid}, test={test}: "
                         f"training would be empty")
    rng = as_generator(seed)
    if labels is None or not stratify or labels.dtype.kind not in "biuUS":
        order = rng.permutation(n)
        parts = order[n_valid + n_test:], order[n_test:n_test + n_valid], order[:n_test]
        return tuple(np.sort(p).astype(np.int64) for p in parts)

    classes, inverse = np.unique(labels, return_inverse=True)
    inverse = inverse.reshape(-1)
    counts = np.bincount(inverse, minlength=len(classes))
    big = counts >= 3
    min_test = np.where(big & (test > 0), 1, 0)
    min_valid = np.where(big & (valid > 0), 1, 0)
    max_test = counts - 1 - min_valid if test > 0 else np.zeros_like(counts)
    per_test = _apportion(n_test, test * counts, min_test, max_test)
    max_valid = counts - 1 - per_test if valid > 0 else np.zeros_like(counts)
    per_valid = _apportion(n_valid, valid * counts, min_valid, max_valid)
    members = np.argsort(inverse, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)])
    parts = ([], [], [])
    for c in range(len(classes)):
        shuffled = rng.permutation(members[starts[c]:starts[c + 1]])
        t, v = per_test[c], per_valid[c]
        parts[2].append(shuffled[:t])
        parts[1].append(shuffled[t:t + v])
        parts[0].append(shuffled[t + v:])
    return tuple(np.sort(np.concatenate(p)).astype(np.int64) for p in parts)


def train_valid_test_split(X, y=None, valid=0.2, test=0.2, seed=0, stratify=True):
    """Split into train, validation and test parts; see the module notes for the rules.

    With arrays ``X, y``: returns ``((X_train, y_train), (X_valid, y_valid), (X_test, y_test))``.
    With a ``Dataset`` (and ``y=None``): returns three ``Dataset`` s. Fractions ``valid`` and
    ``test`` are each in ``[0, 1)`` with ``valid + test < 1``. For memory-mapped data use
    ``split_indices`` and pass the indices to ``iter_batches`` instead: this reads the rows.

    Example:
        >>> X, y = np.arange(40.0).reshape(20, 2), np.repeat([0, 1], 10)
        >>> (Xtr, ytr), (Xva, yva), (Xte, yte) = train_valid_test_split(X, y, seed=0)
        >>> np.bincount(ytr).tolist(), np.bincount(yva).tolist(), np.bincount(yte).tolist()
        ([6, 6], [2, 2], [2, 2])
    """
    if isinstance(X, Dataset):
        if y is not None:
            raise ValueError("pass either a Dataset or X and y, not a Dataset and y")
        labels = X.y if X.task == "classification" else len(X)
        idx = split_indices(labels, valid=valid, test=test, seed=seed, stratify=stratify)
        return tuple(X.take(i) for i in idx)
    if y is None:
        raise ValueError("y is required when X is an array")
    X = X if isinstance(X, np.ndarray) else np.asarray(X)
    y = np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same number of rows; got {len(X)} and {len(y)}")
    idx = split_indices(y, valid=valid, test=test, seed=seed, stratify=stratify)
    return tuple((X[i], y[i]) for i in idx)
