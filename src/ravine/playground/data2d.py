"""The playground's 2-D data: generated sets, regression functions, the user's points, the input
features and the train/valid split.

Points live on the plane [−6, 6]² (``x1`` right, ``x2`` up). The generators of ``ravine.data`` draw
their shapes at unit scale; they are scaled onto the plane here. The network's inputs are the chosen
features of a point, each scaled to be of order one (the scales are fixed, not fitted, so the same
point always gives the same inputs — the saved run's CSV holds exactly these values):

    x1 → x1/3,  x2 → x2/3,  x1^2 → (x1/3)²,  x2^2 → (x2/3)²,  x1*x2 → x1·x2/9,
    sin(x1) → sin x1,  sin(x2) → sin x2.

Example::

    pts = generate(validate_config({})["data"])       # Points: X (n×2), y, split (True = train)
    feature_matrix(pts.X, ["x1", "x2", "x1*x2"])      # n × 3 float32
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

import numpy as np

from .. import data as rdata
from .protocol import EXTENT, MAX_POINTS, ProtocolError

_FEATURES = {
    "x1": lambda a, b: a / 3.0,
    "x2": lambda a, b: b / 3.0,
    "x1^2": lambda a, b: (a / 3.0) ** 2,
    "x2^2": lambda a, b: (b / 3.0) ** 2,
    "x1*x2": lambda a, b: a * b / 9.0,
    "sin(x1)": lambda a, b: np.sin(a),
    "sin(x2)": lambda a, b: np.sin(b),
}

_FUNCTIONS = {
    "saddle": lambda a, b: (a * a - b * b) / 18.0,
    "sine": lambda a, b: np.sin(a / 1.5) * np.cos(b / 3.0),
    "ripple": lambda a, b: np.sin(np.hypot(a, b) * 1.2) * np.exp(-np.hypot(a, b) / 8.0),
}


@dataclass
class Points:
    """The points of a session: ``X`` (n × 2 float64 plane coordinates), ``y`` (int classes, or
    float targets for regression), ``train`` (bool per point: True for the training split)."""

    X: np.ndarray
    y: np.ndarray
    train: np.ndarray
    regression: bool

    @classmethod
    def empty(cls, regression: bool = False) -> "Points":
        return cls(np.zeros((0, 2)), np.zeros(0, dtype=np.float64 if regression else np.int64),
                   np.zeros(0, dtype=bool), regression)

    def __len__(self) -> int:
        return len(self.y)

    def part(self, train: bool):
        mask = self.train if train else ~self.train
        return self.X[mask], self.y[mask]

    def add(self, x, label, train: bool) -> None:
        if len(self) >= MAX_POINTS:
            raise ProtocolError(f"too many points: the limit is {MAX_POINTS}", "x")
        self.X = np.vstack([self.X, np.asarray(x, dtype=np.float64)[None, :]])
        self.y = np.append(self.y, np.asarray(label, dtype=self.y.dtype))
        self.train = np.append(self.train, bool(train))

    def remove_nearest(self, x) -> bool:
        if not len(self):
            return False
        k = int(np.argmin(np.sum((self.X - np.asarray(x, dtype=np.float64)) ** 2, axis=1)))
        keep = np.arange(len(self)) != k
        self.X, self.y, self.train = self.X[keep], self.y[keep], self.train[keep]
        return True

    def to_message(self, classes: int) -> dict:
        def rows(mask):
            return [[round(float(a), 5), round(float(b), 5), (round(float(t), 5) if self.regression else int(t))]
                    for (a, b), t in zip(self.X[mask], self.y[mask])]

        return {"type": "points", "train": rows(self.train), "valid": rows(~self.train),
                "classes": 0 if self.regression else classes}


def feature_matrix(X, features, dtype=np.float32) -> np.ndarray:
    """The network's inputs for plane points ``X`` (n × 2): one column per feature, in order."""
    X = np.asarray(X, dtype=np.float64).reshape(-1, 2)
    a, b = X[:, 0], X[:, 1]
    return np.column_stack([_FEATURES[f](a, b) for f in features]).astype(dtype) if len(X) else \
        np.zeros((0, len(features)), dtype=dtype)


def split_mask(y, train_share: float, seed: int, stratify: bool) -> np.ndarray:
    """True for the training points: ``rdata.split_indices`` with valid = 1 − train_share (seeded,
    stratified for classification), so a run folder rebuilt from the same CSV splits the same way."""
    n = len(y)
    mask = np.zeros(n, dtype=bool)
    if n == 0:
        return mask
    if n < 4:
        mask[:] = True
        return mask
    labels = np.asarray(y) if stratify else n
    if stratify and np.min(np.bincount(np.asarray(y, dtype=np.int64))[np.unique(y)]) < 2:
        labels = n  # a class with a single point cannot be stratified
    train, _, _ = rdata.split_indices(labels, valid=1.0 - train_share, test=0.0, seed=seed,
                                      stratify=not isinstance(labels, int))
    mask[train] = True
    return mask


