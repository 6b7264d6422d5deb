"""Optimization: update rules as small composable transforms, the optimizers built from them, clipping.

Each optimizer is a chain of transforms (``transforms.py``) built from its hyperparameters, then
θ ← θ − α·u; state is keyed by parameter name. Constructors and hyperparameter names follow
``torch.optim``, and every optimizer matches it step for step.

Example::

    opt = rv.optim.Adam(model.named_parameters(), lr=1e-3)
    opt.zero_grad(); loss.backward()
    rv.optim.clip_grad_norm_(model, 1.0)
    opt.step()
"""

from . import schedules, transforms
from .adagrad import AdaGrad, Adagrad
from .adam import Adam, AdamW
from .clip import clip_grad_norm_, clip_grad_value_
from .groups import decay_groups
from .optimizer import Optimizer
from .rmsprop import RMSProp, RMSprop
from .newton import Newton
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Newton", "AdaGrad", "Adagrad", "RMSProp", "RMSprop", "Adam", "AdamW",
           "clip_grad_norm_", "clip_grad_value_", "decay_groups", "schedules", "transforms"]
