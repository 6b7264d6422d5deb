"""``BatchNorm1d``: normalize each unit's pre-activation over the mini-batch, then scale and shift.

Why it helps (the lectures): as the weights of the lower layers move, the distribution of every
unit's input moves with them, so each layer chases a moving target, and saturating units (sigmoid,
tanh) drift into their flat regions where gradients vanish. Batch normalization standardizes each
unit's pre-activation a_j over the mini-batch B of m examples,

    μ_j = (1/m) Σ_t a_j⁽ᵗ⁾,    σ²_j = (1/m) Σ_t (a_j⁽ᵗ⁾ − μ_j)²           (biased batch variance)
    â_j⁽ᵗ⁾ = (a_j⁽ᵗ⁾ − μ_j) / √(σ²_j + ε)
    y_j⁽ᵗ⁾ = γ_j â_j⁽ᵗ⁾ + β_j

so every unit sees inputs of mean 0 and variance 1 whatever the layers below did, which keeps units
out of saturation and lets larger learning rates be used. Normalizing alone would restrict what a
layer can represent (a sigmoid would only see its near-linear middle); the learned scale γ and shift
β restore that expressiveness: γ = √(σ² + ε), β = μ gives back the un-normalized unit. μ and σ² are
functions of the whole mini-batch, so gradients flow through them too (each example's output depends
on every other example of the batch); with g = ∂L/∂y and ĝ = γ g,

    ∂L/∂β = Σ_t g⁽ᵗ⁾,   ∂L/∂γ = Σ_t g⁽ᵗ⁾ â⁽ᵗ⁾,
    ∂L/∂a⁽ᵗ⁾ = (ĝ⁽ᵗ⁾ − mean_t ĝ − â⁽ᵗ⁾ · mean_t(ĝ â)) / √(σ² + ε).

At test time there is no mini-batch to average over (and a prediction must not depend on the other
examples), so evaluation uses running averages kept during training, as PyTorch does:

    running_mean ← (1 − m) running_mean + m μ,     running_var ← (1 − m) running_var + m σ² · n/(n − 1)

(m the momentum, n the batch size: the running variance is the unbiased estimate). With
``momentum=None`` the running statistics are the plain cumulative averages over the batches seen
(m = 1/k at the k-th batch). The running statistics are buffers: saved and loaded with the model,
never trained, never decayed; γ and β are parameters excluded from L1/L2 penalties.

Example::

    bn = rv.nn.BatchNorm1d(100)
    h = bn(a)               # training mode: batch statistics, running statistics updated
    bn.eval(); h = bn(a)    # evaluation: running statistics, one example at a time is fine
"""

from __future__ import annotations

import numpy as np

from .._checks import check_flag, check_int, check_number, check_optional, check_positive
from ..autodiff.elementwise import sqrt
from ..autodiff.tensor import Op, Tensor, apply, constant, resolve_dtype
from .module import Module, Parameter, as_input


def _moments(x, eps):
    """(x − μ, μ, σ², 1/√(σ² + ε)) over the batch (axis 0), for an array or a Tensor.

    Written with operators only, so the same arithmetic gives the forward pass on arrays and, on a
    Tensor, a recorded (differentiable) function of x, used when the gradient is differentiated.
    """
    inv_n = 1.0 / x.shape[0]
    mean = x.sum(axis=0) * inv_n
    centered = x - mean
    var = (centered * centered).sum(axis=0) * inv_n
    return centered, mean, var, 1.0 / sqrt(var + eps)


class BatchNormTrain(Op):
    """y = γ â + β with â = (x − μ_B)/√(σ²_B + ε) over the batch (axis 0); inputs (x[, γ, β]).

    One box instead of nine (mean, subtract, square, mean, add, sqrt, divide, scale, shift) keeps
    first-order training cheap. With s = 1/√(σ² + ε), x̄ = x − μ and sums over the batch,

        ∂L/∂β = Σ g,   ∂L/∂γ = s Σ g x̄ = Σ g â,
        ∂L/∂x = γ s (g − (1/n) Σ g − x̄ s² (1/n) Σ g x̄)     (= γ s (g − mean g − â mean(g â)))

    written with operators only. When the backward pass is recorded, x̄ and s are recomputed from
    the input Tensor x with recorded ops, so the returned gradients are exact, differentiable
    functions of (g, x, γ): second derivatives (Hessian-vector products) are exact. When nothing
    records, the forward pass's arrays are reused.
    """

    __slots__ = ("eps", "centered", "mean", "var", "inv_std")

    def __init__(self, eps):
        self.eps = eps

    def fprop(self, x, weight=None, bias=None):
        centered, mean, var, inv_std = _moments(x, self.eps)
        self.centered, self.mean, self.var, self.inv_std = centered, mean, var, inv_std
        if weight is None:
            return centered * inv_std
        out = centered * (inv_std * weight)
        out += bias
        return out

    def bprop(self, g, x, *rest):
        if isinstance(x, Tensor):
            centered, _, _, inv_std = _moments(x, self.eps)
        else:
            centered, inv_std = self.centered, self.inv_std
        needs = self.needs
        affine = len(rest) == 3  # (γ, β, output) or (output,)
        sum_g = g.sum(axis=0)
        sum_g_xhat = (g * centered).sum(axis=0) * inv_std
        grad_x = None
        if needs[0]:
            inv_n = 1.0 / g.shape[0]
            # On arrays the updates below run in place on a fresh array; a Tensor has no in-place
            # operators, so there each one is a new recorded node.
            grad_x = centered * (sum_g_xhat * (inv_std * -inv_n))
            grad_x += g
            grad_x -= sum_g * inv_n
            grad_x *= inv_std * rest[0] if affine else inv_std
        if not affine:
            return (grad_x,)
        return (grad_x, sum_g_xhat if needs[1] else None, sum_g if needs[2] else None)


