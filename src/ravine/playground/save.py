"""Save a playground session as a run folder that ``ravine evaluate`` and ``ravine predict`` accept.

The folder holds ``data.csv`` — every point as the network's input features (the columns named by
the features, computed as ``data2d`` says) and its label — and ``points.csv`` (the raw plane
coordinates), a ``config.toml`` whose ``data`` is that CSV with ``valid = 1 − train_share``,
``test = 0``, no standardization and ``seed`` = the data seed (the CLI rebuilds the same seeded
split), the model (model.npz + model.json), metrics.csv and summary.json.
``ravine predict RUN new.csv`` reads a CSV with the same feature columns.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
from pathlib import Path

import numpy as np

from .._atomic import atomic_write_text
from ..cli.config import TrainConfig
from ..runs import RunFolder, build_summary
from .data2d import feature_matrix
from .protocol import ProtocolError
from .views import figures

_OPTIMIZER = {"sgd": ("sgd", 0.0, False), "momentum": ("sgd", None, False), "nesterov": ("sgd", None, True)}


def _csv(header, rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def save_run(lab, runs_dir, name: str | None = None) -> Path:
    """Write ``lab``'s model and data as a run folder under ``runs_dir``; returns its path."""
    points = lab.points
    if not len(points) or not points.train.any():
        raise ProtocolError("nothing to save: there are no training points", None)
    if not lab.regression:
        missing = sorted(set(range(lab.classes)) - set(points.y.tolist()))
        if missing:
            raise ProtocolError(f"every class needs a point before saving (none of class {missing[0]})", None)
    runs_dir = Path(runs_dir)
    runs_dir.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    if name is not None:
        if (runs_dir / name).exists():
            raise ProtocolError(f"a run named {name!r} exists already in {runs_dir}", "name")
        folder = RunFolder.create(out=runs_dir / name)
    else:
        folder = RunFolder.create(data_name=f"playground-{lab.config['data']['dataset']}", root=runs_dir,
                                  now=None)
    path = folder.path.resolve()
    features = lab.config["features"]
    X = feature_matrix(points.X, features, dtype=np.float64)
    labels = points.y.astype(np.float64) if lab.regression else points.y.astype(np.int64)
    rows = [[f"{v:.9g}" for v in row] + [f"{t:.9g}" if lab.regression else int(t)] for row, t in zip(X, labels)]
    atomic_write_text(path / "data.csv", _csv([*features, "label"], rows))
    raw = [[f"{a:.9g}", f"{b:.9g}", f"{t:.9g}" if lab.regression else int(t)]
           for (a, b), t in zip(points.X, labels)]
    atomic_write_text(path / "points.csv", _csv(["x1", "x2", "label"], raw))

    training, network = lab.config["training"], lab.config["network"]
    kind = training["optimizer"]
    optimizer, momentum, nesterov = _OPTIMIZER.get(kind, (kind, None, False))
    config = TrainConfig(
        data=str(path / "data.csv"), task="regression" if lab.regression else "classification",
        valid=round(1.0 - lab.config["data"]["train_share"], 6), test=0.0, standardize=False,
        hidden=list(network["hidden"]), activation=network["activation"], init=network["init"],
        batchnorm=network["batchnorm"], dropout=network["dropout"], optimizer=optimizer, lr=training["lr"],
        momentum=training["momentum"] if momentum is None else momentum, nesterov=nesterov,
        weight_decay=training["weight_decay"], beta1=training["beta1"], beta2=training["beta2"],
        damping=training["damping"], schedule=None if training["schedule"] == "constant" else training["schedule"],
        batch_size=training["batch_size"], epochs=max(1, lab.epoch), l1=training["l1"], l2=training["l2"],
        clip_norm=training["clip_norm"], seed=lab.config["data"]["seed"])
    if config.activation == "identity":
        raise ProtocolError("a network with the identity activation cannot be saved as a run "
                            "(ravine train has no such activation)", None)
    config.validate("playground")
    folder.write_config(config.to_dict())
    classes = None if lab.regression else list(range(lab.classes))
    folder.save_model(lab.model, preprocessing=None, classes=classes,
                      task="regression" if lab.regression else "classification",
                      extra={"source": "ravine playground", "features": features, "step": lab.step,
                             "saved": stamp})
    history = lab.trainer.history
    folder.write_metrics(history)
    figs = figures(lab)
    results = {"train": {"loss": figs["train_loss"]}}
    if figs["train_error"] is not None:
        results["train"]["error"] = figs["train_error"]
    if figs["valid_loss"] is not None:
        results["valid"] = {"loss": figs["valid_loss"]}
        if figs["valid_error"] is not None:
            results["valid"]["error"] = figs["valid_error"]
    folder.write_summary(build_summary(history, data=str(path / "data.csv"), results=results,
                                       extra={"source": "ravine playground", "steps": lab.step,
                                              "features": features}))
    return path


__all__ = ["save_run"]
