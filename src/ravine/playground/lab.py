"""One tab's session of the playground: data, network, optimizer, Trainer and ``TrainingSession``.

The lab holds the truth the page draws: ``configure`` builds everything from a configuration;
``run(steps)`` trains through ``TrainingSession.run``; ``set`` changes hyperparameters in flight
(the next step uses them, nothing is reset); ``reset`` goes back to the same initial weights (or a
new draw); the point editing calls replace the session's training data with ``set_data``.

Example::

    lab = Lab()
    lab.configure({"data": {"dataset": "spirals", "classes": 3}})
    lab.run(200); lab.set({"lr": 0.05}); lab.run(200)
    frame = lab.frame()
"""

from __future__ import annotations

import math

import numpy as np

from ..nn import L1, L2, MLP, losses
from ..optim import SGD, AdaGrad, Adam, AdamW, Newton, RMSProp, decay_groups, schedules
from ..train import Trainer
from ..train.steps import objective as training_objective
from . import views
from .data2d import Points, feature_matrix, generate, parse_csv, split_mask
from .protocol import NEWTON_PARAMETERS, ProtocolError, validate_config

TRAJECTORY = 300  # weight snapshots kept (one per frame) for the trajectory plane and the path


def build_optimizer(training: dict, model):
    """The optimizer named by ``training`` over ``model``; weight decay on weights only (group 0)."""
    kind, lr, wd = training["optimizer"], training["lr"], training["weight_decay"]
    groups = decay_groups(model, wd)
    if kind == "sgd":
        return SGD(groups, lr=lr)
    if kind == "momentum":
        return SGD(groups, lr=lr, momentum=training["momentum"])
    if kind == "nesterov":
        if training["momentum"] <= 0:
            raise ProtocolError("nesterov needs momentum > 0", "config.training.momentum")
        return SGD(groups, lr=lr, momentum=training["momentum"], nesterov=True)
    if kind == "adagrad":
        return AdaGrad(groups, lr=lr)
    if kind == "rmsprop":
        return RMSProp(groups, lr=lr, alpha=training["beta2"] if training["beta2"] < 0.999 else 0.99)
    if kind == "adam":
        return Adam(groups, lr=lr, betas=(training["beta1"], training["beta2"]))
    if kind == "adamw":
        return AdamW(groups, lr=lr, betas=(training["beta1"], training["beta2"]))
    n = model.num_parameters()
    if n > NEWTON_PARAMETERS:
        raise ProtocolError(f"newton needs a network of at most {NEWTON_PARAMETERS} parameters; this one has "
                            f"{n}", "config.training.optimizer")
    return Newton(model, damping=training["damping"])


def penalties(training: dict) -> list:
    return [r for r in (L1(training["l1"]), L2(training["l2"])) if r.strength > 0]


def make_trainer(model, training: dict, regression: bool) -> Trainer:
    schedule = schedules.get(training["schedule"], lr=training["lr"])
    clip = None if training["optimizer"] == "newton" else training["clip_norm"]
    return Trainer(model, build_optimizer(training, model), loss="mse" if regression else "cross_entropy",
                   regularizers=penalties(training), batch_size=training["batch_size"], seed=training["seed"],
                   schedule=schedule, clip_norm=clip, progress=False)


def set_hyperparameters(session, training: dict, values: dict) -> None:
    """Apply ``values`` (validated ``set`` values) to a running ``TrainingSession`` without a reset."""
    trainer = session.trainer
    optimizer = trainer.optimizer
    known = optimizer.defaults
    hyper = {}
    if "lr" in values and "lr" in known and training["optimizer"] != "newton":
        hyper["lr"] = values["lr"]
    if "momentum" in values and "momentum" in known and training["optimizer"] in ("momentum", "nesterov"):
        hyper["momentum"] = values["momentum"]
    if ("beta1" in values or "beta2" in values) and "betas" in known:
        hyper["betas"] = (training["beta1"], training["beta2"])
    if "damping" in values and "damping" in known:
        hyper["damping"] = values["damping"]
    if hyper:
        session.set_hyperparameters(**hyper)
    if "weight_decay" in values:  # only the weights' group decays
        group = optimizer.param_groups[0]
        checked = optimizer.check({**{k: group[k] for k in known}, "weight_decay": values["weight_decay"]})
        group["weight_decay"] = checked["weight_decay"]
    if "l1" in values or "l2" in values:
        session.set_regularizers(penalties(training))
    if "clip_norm" in values:
        if training["optimizer"] == "newton" and values["clip_norm"] is not None:
            raise ProtocolError("clip_norm cannot apply to newton (its step is solved from the Hessian)",
                                "values.clip_norm")
        session.set_clipping(clip_norm=values["clip_norm"])
    if "schedule" in values:
        session.set_schedule(schedules.get(values["schedule"], lr=training["lr"]))
    if "batch_size" in values and values["batch_size"] != trainer.batch_size:
        trainer.batch_size = values["batch_size"]
        session.set_data(session.X, session.y)  # ends the epoch in progress: the next uses the new size


