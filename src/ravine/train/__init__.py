"""Training: the ``Trainer`` loop, callbacks and ``History``."""

from .callbacks import Callback
from .history import History
from .trainer import Trainer

__all__ = ["Trainer", "Callback", "History"]
