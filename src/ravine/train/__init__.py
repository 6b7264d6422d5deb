"""Training: the ``Trainer`` loop, callbacks, early stopping, progress and ``History``."""

from .callbacks import Callback
from .early_stopping import EarlyStopping
from .history import History
from .progress import EpochLines, ProgressBar
from .trainer import Trainer

__all__ = ["Trainer", "Callback", "EarlyStopping", "History", "EpochLines", "ProgressBar"]
