"""Opening a finished run for the commands that read one (evaluate, predict, diagnose, landscape)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..nn import L1, L2, losses
from ..train.steps import objective as training_objective
from ..runs import LoadedModel, RunFolder
from .build import Splits, load_splits
from .config import TrainConfig


@dataclass
class FinishedRun:
    folder: RunFolder
    loaded: LoadedModel
    config: TrainConfig

    @property
    def model(self):
        return self.loaded.model

    def splits(self) -> Splits:
        """The run's own train/valid/test data, rebuilt from its config (same seed, same split)."""
        return load_splits(self.config)

    @property
    def loss(self):
        """The run's loss (``rv.nn.losses``): cross-entropy for classification, else squared error."""
        return losses.for_task(self.loaded.task)

    def objective(self, X, y):
        """A loss_fn: the training objective (data loss + the run's penalties) on (X, y)."""
        model, config, loss = self.model, self.config, self.loss
        targets = loss.targets(y, len(X), model.out_features, model.dtype, "evaluation")
        penalties = [r for r in (L1(config.l1), L2(config.l2)) if r.strength > 0]

        return lambda: training_objective(model, loss, penalties, model(X), targets)[1]


def open_finished_run(path) -> FinishedRun:
    """The run at ``path`` with its model and config; a clear error if it has no model yet."""
    folder = RunFolder.open(path)
    if not folder.model_json_path.is_file():
        hint = (f"; continue it with: ravine train --resume {folder.path}" if folder.has_checkpoint()
                else "")
        raise ValueError(f"{folder.path} has no trained model yet (the run did not finish){hint}")
    config = TrainConfig.from_dict(folder.read_config(), source=str(folder.config_path)).validate(
        str(folder.config_path))
    return FinishedRun(folder, folder.load_model(), config)


def training_rows(run: FinishedRun, rows: int, seed: int = 0):
    """Up to ``rows`` examples of the run's training split (a seeded random subset)."""
    X, y = run.splits().train
    if rows < len(X):
        pick = np.sort(np.random.default_rng(seed).choice(len(X), size=rows, replace=False))
        X, y = X[pick], y[pick]
    return X, y
