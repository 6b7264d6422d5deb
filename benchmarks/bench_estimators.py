"""ravine.sklearn.MLPClassifier against scikit-learn's own, on digits: accuracy and fit time.

The same parameters (scikit-learn's defaults: adam, lr 1e-3, batch min(200, n), up to 200 epochs,
stopping on the training loss), the same seeds, standardized digits with a stratified 25% test
split. Fits alternate between the two libraries, seed by seed; the table gives each seed's test
accuracy and fit time and the medians. Run: ``.venv/bin/python benchmarks/bench_estimators.py``.
"""

from __future__ import annotations

import statistics
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLP
from sklearn.preprocessing import StandardScaler

from ravine.sklearn import MLPClassifier as RavineMLP

SEEDS = (0, 1, 2)


def data(dtype):
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    scaler = StandardScaler().fit(Xtr)
    return scaler.transform(Xtr).astype(dtype), scaler.transform(Xte).astype(dtype), ytr, yte


def fit(cls, seed, Xtr, ytr):
    model = cls(hidden_layer_sizes=(100,), random_state=seed)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(Xtr, ytr)
    return model, time.perf_counter() - started


def main() -> int:
    print("digits, hidden (100,), scikit-learn's default parameters; seeds", ", ".join(map(str, SEEDS)))
    print(f"{'input':<8}{'library':<14}{'accuracy per seed':<26}{'mean acc':>9}{'fit s (median)':>16}{'epochs':>8}")
    for dtype in (np.float64, np.float32):
        Xtr, Xte, ytr, yte = data(dtype)
        rows = {}
        for seed in SEEDS:
            for name, cls in (("scikit-learn", SklearnMLP), ("ravine", RavineMLP)):
                model, seconds = fit(cls, seed, Xtr, ytr)
                row = rows.setdefault(name, {"acc": [], "sec": [], "epochs": []})
                row["acc"].append(model.score(Xte, yte))
                row["sec"].append(seconds)
                row["epochs"].append(model.n_iter_)
        for name, row in rows.items():
            accs = " ".join(f"{a:.4f}" for a in row["acc"])
            print(f"{np.dtype(dtype).name:<8}{name:<14}{accs:<26}{np.mean(row['acc']):>9.4f}"
                  f"{statistics.median(row['sec']):>16.3f}{statistics.median(row['epochs']):>8.0f}")
        ratio = statistics.median(rows["ravine"]["sec"]) / statistics.median(rows["scikit-learn"]["sec"])
        gap = np.mean(rows["ravine"]["acc"]) - np.mean(rows["scikit-learn"]["acc"])
        print(f"{'':<8}ravine/scikit-learn fit time {ratio:.2f}; accuracy difference {gap:+.4f} "
              f"(issue 5: within 0.01 {'✓' if gap >= -0.01 else '✗'}, faster {'✓' if ratio < 1 else '✗'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
