"""Evaluate a trained run's model on its train, validation and test splits (loss and error)."""

from __future__ import annotations

from ..train.evaluate import evaluate
from .run_access import open_finished_run

HELP = "evaluate a run's model on its train/valid/test splits"


def add_arguments(p) -> None:
    p.add_argument("run", metavar="RUN", help="a run folder written by ravine train")


def run(args) -> int:
    finished = open_finished_run(args.run)
    splits = finished.splits()
    loss = finished.loss
    print(f"{finished.folder.path}: {finished.model.extra_repr()}")
    print(f"{'split':<7}{'examples':>9}{'loss':>11}" + (f"{'error':>9}" if loss.task == "classification" else ""))
    for name, (X, y) in (("train", splits.train), ("valid", splits.valid), ("test", splits.test)):
        if not len(X):
            continue
        result = evaluate(finished.model, X, y, loss)
        line = f"{name:<7}{len(X):>9}{result['loss']:>11.4f}"
        if "error" in result:
            line += f"{result['error']:>9.2%}"
        print(line)
    return 0
