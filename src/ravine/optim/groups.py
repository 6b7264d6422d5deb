"""Parameter groups that keep weight decay off biases and batch-norm's scale and shift.

Example::

    opt = rv.optim.AdamW(rv.optim.decay_groups(model, weight_decay=0.05), lr=1e-3)
"""

from __future__ import annotations

from ..autodiff.params import named_params

__all__ = ["decay_groups"]


def decay_groups(model, weight_decay: float, **hyperparameters) -> list[dict]:
    """Two parameter groups: weights decayed by ``weight_decay``; the rest with weight decay 0.

    A parameter goes to the decayed group when its ``regularize`` flag is true (connection weights),
    to the other when false (biases, batch-norm γ and β), the same split as ``rv.nn.L2``. ``model``
    is a Module or any form of parameters ``named_params`` reads; names are kept,
    ``hyperparameters`` (``lr=...``) go into both groups, and an empty group is left out.

    Example::

        groups = decay_groups(model, 1e-4, lr=0.1)
        opt = rv.optim.SGD(groups, momentum=0.9)
    """
    decayed, kept = [], []
    for name, p in named_params(model, owner="decay_groups", what="model"):
        (decayed if getattr(p, "regularize", True) else kept).append((name, p))
    groups = []
    if decayed:
        groups.append({"params": decayed, **hyperparameters, "weight_decay": weight_decay})
    if kept:
        groups.append({"params": kept, **hyperparameters, "weight_decay": 0.0})
    return groups
