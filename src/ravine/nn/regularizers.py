"""Weight penalties Ω(θ), on connection weights only — never on biases (nor batch-norm's γ, β).

The training objective is empirical risk plus the penalty:  (1/T) Σ_t l(f(x⁽ᵗ⁾; θ), y⁽ᵗ⁾) + λ Ω(θ).
    L2:  Ω = Σ_k ‖W⁽ᵏ⁾‖²_F = Σ_k Σ_ij (W⁽ᵏ⁾_ij)²,   ∇_W Ω = 2W
    L1:  Ω = Σ_k Σ_ij |W⁽ᵏ⁾_ij|,                    ∇_W Ω = sign(W)
(Note the L2 gradient is 2λW: PyTorch's ``weight_decay=wd`` adds wd·W, so wd = 2λ.)

Example::

    loss = F.cross_entropy(model(x), y) + rv.nn.L2(1e-4)(model)
"""

from __future__ import annotations

import numpy as np

from .._checks import check_number
from ..autodiff.params import named_params
from ..autodiff.tensor import Tensor, constant
from .module import Parameter


def _weights(model_or_params, owner: str) -> list[Tensor]:
    """The penalized Tensors: a Parameter if it is marked ``regularize`` (weights, not biases),
    any other Tensor always; ``model_or_params`` is any form ``named_params`` reads."""
    pairs = named_params(model_or_params, owner=owner, what="model_or_params")
    return [p for _, p in pairs if not isinstance(p, Parameter) or p.regularize]


class _Penalty:
    name = "penalty"

    def __init__(self, strength: float):
        self.strength = check_number("strength", strength, low=0.0, owner=type(self).__name__)

    def omega(self, w: Tensor) -> Tensor:
        raise NotImplementedError

    def __call__(self, model_or_params) -> Tensor:
        """λ Ω over the weights of a Module (or of a list of parameters)."""
        weights = _weights(model_or_params, type(self).__name__)
        if not weights:
            return constant(np.zeros((), dtype=np.float32))
        if self.strength == 0.0:
            return constant(np.zeros((), dtype=weights[0].dtype))
        total = self.omega(weights[0])
        for w in weights[1:]:
            total = total + self.omega(w)
        return total * self.strength

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.strength:g})"


class L2(_Penalty):
    """λ Σ_k ‖W⁽ᵏ⁾‖²_F; its gradient is 2λW."""

    def omega(self, w: Tensor) -> Tensor:
        return (w * w).sum()


class L1(_Penalty):
    """λ Σ_k Σ_ij |W⁽ᵏ⁾_ij|; its gradient is λ sign(W) (0 at W = 0, as PyTorch's abs)."""

    def omega(self, w: Tensor) -> Tensor:
        return w.abs().sum()
