"""A race: 2–4 optimizers trained side by side from the same initial weights on the same data.

Each lane is its own copy of the network (loaded with the lab's initial weights), its own optimizer
and its own ``Trainer``/``TrainingSession`` with the same shuffling seed, so the lanes see the same
mini-batches in the same order and differ only by their optimizer. ``run(k)`` steps every lane k
times; ``frame()`` gives each lane's step, losses and regions.
"""

from __future__ import annotations

import copy

from ..nn import MLP
from .protocol import ProtocolError
from . import views


class Lane:
    def __init__(self, lab, settings: dict):
        from .lab import make_trainer

        net = lab.config["network"]
        self.training = {**lab.config["training"], **settings}
        self.model = MLP(len(lab.config["features"]), net["hidden"], lab.outputs, activation=net["activation"],
                         init=net["init"], seed=lab.config["training"]["seed"], batchnorm=net["batchnorm"],
                         dropout=net["dropout"])
        self.model.load_state_dict(copy.deepcopy(lab.initial_state))
        try:
            self.trainer = make_trainer(self.model, self.training, lab.regression)
        except ProtocolError as error:
            raise ProtocolError(error.message, "optimizers") from None
        self.session = self.trainer.start(*lab.train_data)
        self.name = self.training["optimizer"]

    def run(self, steps: int) -> int:
        if self.session.stopped:
            return 0
        before = self.trainer.step
        self.session.run(steps=steps)
        if len(self.trainer.history.epochs) > 200:
            del self.trainer.history.epochs[:-100]
        return self.trainer.step - before


class Race:
    def __init__(self, lab, lanes: list[dict]):
        self.lab = lab
        self.lanes = [Lane(lab, settings) for settings in lanes]

    def run(self, steps: int) -> int:
        return max(lane.run(steps) for lane in self.lanes)

    def set_data(self, train, valid) -> None:
        for lane in self.lanes:
            lane.session.set_data(*train)

    def frame(self) -> list:
        lab = self.lab
        out = []
        for lane in self.lanes:
            figs = views.figures(lab, lane.model)
            out.append({"optimizer": lane.name, "lr": lane.training["lr"], "step": lane.trainer.step,
                        "epoch": lane.trainer.epoch, "train_loss": figs["train_loss"],
                        "valid_loss": figs["valid_loss"], "train_error": figs["train_error"],
                        "valid_error": figs["valid_error"], "stopped": lane.session.stopped,
                        "regions": views.regions(lane.model, lab.config["features"], lab.classes, lab.regression)})
        return out


__all__ = ["Race", "Lane"]
