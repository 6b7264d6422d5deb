"""Two-dimensional toy problems: moons, circles, spirals, XOR and Gaussian blobs.

Each generator takes ``n_samples``, ``noise`` (the standard deviation of Gaussian noise added to
both coordinates), ``seed`` (an int or a ``numpy.random.Generator``; ``None`` draws fresh
entropy) and, where it applies, ``n_classes``. It returns ``(X, y)``: ``X`` of shape
``(n_samples, 2)`` in ``dtype`` (float32 by default), ``y`` int64 labels in ``[0, n_classes)``.
Every class gets ``n_samples // n_classes`` points and the first ``n_samples % n_classes`` classes
one more.

The clean points are computed in float64, then the noise is drawn (always, even when ``noise=0``, so
that a seed gives the same row order whatever the noise), then the rows are shuffled with one
permutation from the same generator, and finally cast to ``dtype``. Same seed, same bits; no global
random state is touched. With ``noise=0`` the points lie exactly on the clean shape.
"""

from __future__ import annotations

import math

import numpy as np

from .._checks import check_int, check_number
from .._random import as_generator
from ._args import float_dtype


def _counts(n: int, k: int) -> np.ndarray:
    return np.array([n // k + (c < n % k) for c in range(k)], dtype=np.int64)


def _finish(points, labels, noise, rng, dtype):
    points = points + noise * rng.standard_normal(points.shape)
    order = rng.permutation(len(labels))
    return points[order].astype(float_dtype(dtype)), labels[order].astype(np.int64)


def _check_common(owner, n_samples, noise, minimum):
    n = check_int("n_samples", n_samples, minimum=minimum, owner=owner)
    return n, check_number("noise", noise, low=0.0, owner=owner)


def make_moons(n_samples: int = 200, noise: float = 0.1, seed=0, *, dtype="float32"):
    """Two interleaving half circles.

    Class 0: ``(cos t, sin t)``; class 1: ``(1 − cos t, 1/2 − sin t)``, for ``t`` evenly spaced on
    ``[0, π]``; then Gaussian noise of standard deviation ``noise``.

    Example:
        >>> X, y = make_moons(100, noise=0.1, seed=0)
        >>> X.shape, X.dtype, np.bincount(y).tolist()
        ((100, 2), dtype('float32'), [50, 50])
    """
    n, noise = _check_common("make_moons", n_samples, noise, 2)
    outer, inner = _counts(n, 2)
    t_out = np.linspace(0.0, math.pi, outer)
    t_in = np.linspace(0.0, math.pi, inner)
    points = np.concatenate([np.column_stack([np.cos(t_out), np.sin(t_out)]),
                             np.column_stack([1.0 - np.cos(t_in), 0.5 - np.sin(t_in)])])
    labels = np.repeat([0, 1], [outer, inner])
    return _finish(points, labels, noise, as_generator(seed, owner="make_moons"), dtype)


def make_circles(n_samples: int = 200, noise: float = 0.05, seed=0, *, factor: float = 0.5,
                 dtype="float32"):
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor`` (0 < factor < 1).

    Angles are evenly spaced on ``[0, 2π)``; then Gaussian noise of standard deviation ``noise``.

    Example:
        >>> X, y = make_circles(8, noise=0.0, seed=0)
        >>> np.round(np.hypot(X[:, 0], X[:, 1]), 6)[y == 1].tolist()
        [0.5, 0.5, 0.5, 0.5]
    """
    n, noise = _check_common("make_circles", n_samples, noise, 2)
    factor = check_number("factor", factor, low=0.0, high=1.0, low_open=True, high_open=True,
                          owner="make_circles")
    outer, inner = _counts(n, 2)
    a_out = np.linspace(0.0, 2 * math.pi, outer, endpoint=False)
    a_in = np.linspace(0.0, 2 * math.pi, inner, endpoint=False)
    points = np.concatenate([np.column_stack([np.cos(a_out), np.sin(a_out)]),
                             factor * np.column_stack([np.cos(a_in), np.sin(a_in)])])
    labels = np.repeat([0, 1], [outer, inner])
    return _finish(points, labels, noise, as_generator(seed, owner="make_circles"), dtype)


def make_spirals(n_samples: int = 300, noise: float = 0.05, n_classes: int = 3, seed=0, *,
                 turns: float = 1.0, dtype="float32"):
    """``n_classes`` interleaved spiral arms, one per class.

    Arm ``k`` is ``r (cos θ, sin θ)`` with ``r = 0.1 + 0.9 t`` and ``θ = 2π (turns · t + k / K)``
    for ``t`` evenly spaced on ``[0, 1]``; then Gaussian noise of standard deviation ``noise``.

    Example:
        >>> X, y = make_spirals(300, n_classes=3, seed=0)
        >>> X.shape, np.bincount(y).tolist()
        ((300, 2), [100, 100, 100])
    """
    k = check_int("n_classes", n_classes, minimum=2, owner="make_spirals")
    n, noise = _check_common("make_spirals", n_samples, noise, k)
    turns = check_number("turns", turns, low=0.0, owner="make_spirals")
    counts = _counts(n, k)
    arms = []
    for c, m in enumerate(counts):
        t = np.linspace(0.0, 1.0, m)
        r = 0.1 + 0.9 * t
        theta = 2 * math.pi * (turns * t + c / k)
        arms.append(np.column_stack([r * np.cos(theta), r * np.sin(theta)]))
    labels = np.repeat(np.arange(k), counts)
    return _finish(np.concatenate(arms), labels, noise, as_generator(seed, owner="make_spirals"),
                   dtype)


def make_xor(n_samples: int = 200, noise: float = 0.1, seed=0, *, dtype="float32"):
    """The XOR problem: points in the four quadrants of ``[-1, 1]²``, label 1 where ``x·y < 0``.

    Quadrants get equal shares; within a quadrant both coordinates are uniform on ``(0, 1]`` in
    magnitude; then Gaussian noise of standard deviation ``noise`` (which may carry a point across
    an axis: the label is that of its clean point).

    Example:
        >>> X, y = make_xor(100, noise=0.0, seed=0)
        >>> bool(np.all(y == (X[:, 0] * X[:, 1] < 0)))
        True
    """
    n, noise = _check_common("make_xor", n_samples, noise, 2)
    rng = as_generator(seed, owner="make_xor")
    quadrant = np.repeat(np.arange(4), _counts(n, 4))
    signs = np.array([[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])
    points = (1.0 - rng.random((n, 2))) * signs[quadrant]
    labels = np.array([0, 1, 0, 1])[quadrant]
    return _finish(points, labels, noise, rng, dtype)


def make_blobs(n_samples: int = 200, noise: float = 0.5, n_classes: int | None = None, seed=0, *,
               centers=None, dtype="float32"):
    """Isotropic Gaussian blobs, one per class, of standard deviation ``noise``.

    By default ``n_classes = 3`` centers sit evenly on the circle of radius 2; ``centers`` (a
    ``K × d`` array) places them yourself, in any dimension ``d``.

    Example:
        >>> X, y = make_blobs(90, noise=0.0, n_classes=3, seed=0)
        >>> np.unique(np.round(np.hypot(X[:, 0], X[:, 1]), 6)).tolist()
        [2.0]
    """
    if centers is None:
        k = 3 if n_classes is None else check_int("n_classes", n_classes, minimum=2,
                                                  owner="make_blobs")
        angles = 2 * math.pi * np.arange(k) / k
        centers = 2.0 * np.column_stack([np.cos(angles), np.sin(angles)])
    else:
        centers = np.asarray(centers, dtype=np.float64)
        if centers.ndim != 2 or centers.shape[0] < 2 or centers.shape[1] < 1:
            raise ValueError(f"centers must be a 2-D array with one row per class (at least 2); "
                             f"got shape {centers.shape}")
        if not np.all(np.isfinite(centers)):
            raise ValueError("centers must be finite")
        k = centers.shape[0]
        if n_classes is not None and check_int("n_classes", n_classes, minimum=2,
                                               owner="make_blobs") != k:
            raise ValueError(f"n_classes={n_classes} disagrees with the {k} rows of centers")
    n, noise = _check_common("make_blobs", n_samples, noise, k)
    labels = np.repeat(np.arange(k), _counts(n, k))
    return _finish(centers[labels], labels, noise, as_generator(seed, owner="make_blobs"), dtype)


GENERATORS = {
    "moons": make_moons,
    "circles": make_circles,
    "spirals": make_spirals,
    "xor": make_xor,
    "blobs": make_blobs,
}
