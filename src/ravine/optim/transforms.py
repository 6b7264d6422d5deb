"""Update rules as small composable transforms (as optax: ``adam = chain(scale_by_adam(...), lr)``).

A transform turns a direction u into a new direction, keeping per-parameter state. Each optimizer is
a chain of transforms built from its hyperparameters, followed by the step θ ← θ − α·u:

    SGD      chain(add_decayed_weights(λ), trace(μ, τ, nesterov))
    AdaGrad  chain(add_decayed_weights(λ), scale_by_adagrad(a₀, ε), scale_by_schedule(lr_decay))
    RMSProp  chain(add_decayed_weights(λ), scale_by_rms(ρ, ε, centered), trace(μ))
    Adam     chain(add_decayed_weights(λ), scale_by_adam((β₁, β₂), ε, amsgrad))
    AdamW    chain(scale_by_adam((β₁, β₂), ε, amsgrad), add_decayed_weights(λ))

(a transform whose hyperparameter makes it the identity, λ = 0 or μ = 0, is left out.)

The protocol, for a transform ``t``:

* ``t.init(param) -> dict``: the state it keeps for a parameter array (zeros or a constant, of the
  parameter's shape and dtype), under the key names ``t.keys`` (torch.optim's names:
  ``momentum_buffer``, ``exp_avg``, ...). Keys are unique within a chain.
* ``t.update(u, state, param, step, out) -> array``: the new direction. ``state`` is the
  parameter's state dict (shared by the chain), ``param`` the parameter's array (read only), ``step``
  the number of this update (1 for the first), ``out`` a work array of the parameter's shape and
  dtype, distinct from ``u``, that nobody else reads.

**Ownership.** ``u`` is read only: it may be the user's ``.grad`` array, a state buffer of an
earlier transform, or an earlier transform's ``out``. A transform returns either ``out`` (it may
write anything into it) or one of its own state buffers, which it may update in place; in both cases
nobody downstream writes into the returned array, and a transform never keeps ``out`` in its state
(the next parameter's update reuses it). So the optimizer runs any chain with two work arrays per
dtype, handing each transform as ``out`` the one its input is not, and allocates nothing per step.
The trailing transforms that only multiply by a number (``ScalarTransform``) are folded into α.

Transforms built with Python floats compute with them; ``t.cast(dtype)`` gives a copy whose
hyperparameters are scalars of that dtype (the same values NumPy would use, a little faster).

Example (a chain applied by hand, one parameter)::

    t = trace(momentum=0.9)
    state = {"step": 0, **t.init(w)}
    out = np.empty_like(w)
    for _ in range(3):
        state["step"] += 1
        w -= 0.1 * t.update(grad(w), state, w, state["step"], out)
"""

from __future__ import annotations

import copy
import math

import numpy as np

__all__ = ["GradientTransform", "ScalarTransform", "chain", "add_decayed_weights", "trace",
           "scale_by_adagrad", "scale_by_rms", "scale_by_adam", "scale", "scale_by_schedule"]


class GradientTransform:
    """Base class: ``init(param) -> state`` and ``update(u, state, param, step, out) -> direction``.

    ``keys``: the state keys ``init`` creates. ``_scalars``: attribute names holding hyperparameters
    that ``cast`` converts to the parameter dtype.
    """

    keys: tuple[str, ...] = ()
    _scalars: tuple[str, ...] = ()

    def init(self, param: np.ndarray) -> dict:
        return {}

    def update(self, u, state: dict, param, step: int, out):
        raise NotImplementedError

    def cast(self, dtype) -> "GradientTransform":
        """A copy whose hyperparameters are NumPy scalars of ``dtype``."""
        twin = copy.copy(self)
        kind = np.dtype(dtype).type
        for name in self._scalars:
            setattr(twin, name, kind(getattr(self, name)))
        return twin

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items()
                         if not k.startswith("_") and k not in ("keys", "update"))
        return f"{type(self).__name__}({args})"


class ScalarTransform(GradientTransform):
    """A transform that only multiplies the direction by a number that depends on the step.

    ``factor(step) -> float``. When such transforms end a chain, the optimizer folds their factors
    into the learning rate (θ ← θ − α·c(t)·u) instead of touching the arrays.
    """

    def factor(self, step: int) -> float:
        raise NotImplementedError

    def update(self, u, state, param, step, out):
        return np.multiply(u, self.factor(step), out=out)


