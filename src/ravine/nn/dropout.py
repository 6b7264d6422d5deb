"""``Dropout``: inverted dropout, a regularizer that randomly silences units while training.

In training mode every entry of the input is kept with probability 1 − p and zeroed otherwise, and
the kept entries are scaled up so that the expected output equals the input:

    h ← h ⊙ m / (1 − p),    m_ij ~ Bernoulli(1 − p) independently,    E[h ⊙ m / (1 − p)] = h.

A unit cannot rely on any particular other unit being present, so units learn features useful on
their own (less co-adaptation); training with dropout trains an ensemble of exponentially many
thinned networks that share weights. Because the scaling happens at training time ("inverted"),
evaluation is the identity: the full network at test time approximates the ensemble's average.

The mask is a constant of the flow graph: the output is ``x * (m / (1 − p))`` with the scaled mask
as a constant array, so the gradient is ∂L/∂x = g ⊙ m / (1 − p) — the same mask, in first and in
second derivatives. Masks are drawn from the module's own ``numpy.random.Generator`` (never the
global random state), so the same seed gives the same masks, run after run (and in either dtype).

Example::

    drop = rv.nn.Dropout(0.5, seed=0)
    h = drop(h)        # training: about half the entries zeroed, the others doubled
    drop.eval()
    h = drop(h)        # evaluation: the identity
"""

from __future__ import annotations

from .._checks import check_number
from .._random import as_generator
from ..autodiff.tensor import Tensor, as_tensor, constant
from .module import Module


def check_dropout_rate(p, owner: str = "Dropout", name: str = "p") -> float:
    """``p`` as a float in [0, 1), or the family's ValueError/TypeError naming ``owner`` and ``name``
    (``ravine._checks.check_number``), with what p means, since 1 is a natural mistake."""
    return check_number(name, p, low=0.0, high=1.0, high_open=True, owner=owner,
                        hint="the probability of dropping a unit; 1 would drop every unit")


class Dropout(Module):
    """Inverted dropout: y = x ⊙ m / (1 − p) with m ~ Bernoulli(1 − p) in training mode; y = x in eval.

    ``p`` ∈ [0, 1) is the probability of dropping an entry (p = 0: the identity). ``seed`` is an int,
    a ``numpy.random.Generator`` (used as is: its stream continues) or None (fresh OS entropy).
    A new mask is drawn at every training-mode call; gradients pass through the same mask.

    Example::

        layer = rv.nn.Dropout(0.2, seed=0)
        y = layer(rv.Tensor(np.ones((4, 5)), requires_grad=True))   # entries 0 or 1.25
    """

    def __init__(self, p: float = 0.5, seed=None):
        super().__init__()
        self.p = check_dropout_rate(p)
        self.rng = as_generator(seed)

    def forward(self, x) -> Tensor:
        x = x if isinstance(x, Tensor) else as_tensor(x)
        if not self.training or self.p == 0.0:
            return x
        dtype = x.dtype
        # Keep with probability P(u ≥ p) = 1 − p for u uniform on [0, 1). Drawn in float64 whatever
        # the dtype (NumPy's float64 draws are the faster ones), so a seed gives the same masks in
        # float32 and float64.
        keep = self.rng.random(x.shape) >= self.p
        scaled_mask = keep.astype(dtype)
        scaled_mask *= dtype.type(1.0 / (1.0 - self.p))  # rounded once
        return x * constant(scaled_mask)

    def extra_repr(self) -> str:
        return f"p={self.p:g}"
