"""One trial: a ``TrainConfig`` trained for some epochs, in a worker; a pure function of its task.

A trial's config is the search's base options updated with the trial's hyper-parameters. Two
seeds are at play: ``config["seed"]`` (the base's) splits the data — every trial of a search sees
the same train/valid/test split, so their validation figures compare — and ``task.seed`` (drawn per
trial from the search seed) initializes the weights and shuffles the batches.

``run_trial`` trains ``epochs_to - epochs_from`` epochs. When ``epochs_from > 0`` (a trial promoted
by successive halving) it continues from the state it saved at ``epochs_from`` — weights, optimizer
buffers, trainer position and history — instead of training again from scratch. It saves its state
at ``epochs_to`` (atomically, one folder per epoch count, so a crash never leaves a state that
disagrees with the store) and returns the curve and metrics. It never writes the store: the
coordinator does. BLAS is limited to one thread, so N workers use N cores and do not oversubscribe.

Example::

    task = TrialTask(0, {"data": "digits", "hidden": [16], "lr": 0.1}, seed=5, epochs_from=0,
                     epochs_to=3, state_path="searches/x/trials/0")
    result = run_trial(task)            # result.curve[-1]["val_error"], result.metrics
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from threadpoolctl import threadpool_limits

DATA_KEYS = ("data", "label_column", "task", "valid", "test", "standardize", "dtype", "seed")
CURVE_KEYS = ("epoch", "loss", "error", "val_loss", "val_error")

_DATA: dict = {}  # data_key -> Splits, in each worker process


@dataclass
class TrialTask:
    index: int
    config: dict          # TrainConfig keys; config["seed"] splits the data
    seed: int             # the training seed (weights, shuffling)
    epochs_from: int
    epochs_to: int
    state_path: str | None = None
    data_key: str = ""


@dataclass
class TrialResult:
    index: int
    curve: list
    metrics: dict
    state_path: str | None
    seconds: float
    worker: str
    epochs: int = 0
    stopped: bool = False
    extra: dict = field(default_factory=dict)


def data_key(config: dict) -> str:
    """What identifies a trial's data: the data options and the split seed."""
    from ..cli.config import TrainConfig

    full = TrainConfig.from_dict({k: v for k, v in config.items() if k in TrainConfig.keys()}, "trial").to_dict()
    return json.dumps({k: full[k] for k in DATA_KEYS}, sort_keys=True)


def load_data(config: dict):
    """The splits of a trial's data (split by ``config["seed"]``)."""
    from ..cli.build import load_splits
    from ..cli.config import TrainConfig

    key = json.loads(data_key(config))
    return load_splits(TrainConfig.from_dict(key, "trial data").validate("trial data"))


def init_worker(key: str | None = None, data=None) -> None:
    """Process-pool initializer: one BLAS thread, and the search's data kept for every trial."""
    threadpool_limits(1)
    if key is not None and data is not None:
        _DATA[key] = data


def trial_config(task: TrialTask):
    from ..cli.config import TrainConfig

    config = TrainConfig.from_dict(dict(task.config), source=f"trial {task.index}")
    config.seed = int(task.seed)
    config.epochs = int(task.epochs_to)
    return config.validate(f"trial {task.index}")


def state_folder(state_path, epochs: int) -> Path:
    return Path(state_path) / f"epoch-{int(epochs)}"


def run_trial(task: TrialTask, data=None) -> TrialResult:
    """Train the trial from ``epochs_from`` to ``epochs_to``; see the module docstring."""
    from ..cli.build import build_model, build_trainer
    from ..runs.checkpoint import load_checkpoint, save_checkpoint

    started = time.perf_counter()
    with threadpool_limits(1):
        key = task.data_key or data_key(task.config)
        if data is None:
            data = _DATA.get(key)
        if data is None:
            data = _DATA[key] = load_data(task.config)
        config = trial_config(task)
        model = build_model(config, data.train[0].shape[1], data.outputs)
        trainer = build_trainer(config, model, data.task, progress=False)
        if task.epochs_from > 0:
            if task.state_path is None:
                raise ValueError(f"trial {task.index}: continuing from epoch {task.epochs_from} needs state_path")
            trainer.load_state(*load_checkpoint(state_folder(task.state_path, task.epochs_from)))
        valid = data.valid if len(data.valid[0]) else None
        more = max(0, task.epochs_to - trainer.epoch)
        if more and not trainer.stop_training:
            trainer.fit(*data.train, epochs=more, validation_data=valid)
        if task.state_path is not None:
            folder = state_folder(task.state_path, task.epochs_to)
            folder.mkdir(parents=True, exist_ok=True)
            save_checkpoint(folder, *trainer.state())
        curve = [{k: float(row[k]) if k != "epoch" else int(row[k]) for k in CURVE_KEYS if k in row}
                 for row in trainer.history.epochs]
        for i, row in enumerate(curve):
            row.setdefault("epoch", i + 1)
        metrics = {}
        if valid is not None:
            metrics.update({f"val_{k}": float(v) for k, v in trainer.evaluate(*valid).items()})
        metrics.update({k: float(v) for k, v in trainer.evaluate(*data.train).items()})
        return TrialResult(task.index, curve, metrics, task.state_path, time.perf_counter() - started,
                           f"{socket.gethostname()}:{os.getpid()}", epochs=int(trainer.epoch),
                           stopped=bool(trainer.stop_training))


def evaluate_saved(task: TrialTask, epochs: int, data) -> dict:
    """The test-set figures of the trial's weights saved at ``epochs`` (the coordinator calls it once)."""
    from ..cli.build import build_model, build_trainer
    from ..runs.checkpoint import load_checkpoint

    config = trial_config(task)
    model = build_model(config, data.train[0].shape[1], data.outputs)
    trainer = build_trainer(config, model, data.task, progress=False)
    trainer.load_state(*load_checkpoint(state_folder(task.state_path, epochs)))
    return {k: float(v) for k, v in trainer.evaluate(*data.test).items()}
