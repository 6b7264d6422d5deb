"""Callbacks: code that runs at fixed points of training, as in Keras.

Hooks: ``on_train_begin(logs)``, ``on_epoch_begin(epoch, logs)``, ``on_batch_begin(step, logs)``
(before the forward pass of update ``step``; ``logs`` holds the mini-batch as ``inputs`` and
``targets``), ``on_batch_end(step, logs)`` (after the update; ``loss`` and ``size``),
``on_epoch_end(epoch, logs)``, ``on_train_end(logs)``. ``logs`` is a dict: a callback may read it
and add keys to it (an epoch's logs become that epoch's row of ``History``). A callback stops
training by setting ``trainer.stop_training = True`` (and, if it likes, ``trainer.stop_reason``).

Example::

    class PrintLR(rv.train.Callback):
        def on_epoch_end(self, epoch, logs):
            print(epoch, logs["lr"])
"""

from __future__ import annotations


class Callback:
    """Base class: every hook does nothing. ``self.trainer`` is set before training begins."""

    trainer = None

    def set_trainer(self, trainer) -> None:
        self.trainer = trainer

    def on_train_begin(self, logs: dict) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: dict) -> None:
        pass

    def on_batch_begin(self, step: int, logs: dict) -> None:
        pass

    def on_batch_end(self, step: int, logs: dict) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        pass

    def on_train_end(self, logs: dict) -> None:
        pass


class CallbackList:
    """Calls each hook on every callback, in order."""

    def __init__(self, callbacks, trainer):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be rv.train.Callback instances; got {type(cb).__name__}")
            cb.set_trainer(trainer)
        # Only callbacks that override a per-step hook are called per step (the hot path).
        self.per_batch_begin = [cb for cb in self.callbacks
                                if type(cb).on_batch_begin is not Callback.on_batch_begin]
        self.per_batch = [cb for cb in self.callbacks
                          if type(cb).on_batch_end is not Callback.on_batch_end]

    def on_train_begin(self, logs):
        for cb in self.callbacks:
            cb.on_train_begin(logs)

    def on_epoch_begin(self, epoch, logs):
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, logs)

    def on_batch_begin(self, step, logs):
        for cb in self.per_batch_begin:
            cb.on_batch_begin(step, logs)

    def on_batch_end(self, step, logs):
        for cb in self.per_batch:
            cb.on_batch_end(step, logs)

    def on_epoch_end(self, epoch, logs):
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def on_train_end(self, logs):
        for cb in self.callbacks:
            cb.on_train_end(logs)
