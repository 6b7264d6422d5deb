"""Predict with a trained run's model on a CSV of new examples, writing a CSV of predictions.

The input holds the model's feature columns (optionally with the training label column, which is
ignored); it is standardized with the training split's statistics saved in the model. The output
has one row per input row: the predicted class (as the training labels name it) and the
probability of each class, or the predicted value(s) for regression.
"""

from __future__ import annotations

import argparse
import csv

import numpy as np

from .._atomic import atomic_open
from ..autodiff.softmax import _softmax_array
from ..data import load_csv_features
from .run_access import open_finished_run

HELP = "predict on a CSV with a run's model"
FORMATTER = argparse.RawDescriptionHelpFormatter


def add_arguments(p) -> None:
    p.add_argument("run", metavar="RUN", help="a run folder written by ravine train")
    p.add_argument("input", metavar="INPUT.csv", help="the examples to predict on")
    p.add_argument("--output", metavar="OUT.csv", required=True, help="where to write the predictions")


def run(args) -> int:
    finished = open_finished_run(args.run)
    model, loaded = finished.model, finished.loaded
    X = load_csv_features(args.input, model.in_features, label_column=finished.config.label_column,
                          dtype=model.dtype)
    out = loaded.output(X)
    if loaded.task == "classification":
        probs = _softmax_array(out.astype(np.float64), 1)
        classes = list(loaded.classes) if loaded.classes is not None else list(range(out.shape[1]))
        header = ["prediction"] + [f"probability_{c}" for c in classes]
        rows = ([classes[k]] + [f"{p:.6g}" for p in row] for k, row in zip(probs.argmax(axis=1), probs))
    else:
        header = ["prediction"] if out.shape[1] == 1 else [f"prediction_{j}" for j in range(out.shape[1])]
        rows = ([f"{v:.8g}" for v in row] for row in out)
    with atomic_open(args.output, "w") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    print(f"wrote {len(X)} predictions to {args.output}")
    return 0
