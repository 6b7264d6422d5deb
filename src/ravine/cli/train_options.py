"""The options of ``ravine train``: one flag per ``TrainConfig`` key, each documented with its default.

Flags default to None, meaning "not given", so that a ``--config`` file's values hold unless a flag
overrides them.
"""

from __future__ import annotations

import argparse

from ..data import DATASETS
from ..nn.init import INITIALIZERS
from .config import ACTIVATIONS, DTYPES, OPTIMIZERS, TASKS, TrainConfig
from .options import below_one, hidden_sizes, non_negative_float, non_negative_int, positive_float, positive_int

_DEFAULTS = TrainConfig()


# key: (type or "flag", choices, help)
OPTIONS = {
    "data": (str, None, f"a data set ({', '.join(DATASETS)}) or a .csv/.npy/.npz file"),
    "label_column": (str, None, "the label column of a CSV (a name, or a 0-based index); default: the last"),
    "task": (str, TASKS, "classification (cross-entropy, integer or named labels) or regression (squared "
                         "error, real-valued targets)"),
    "valid": (below_one, None, "fraction of the data held out for validation (stratified)"),
    "test": (below_one, None, "fraction of the data held out for the final test (stratified)"),
    "standardize": ("flag", None, "standardize features with the training split's mean and std"),
    "hidden": (hidden_sizes, None, "hidden layer sizes, e.g. 100,100 ('' for a linear model)"),
    "activation": (str, ACTIVATIONS, "hidden units' activation"),
    "init": (str, None, f"weight initialization: {', '.join(INITIALIZERS)} or constant:<value>"),
    "batchnorm": ("flag", None, "batch normalization before each hidden activation"),
    "dropout": (below_one, None, "dropout rate after each hidden activation (0: none)"),
    "optimizer": (str, OPTIMIZERS, "the update rule"),
    "lr": (positive_float, None, "learning rate α (the schedule's start when --schedule is given; newton "
                                 "takes the full step and ignores it)"),
    "momentum": (below_one, None, "momentum μ (sgd, rmsprop)"),
    "dampening": (below_one, None, "SGD dampening τ: b ← μb + (1 − τ)g"),
    "nesterov": ("flag", None, "Nesterov momentum (sgd)"),
    "weight_decay": (non_negative_float, None, "decay added to the gradient of weights (adamw: decoupled)"),
    "beta1": (below_one, None, "Adam's β₁ (first moment)"),
    "beta2": (below_one, None, "Adam's β₂ (second moment)"),
    "eps": (non_negative_float, None, "ε of adam/adamw/adagrad/rmsprop (default: the optimizer's own)"),
    "alpha": (below_one, None, "RMSProp's smoothing constant"),
    "centered": ("flag", None, "centered RMSProp (divide by the variance estimate)"),
    "amsgrad": ("flag", None, "AMSGrad variant of Adam"),
    "lr_decay": (non_negative_float, None, "AdaGrad's learning-rate decay"),
    "initial_accumulator_value": (non_negative_float, None, "AdaGrad's initial accumulator"),
    "damping": (positive_float, None, "newton: initial Levenberg–Marquardt damping λ in (H + λI)⁻¹g"),
    "saddle_free": ("flag", None, "newton: use |H| (saddle-free Newton), which descends negative curvature"),
    "schedule": (str, None, "learning-rate schedule, e.g. inverse_time:decay=1e-3, cosine:steps=5000, "
                            "linear_decay:steps=1000, hold:k=100,then=step_decay:step_size=300 (lr= defaults to --lr)"),
    "batch_size": (positive_int, None, "examples per mini-batch (1: per-example SGD)"),
    "epochs": (positive_int, None, "passes over the training data"),
    "patience": (non_negative_int, None, "early stopping: epochs without improvement of val_loss (default: off)"),
    "min_delta": (non_negative_float, None, "early stopping: the least decrease that counts as improvement"),
    "l1": (non_negative_float, None, "λ of the L1 penalty λΣ|W| on weights"),
    "l2": (non_negative_float, None, "λ of the L2 penalty λΣ‖W‖² on weights"),
    "clip_norm": (positive_float, None, "clip the gradients' global norm to this (default: off)"),
    "clip_value": (positive_float, None, "clip each gradient entry to [−v, v] (default: off)"),
    "monitor_curvature": (positive_int, None, "every N updates record gᵀg, gᵀHg and the stable rate (default: off)"),
    "monitor_layers": (positive_int, None, "every N updates record per-layer gradient norms and saturation "
                                           "(default: off)"),
    "seed": (non_negative_int, None, "seed of the split, the weights, dropout and the shuffling"),
    "dtype": (str, DTYPES, "floating-point precision"),
}


def _show(value) -> str:
    if value is None:
        return "off"
    if isinstance(value, list):
        return ",".join(map(str, value)) or "''"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def add_train_options(parser: argparse.ArgumentParser) -> None:
    """One flag per config key (default None = not given), help showing the real default."""
    missing = set(TrainConfig.keys()) - set(OPTIONS)
    if missing:  # every option of the config must be reachable from the command line
        raise AssertionError(f"train options lack {sorted(missing)}")
    group = parser.add_argument_group("training options (also valid as keys of a --config file)")
    for key, (kind, choices, text) in OPTIONS.items():
        flag = "--" + key.replace("_", "-")
        help_text = f"{text} (default: {_show(getattr(_DEFAULTS, key))})"
        if kind == "flag":
            group.add_argument(flag, dest=key, action=argparse.BooleanOptionalAction, default=None,
                               help=help_text)
        else:
            group.add_argument(flag, dest=key, type=kind, choices=choices, default=None, help=help_text,
                               metavar=None if choices else key.upper())


def given_options(args) -> dict:
    """The training options given on the command line (those that are not None)."""
    return {key: getattr(args, key) for key in OPTIONS if getattr(args, key, None) is not None}