def chain(*transforms: GradientTransform) -> tuple[GradientTransform, ...]:
    """The transforms applied one after the other (the first sees the gradient).

    State keys must be unique across the chain. Example: ``chain(add_decayed_weights(1e-4),
    trace(0.9))`` is SGD with L2 weight decay and momentum.
    """
    seen: dict[str, GradientTransform] = {}
    for t in transforms:
        if not isinstance(t, GradientTransform):
            raise TypeError(f"chain: expected GradientTransform objects; got {type(t).__name__}")
        for key in t.keys:
            if key in seen:
                raise ValueError(f"chain: state key {key!r} is used by both {seen[key]!r} and {t!r}")
            seen[key] = t
    return tuple(transforms)


class add_decayed_weights(GradientTransform):
    """u ← u + λ·θ: the gradient of the L2 penalty (λ/2)‖θ‖², added to the direction.

    First in a chain it is L2 regularization folded into the gradient (torch's ``weight_decay`` for
    SGD, AdaGrad, RMSProp and Adam). After an adaptive scaling it is *decoupled* weight decay
    (AdamW): θ ← θ − α(u + λθ) = θ(1 − αλ) − αu.
    """

    _scalars = ("weight_decay",)

    def __init__(self, weight_decay: float):
        self.weight_decay = weight_decay

    def update(self, u, state, param, step, out):
        np.multiply(param, self.weight_decay, out=out)
        out += u
        return out


class trace(GradientTransform):
    """Momentum: a decaying sum of past directions, b, kept in ``momentum_buffer``.

    b₁ = u₁ (first step with dampening τ > 0; with τ = 0 the buffer starts at 0, giving the same);
    bₜ = μ·bₜ₋₁ + (1 − τ)·uₜ afterwards. Returns b, or u + μ·b with ``nesterov`` (the gradient at the
    look-ahead point, as torch.optim.SGD computes it). With τ = μ, b is the exponential moving
    average of the directions.
    """

    keys = ("momentum_buffer",)
    _scalars = ("momentum", "_keep")

    def __init__(self, momentum: float, dampening: float = 0.0, nesterov: bool = False):
        self.momentum, self.dampening, self.nesterov = momentum, dampening, nesterov
        self._keep = 1.0 - dampening

    def init(self, param):
        return {"momentum_buffer": np.zeros_like(param)}

    def update(self, u, state, param, step, out):
        b = state["momentum_buffer"]
        if self.dampening:
            if step == 1:
                np.copyto(b, u)
            else:
                b *= self.momentum
                np.multiply(u, self._keep, out=out)
                b += out
        else:
            b *= self.momentum
            b += u
        if self.nesterov:
            np.multiply(b, self.momentum, out=out)
            out += u
            return out
        return b

    def _update_heavy_ball(self, u, state, param, step, out):
        b = state["momentum_buffer"]
        b *= self.momentum
        b += u
        return b

    def cast(self, dtype):
        twin = super().cast(dtype)
        if not self.dampening and not self.nesterov:  # the common case, without a branch
            twin.update = twin._update_heavy_ball
        return twin


class scale_by_adagrad(GradientTransform):
    """AdaGrad: s ← s + u⊙u (``sum``, starting at ``initial_accumulator_value``); u ← u / (√s + ε).

    Each coordinate's step shrinks with the total squared gradient it has seen: large for rarely
    moving coordinates, small for often moving ones, and ever decreasing.
    """

    keys = ("sum",)
    _scalars = ("eps",)

    def __init__(self, initial_accumulator_value: float = 0.0, eps: float = 1e-10):
        self.initial_accumulator_value, self.eps = initial_accumulator_value, eps

    def init(self, param):
        return {"sum": np.full_like(param, self.initial_accumulator_value)}

    def update(self, u, state, param, step, out):
        s = state["sum"]
        np.multiply(u, u, out=out)
        s += out
        np.sqrt(s, out=out)
        out += self.eps
        return np.divide(u, out, out=out)