class BatchNorm1d(Module):
    """Batch normalization of a (batch, num_features) input, with PyTorch's semantics and defaults.

    Training mode:  y = γ (x − μ_B)/√(σ²_B + ε) + β with the batch mean μ_B and the biased batch
    variance σ²_B of each feature; the running statistics are updated (outside the graph):
    running_mean ← (1 − m)·running_mean + m·μ_B, running_var ← (1 − m)·running_var + m·σ²_B·n/(n − 1).
    Evaluation mode:  y = γ (x − running_mean)/√(running_var + ε) + β.

    ``eps`` (> 0) is added to the variance; ``momentum`` ∈ [0, 1] weights the newest batch in the
    running averages, or ``None`` for the cumulative average (m = 1/k at the k-th batch);
    ``affine=False`` drops γ and β; ``track_running_stats=False`` keeps no running statistics and
    uses batch statistics in evaluation mode too. γ (``weight``, starts at 1) and β (``bias``,
    starts at 0) are Parameters with ``regularize=False``. ``running_mean``, ``running_var`` and
    ``num_batches_tracked`` are buffers: in ``state_dict()``, not in ``parameters()``.

    The gradient and its derivative are exact (``BatchNormTrain``), so Hessian-vector products
    through a network in training mode equal PyTorch's. Batch statistics need at least two
    examples: a batch of one in training mode is a ValueError (its variance is zero).

    Example::

        bn = rv.nn.BatchNorm1d(3, dtype="float64")
        y = bn(np.random.default_rng(0).standard_normal((8, 3)))   # each column: mean 0, var ≈ 1
        bn.state_dict().keys()    # weight, bias, running_mean, running_var, num_batches_tracked
    """

    min_batch_examples = 2  # the variance of one example is 0: nothing to normalize by

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, dtype="float32"):
        super().__init__()
        owner = "BatchNorm1d"
        self.num_features = check_int("num_features", num_features, minimum=1, owner=owner)
        self.eps = check_positive("eps", eps, owner=owner)
        self.momentum = check_optional(check_number, "momentum", momentum, low=0.0, high=1.0,
                                       owner=owner)
        self.affine = check_flag("affine", affine, owner=owner)
        self.track_running_stats = check_flag("track_running_stats", track_running_stats, owner=owner)
        self.dtype = resolve_dtype(dtype)
        n = self.num_features
        if self.affine:
            self.weight = Parameter(np.ones(n, dtype=self.dtype), regularize=False)
            self.bias = Parameter(np.zeros(n, dtype=self.dtype), regularize=False)
        else:
            self.weight = self.bias = None
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(n, dtype=self.dtype))
            self.register_buffer("running_var", np.ones(n, dtype=self.dtype))
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def reset_running_stats(self) -> None:
        """running_mean ← 0, running_var ← 1, num_batches_tracked ← 0."""
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def _check_input(self, x) -> Tensor:
        if not isinstance(x, Tensor):
            x = as_input(x, self.dtype)
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm1d({self.num_features}) expects input of shape (batch, "
                f"{self.num_features}); got shape {x.shape}"
            )
        if x.dtype != self.dtype:
            raise TypeError(
                f"BatchNorm1d({self.num_features}) is {self.dtype} but its input is {x.dtype}; "
                f"convert one of them (dtype='{x.dtype}' when building the layer)"
            )
        return x

    def forward(self, x) -> Tensor:
        x = self._check_input(x)
        use_batch_stats = self.training or not self.track_running_stats
        if not use_batch_stats:
            return self._normalize_with_running_stats(x)
        n = x.shape[0]
        if n < 2:
            mode = "in training mode" if self.training else "without running statistics"
            raise ValueError(
                f"BatchNorm1d({self.num_features}) {mode} needs more than 1 example per batch to "
                f"compute batch statistics; got a batch of shape {x.shape} (use a larger batch, "
                f"drop the last incomplete batch, or call .eval() to use the running statistics)"
            )
        op = BatchNormTrain(self.dtype.type(self.eps))
        y = apply(op, x, self.weight, self.bias) if self.affine else apply(op, x)
        if self.training and self.track_running_stats:
            self._update_running_stats(op.mean, op.var, x.shape[0])
        return y

    def _update_running_stats(self, mean: np.ndarray, var: np.ndarray, n: int) -> None:
        """The running averages, on raw arrays outside the graph (never differentiated)."""
        self.num_batches_tracked += 1
        if self.momentum is None:
            m = 1.0 / float(self.num_batches_tracked)
        else:
            m = self.momentum
        unbiased = var * (n / (n - 1))
        self.running_mean *= 1.0 - m
        self.running_mean += m * mean
        self.running_var *= 1.0 - m
        self.running_var += m * unbiased

    def _normalize_with_running_stats(self, x: Tensor) -> Tensor:
        """y = x·s + (β − running_mean·s) with s = γ/√(running_var + ε): an affine map per feature."""
        inv_std = 1.0 / np.sqrt(self.running_var + self.dtype.type(self.eps))
        shift = constant(-self.running_mean * inv_std)
        if not self.affine:
            return x * constant(inv_std) + shift
        scale = self.weight * constant(inv_std)
        return x * scale + (shift * self.weight + self.bias)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps:g}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")
