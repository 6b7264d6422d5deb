"""Training: the ``Trainer``, its step objects and sessions, callbacks, early stopping, ``History``."""

from .callbacks import Callback
from .early_stopping import EarlyStopping
from .history import History
from .progress import EpochLines, ProgressBar
from .session import TrainingSession
from .steps import ClosureStep, CompiledStep, GraphStep
from .trainer import Trainer

__all__ = ["Trainer", "TrainingSession", "GraphStep", "CompiledStep", "ClosureStep", "Callback",
           "EarlyStopping", "History", "EpochLines", "ProgressBar"]
