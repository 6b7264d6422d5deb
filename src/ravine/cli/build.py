"""From a ``TrainConfig`` to the objects of a run: data splits, model, optimizer, callbacks, Trainer.

The same config always builds the same objects (every random choice is seeded from ``seed``), which
is what lets a run be repeated from its ``config.toml`` and resumed from its checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import data as rdata
from ..diagnose import CurvatureMonitor, LayerMonitor
from ..nn import L1, L2, MLP, losses
from ..optim import SGD, AdaGrad, Adam, AdamW, Newton, RMSProp, decay_groups
from ..train import EarlyStopping, Trainer
from .config import TrainConfig


@dataclass
class Splits:
    """The data of a run: train/valid/test (standardized on train), and what the labels mean."""

    dataset: rdata.Dataset
    train: tuple
    valid: tuple
    test: tuple
    standardizer: rdata.Standardizer | None

    @property
    def task(self) -> str:
        return self.dataset.task

    @property
    def outputs(self) -> int:
        if self.task == "classification":
            return int(self.dataset.n_classes)
        return 1 if self.dataset.y.ndim == 1 else int(self.dataset.y.shape[1])


def load_splits(config: TrainConfig) -> Splits:
    """Load the data, split it (stratified, seeded) and standardize on the training split."""
    label_column = config.label_column
    dataset = rdata.load(config.data, label_column=label_column, dtype=config.dtype, task=config.task)
    (Xtr, ytr), (Xva, yva), (Xte, yte) = rdata.train_valid_test_split(
        dataset.X, dataset.y, valid=config.valid, test=config.test, seed=config.seed,
        stratify=dataset.task == "classification")
    scaler = None
    if config.standardize:
        scaler = rdata.Standardizer().fit(Xtr)
        Xtr, Xva, Xte = (scaler.transform(X) for X in (Xtr, Xva, Xte))
    if dataset.task == "regression":
        ytr, yva, yte = (y.astype(config.dtype) for y in (ytr, yva, yte))
    return Splits(dataset, (Xtr, ytr), (Xva, yva), (Xte, yte), scaler)


def build_model(config: TrainConfig, in_features: int, out_features: int) -> MLP:
    return MLP(in_features, config.hidden, out_features, activation=config.activation, init=config.init,
               seed=config.seed, dtype=config.dtype, batchnorm=config.batchnorm, dropout=config.dropout)


def build_optimizer(config: TrainConfig, model):
    """The optimizer; weight decay (if any) applies to weights only, never biases or BN's γ, β."""
    params = decay_groups(model, config.weight_decay) if config.weight_decay else model
    eps = {} if config.eps is None else {"eps": config.eps}
    kind = config.optimizer
    if kind == "sgd":
        return SGD(params, lr=config.lr, momentum=config.momentum, dampening=config.dampening,
                   nesterov=config.nesterov)
    if kind in ("adam", "adamw"):
        cls = Adam if kind == "adam" else AdamW
        extra = {} if config.weight_decay or kind == "adam" else {"weight_decay": 0.0}
        return cls(params, lr=config.lr, betas=(config.beta1, config.beta2), amsgrad=config.amsgrad,
                   **eps, **extra)
    if kind == "newton":
        return Newton(model, damping=config.damping, saddle_free=config.saddle_free)
    if kind == "adagrad":
        return AdaGrad(params, lr=config.lr, lr_decay=config.lr_decay,
                       initial_accumulator_value=config.initial_accumulator_value, **eps)
    return RMSProp(params, lr=config.lr, alpha=config.alpha, momentum=config.momentum,
                   centered=config.centered, **eps)


def build_trainer(config: TrainConfig, model, task: str, progress="auto") -> Trainer:
    penalties = [r for r in (L1(config.l1), L2(config.l2)) if r.strength > 0]
    callbacks = []
    if config.patience is not None:
        callbacks.append(EarlyStopping(monitor="val_loss", patience=config.patience, min_delta=config.min_delta))
    if config.monitor_curvature:
        callbacks.append(CurvatureMonitor(every=config.monitor_curvature))
    if config.monitor_layers:
        callbacks.append(LayerMonitor(every=config.monitor_layers))
    schedule = config.schedule_object() if config.schedule else None
    return Trainer(model, build_optimizer(config, model), loss=losses.for_task(task), regularizers=penalties,
                   batch_size=config.batch_size, seed=config.seed, callbacks=callbacks,
                   schedule=schedule, clip_norm=config.clip_norm, clip_value=config.clip_value,
                   progress=progress)


def build_run(config: TrainConfig, progress="auto"):
    """(splits, model, trainer) for a config."""
    splits = load_splits(config)
    model = build_model(config, splits.train[0].shape[1], splits.outputs)
    return splits, model, build_trainer(config, model, splits.task, progress=progress)
