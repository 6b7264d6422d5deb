"""The classic small data sets that ship inside scikit-learn: nothing is downloaded."""

from __future__ import annotations

import numpy as np

from ._args import float_dtype
from .dataset import Dataset

SHIPPED = ("digits", "iris", "wine", "breast_cancer")


def load_shipped(name: str, dtype="float32") -> Dataset:
    """One of scikit-learn's bundled classification sets as a ``Dataset``.

    ============== ======== ======== ========
    name           samples  features classes
    ============== ======== ======== ========
    digits         1797     64       10
    iris           150      4        3
    wine           178      13       3
    breast_cancer  569      30       2
    ============== ======== ======== ========

    ``classes`` holds scikit-learn's ``target_names`` (``classes[k]`` names label ``k``).

    Example:
        >>> ds = load_shipped("iris")
        >>> ds.X.shape, ds.n_classes, str(ds.classes[0])
        ((150, 4), 3, 'setosa')
    """
    from sklearn import datasets as skd  # imported here: it takes a while and is not always needed

    loaders = {"digits": skd.load_digits, "iris": skd.load_iris, "wine": skd.load_wine,
               "breast_cancer": skd.load_breast_cancer}
    if name not in loaders:
        raise ValueError(f"unknown shipped data set {name!r}; known: {', '.join(SHIPPED)}")
    bunch = loaders[name]()
    X = np.ascontiguousarray(bunch.data, dtype=float_dtype(dtype))
    y = np.asarray(bunch.target, dtype=np.int64)
    classes = np.asarray(bunch.target_names)
    if classes.dtype.kind in "iu":
        classes = classes.astype(np.int64)
    else:
        classes = classes.astype(str)
    feature_names = [str(f) for f in bunch.feature_names]
    return Dataset(X, y, name=name, task="classification", feature_names=feature_names,
                   classes=classes)