def generate(data: dict, seed: int | None = None) -> Points:
    """The points of the data settings ``data`` (a validated ``config.data``), drawn from ``seed``
    (default ``data.seed``). ``custom`` gives no points (the user places them)."""
    seed = data["seed"] if seed is None else seed
    name, n, noise, classes = data["dataset"], data["points"], data["noise"], data["classes"]
    if name == "custom":
        return Points.empty()
    if name == "regression":
        rng = np.random.default_rng(seed)
        X = rng.uniform(-EXTENT, EXTENT, size=(n, 2))
        y = _FUNCTIONS[data["function"]](X[:, 0], X[:, 1]) + noise * rng.standard_normal(n)
        pts = Points(X, y.astype(np.float64), np.zeros(n, dtype=bool), True)
        pts.train = split_mask(y, data["train_share"], seed, stratify=False)
        return pts
    if name == "moons":
        X, y = rdata.make_moons(n, noise=noise, seed=seed, dtype="float64")
        X = (X - np.array([0.5, 0.25])) * 3.0
    elif name == "circles":
        X, y = rdata.make_circles(n, noise=noise, seed=seed, dtype="float64")
        X = X * 5.0
    elif name == "spirals":
        X, y = rdata.make_spirals(n, noise=noise, n_classes=classes, seed=seed, dtype="float64")
        X = X * 5.0
    elif name == "xor":
        X, y = rdata.make_xor(n, noise=noise, seed=seed, dtype="float64")
        X = X * 5.0
    else:  # blobs: noise is the blobs' spread, on top of a small base spread
        X, y = rdata.make_blobs(n, noise=0.15 + noise, n_classes=classes, seed=seed, dtype="float64")
        X = X * 2.0
    X = np.clip(X, -EXTENT, EXTENT)
    return Points(X, y.astype(np.int64), split_mask(y, data["train_share"], seed, True), False)


def target_function(name: str):
    return _FUNCTIONS[name]


def parse_csv(text: str, classes: int, regression: bool, train_share: float, seed: int) -> Points:
    """Points from CSV text with a header ``x1,x2,label``; a ProtocolError naming line and column
    for any bad cell (coordinates in [−6, 6]; labels integer classes in [0, classes), or real
    targets for regression)."""
    reader = csv.reader(io.StringIO(text))
    rows = [(i + 1, row) for i, row in enumerate(reader) if any(cell.strip() for cell in row)]
    if not rows:
        raise ProtocolError("the CSV is empty: expected a header x1,x2,label and rows", "text")
    line, header = rows[0]
    if [h.strip().lower() for h in header] != ["x1", "x2", "label"]:
        raise ProtocolError(f"line {line}: the header must be x1,x2,label; got {','.join(header)!r}", "text")
    if len(rows) - 1 > MAX_POINTS:
        raise ProtocolError(f"the CSV has {len(rows) - 1} points; the limit is {MAX_POINTS}", "text")
    X, y = [], []
    names = ("x1", "x2", "label")
    for line, row in rows[1:]:
        if len(row) != 3:
            raise ProtocolError(f"line {line}: expected 3 columns (x1,x2,label); got {len(row)}", "text")
        values = []
        for col, (name, cell) in enumerate(zip(names, row), start=1):
            try:
                value = float(cell.strip())
            except ValueError:
                value = math.nan
            where = f"line {line}, column {col} ({name})"
            if not math.isfinite(value):
                raise ProtocolError(f"{where}: expected a number; got {cell.strip()!r}", "text")
            if col < 3 and abs(value) > EXTENT:
                raise ProtocolError(f"{where}: coordinates must be in [-6, 6]; got {cell.strip()}", "text")
            if col == 3 and not regression and (value != int(value) or not 0 <= value < classes):
                raise ProtocolError(f"{where}: labels must be integer classes in [0, {classes}); "
                                    f"got {cell.strip()}", "text")
            if col == 3 and regression and abs(value) > 100:
                raise ProtocolError(f"{where}: targets must be in [-100, 100]; got {cell.strip()}", "text")
            values.append(value)
        X.append(values[:2])
        y.append(values[2])
    if not X:
        raise ProtocolError("the CSV has a header but no points", "text")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64 if regression else np.int64)
    return Points(X, y, split_mask(y, train_share, seed, not regression), regression)


__all__ = ["Points", "feature_matrix", "generate", "parse_csv", "split_mask", "target_function"]