class scale_by_rms(GradientTransform):
    """RMSProp: r ← ρ·r + (1 − ρ)·u⊙u (``square_avg``); u ← u / (√r + ε).

    ``centered``: also m ← m + (1 − ρ)(u − m) (``grad_avg``, torch's lerp) and divide by
    √max(r − m⊙m, 0) + ε, an estimate of the gradient's standard deviation instead of its root
    mean square. (r ≥ m⊙m in exact arithmetic; when the gradient is nearly constant, rounding can
    make the difference slightly negative, where torch.optim.RMSprop's square root gives NaN.)
    Unlike AdaGrad's sum, the moving average forgets old gradients.
    """

    _scalars = ("alpha", "_one_minus_alpha", "eps")

    def __init__(self, alpha: float = 0.99, eps: float = 1e-8, centered: bool = False):
        self.alpha, self.eps, self.centered = alpha, eps, centered
        self._one_minus_alpha = 1.0 - alpha
        self.keys = ("square_avg", "grad_avg") if centered else ("square_avg",)

    def init(self, param):
        return {key: np.zeros_like(param) for key in self.keys}

    def update(self, u, state, param, step, out):
        r = state["square_avg"]
        r *= self.alpha
        np.multiply(u, u, out=out)
        out *= self._one_minus_alpha
        r += out
        if self.centered:
            m = state["grad_avg"]
            np.subtract(u, m, out=out)
            out *= self._one_minus_alpha
            m += out
            np.multiply(m, m, out=out)
            np.subtract(r, out, out=out)
            np.maximum(out, 0, out=out)  # rounding can make it slightly negative
            np.sqrt(out, out=out)
        else:
            np.sqrt(r, out=out)
        out += self.eps
        return np.divide(u, out, out=out)


class scale_by_adam(GradientTransform):
    """Adam: moving averages of the gradient and its square, bias-corrected.

    m ← m + (1 − β₁)(u − m) (``exp_avg``), v ← β₂·v + (1 − β₂)·u⊙u (``exp_avg_sq``);
    m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ) undo the bias towards the zero start;
    u ← m̂ / (√v̂ + ε). With ``amsgrad``, v̂ uses v_max ← max(v_max, v) (``max_exp_avg_sq``), so the
    effective step never grows back.

    Computed as u = m / (c₁√v + c₂) with c₁ = (1 − β₁ᵗ)/√(1 − β₂ᵗ) and c₂ = (1 − β₁ᵗ)·ε, the same
    number as torch.optim.Adam's m / (√v / √(1 − β₂ᵗ) + ε) / (1 − β₁ᵗ), in four array operations.
    """

    _scalars = ("_one_minus_beta1", "beta2", "_one_minus_beta2")

    def __init__(self, betas=(0.9, 0.999), eps: float = 1e-8, amsgrad: bool = False):
        self.beta1, self.beta2 = float(betas[0]), float(betas[1])
        self.eps, self.amsgrad = eps, amsgrad
        self._one_minus_beta1, self._one_minus_beta2 = 1.0 - self.beta1, 1.0 - self.beta2
        self.keys = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if amsgrad else ("exp_avg", "exp_avg_sq")

    def init(self, param):
        return {key: np.zeros_like(param) for key in self.keys}

    def update(self, u, state, param, step, out):
        m, v = state["exp_avg"], state["exp_avg_sq"]
        np.subtract(u, m, out=out)
        out *= self._one_minus_beta1
        m += out
        v *= self.beta2
        np.multiply(u, u, out=out)
        out *= self._one_minus_beta2
        v += out
        if self.amsgrad:
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        bias1 = 1.0 - self.beta1 ** step
        bias2 = 1.0 - self.beta2 ** step
        np.sqrt(v, out=out)
        out *= bias1 / math.sqrt(bias2)
        out += bias1 * self.eps
        return np.divide(m, out, out=out)


class scale(ScalarTransform):
    """u ← c·u for a constant c."""

    def __init__(self, c: float):
        self.c = c

    def factor(self, step: int) -> float:
        return self.c


class scale_by_schedule(ScalarTransform):
    """u ← c(t)·u with c a function of the update number t (1 for the first).

    AdaGrad's ``lr_decay`` δ is ``scale_by_schedule(lambda t: 1 / (1 + (t − 1)·δ))``.
    """

    def __init__(self, schedule):
        if not callable(schedule):
            raise TypeError(f"scale_by_schedule needs a function step -> factor; got {schedule!r}")
        self.schedule = schedule

    def factor(self, step: int) -> float:
        return self.schedule(step)