class Lab:
    """One browser tab's playground state (see the module docstring)."""

    def __init__(self, config=None):
        self.race = None
        self.landscape = None     # {"kind", "center", "directions" (flat δ, η)} once asked
        self.warp = None          # {"layer", "units"} while shown
        self.configure(config or {})

    # --- building -------------------------------------------------------------------------------
    def configure(self, config) -> None:
        config = validate_config(config)
        previous = getattr(self, "points", None)
        self.config = config
        self.regression = config["data"]["dataset"] == "regression"
        if config["data"]["dataset"] == "custom":
            keep = previous is not None and not previous.regression and len(previous) and \
                int(previous.y.max()) < config["data"]["classes"]
            self.points = previous if keep else Points.empty()
        else:
            self.points = generate(config["data"])
        self.classes = 0 if self.regression else config["data"]["classes"]
        self._build_model(config["training"]["seed"])
        self.race = None
        self.landscape = None
        self.warp = None
        self.running = False

    @property
    def outputs(self) -> int:
        return 1 if self.regression else self.classes

    def _build_model(self, seed: int) -> None:
        net = self.config["network"]
        self.model = MLP(len(self.config["features"]), net["hidden"], self.outputs, activation=net["activation"],
                         init=net["init"], seed=seed, batchnorm=net["batchnorm"], dropout=net["dropout"])
        self.initial_state = {k: v.copy() for k, v in self.model.state_dict().items()}
        self._restart()

    def _restart(self) -> None:
        """A fresh Trainer and session from the model's current weights: step 0, history cleared."""
        self.model.load_state_dict(self.initial_state)
        self.trainer = make_trainer(self.model, self.config["training"], self.regression)
        self.session = None
        self.trajectory: list[np.ndarray] = []
        self.rows: list[dict] = []
        self.stop_reason = None
        self._refresh_data()

    def _refresh_data(self) -> None:
        features = self.config["features"]
        Xtr, ytr = self.points.part(True)
        Xva, yva = self.points.part(False)
        self.train_data = (feature_matrix(Xtr, features), self._targets(ytr))
        self.valid_data = (feature_matrix(Xva, features), self._targets(yva))
        rng = np.random.default_rng(0)
        n = len(ytr)
        pick = np.sort(rng.choice(n, size=min(n, 128), replace=False)) if n else np.zeros(0, dtype=int)
        self.curvature_batch = (self.train_data[0][pick], self.train_data[1][pick])
        usable = len(ytr) >= (2 if self.config["network"]["batchnorm"] else 1)
        if not usable:
            self.session = None
        elif self.session is None:
            self.session = self.trainer.start(*self.train_data)
        else:
            self.session.set_data(*self.train_data)
        if self.race is not None:
            self.race.set_data(self.train_data, self.valid_data)

    def _targets(self, y):
        return y.astype(np.float32).reshape(-1, 1) if self.regression else y.astype(np.int64)

    # --- training -------------------------------------------------------------------------------
    @property
    def step(self) -> int:
        return self.trainer.step

    @property
    def epoch(self) -> int:
        return self.trainer.epoch

    @property
    def can_train(self) -> bool:
        return self.session is not None and not self.session.stopped

    def run(self, steps: int) -> int:
        """Make up to ``steps`` updates (of the race's lanes while a race is on); returns how many."""
        if self.race is not None:
            return self.race.run(steps)
        if not self.can_train:
            return 0
        before = self.trainer.step
        self.session.run(steps=steps)
        if self.session.stopped:
            self.running = False
            self.stop_reason = self.session.stop_reason
        if len(self.trainer.history.epochs) > 200:  # bounded memory: the page keeps the curves
            del self.trainer.history.epochs[:-100]
        return self.trainer.step - before

    def set(self, values: dict) -> None:
        training = {**self.config["training"], **values}
        if "optimizer" in values and values["optimizer"] != self.config["training"]["optimizer"]:
            optimizer = build_optimizer(training, self.model)  # from the current weights
            self.config["training"] = training
            if self.session is not None:
                self.session.set_optimizer(optimizer)
                set_hyperparameters(self.session, training, {k: v for k, v in values.items()
                                                             if k in ("l1", "l2", "schedule", "batch_size")})
            else:
                self.trainer.optimizer = optimizer
            return
        if self.session is not None:
            set_hyperparameters(self.session, training, values)
        else:  # no data yet: the next session starts from a trainer built with these values
            self.trainer = make_trainer(self.model, training, self.regression)
        self.config["training"] = training

    def reset(self, new_seed: bool = False) -> None:
        self.running = False
        if new_seed:
            self.config["training"]["seed"] = (self.config["training"]["seed"] + 1) % (2**31 - 1)
            self._build_model(self.config["training"]["seed"])
        else:
            self._restart()
        if self.race is not None:
            self.race = None

    @property
    def newton_allowed(self) -> bool:
        return self.model.num_parameters() <= NEWTON_PARAMETERS

    def state(self) -> dict:
        return {"type": "state", "config": self.config, "running": self.running, "step": self.step,
                "epoch": self.epoch, "step_kind": self.trainer.step_kind, "newton_allowed": self.newton_allowed,
                "parameters": self.model.num_parameters(), "stop_reason": self.stop_reason,
                "racing": self.race is not None}

    # --- points ---------------------------------------------------------------------------------
    def add_point(self, x, label, split: str = "train") -> None:
        if self.regression:
            target = float(label)
        else:
            if label != int(label) or not 0 <= label < self.classes:
                raise ProtocolError(f"label must be an integer class in [0, {self.classes}); got {label:g}", "label")
            target = int(label)
        self.points.add(x, target, split == "train")
        self._refresh_data()

    def remove_point(self, x) -> None:
        self.points.remove_nearest(x)
        self._refresh_data()

    def clear(self) -> None:
        self.points = Points.empty(self.regression)
        self._refresh_data()

    def regenerate(self, seed: int | None = None) -> None:
        data = self.config["data"]
        data["seed"] = (data["seed"] + 1) % (2**31 - 1) if seed is None else seed
        if data["dataset"] != "custom":
            self.points = generate(data)
        else:  # custom points: draw the split again
            self.points.train = split_mask(self.points.y, data["train_share"], data["seed"], not self.regression)
        self._refresh_data()

    def load_csv(self, text: str) -> None:
        data = self.config["data"]
        self.points = parse_csv(text, self.classes if not self.regression else 0, self.regression,
                                data["train_share"], data["seed"])
        if not self.regression:
            data["dataset"] = "custom"
        self._refresh_data()

    def points_message(self) -> dict:
        return self.points.to_message(self.classes)

    # --- views ------------------------------------------------------------------------------------
    def lr(self) -> float:
        return float(self.trainer.optimizer.param_groups[0]["lr"])

    def frame(self, curvature: bool = True) -> dict:
        return views.frame(self, curvature_on=curvature)

    def eigen(self) -> dict:
        return views.eigen(self)

    def landscape_view(self, kind: str, steps: int, span: float) -> dict:
        return views.landscape(self, kind, steps, span)

    def warp_view(self, layer: int, units) -> dict:
        out = views.warp(self, layer, units)
        self.warp = {"layer": layer, "units": list(units)}
        return out

    def start_race(self, lanes: list[dict]) -> None:
        from .race import Race

        if not lanes:
            self.race = None
            return
        if self.session is None:
            raise ProtocolError("a race needs training points", "optimizers")
        self.race = Race(self, lanes)

    def objective_fn(self, X, y, penalized: bool = True):
        """A loss_fn: the training objective (data loss + penalties) of the model on (X, y)."""
        model, loss = self.model, losses.for_task("regression" if self.regression else "classification")
        regs = self.trainer.regularizers if penalized else []

        return lambda: training_objective(model, loss, regs, model(X), y)[1]

    def snapshot(self) -> None:
        """Keep the current weights for the trajectory (called once per frame)."""
        theta = np.concatenate([p.data.ravel() for p in self.model.parameters()]).astype(np.float64)
        if not self.trajectory or not np.array_equal(theta, self.trajectory[-1]):
            self.trajectory.append(theta)
            if len(self.trajectory) > TRAJECTORY:
                del self.trajectory[0]


def finite_or_none(value):
    return None if value is None or not math.isfinite(value) else float(value)


__all__ = ["Lab", "build_optimizer", "make_trainer", "set_hyperparameters"]
