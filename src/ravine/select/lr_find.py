"""The learning-rate range test (Smith 2017; fastai's ``lr_find``), beside the curvature bound.

A short run from the model's current weights in which the learning rate grows geometrically, one
mini-batch per rate,

    ε_i = ε_start · (ε_end / ε_start)^(i / (steps − 1)),   i = 0 … steps − 1,

records the loss of each mini-batch, smoothed by a bias-corrected exponential moving average

    a_i = β a_{i−1} + (1 − β) l_i,   a_0 = 0,        ℓ_i = a_i / (1 − β^(i+1)),

and stops early once ℓ_i > divergence · min_{j≤i} ℓ_j (or a loss is not finite). Every few steps,
before the update, it also measures on that mini-batch the rate 2gᵀg/gᵀHg beyond which a gradient
step −ε·g is predicted to raise the objective (``ravine.diagnose.curvature_monitor``; gᵀHg by one
exact Hessian-vector product). The loss curve says empirically where training stops improving; the
curvature bound says why. Afterwards the model (parameters, buffers, mode, gradients, dropout
generators) and the optimizer (buffers, step counts, hyperparameters) are put back exactly as found.

Example::

    result = lr_find(trainer, X, y)            # or lr_find(TrainConfig(...), X, y)
    result.suggestion                          # a first learning rate
    plot_lr_find(result, "lr_find.png")
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._atomic import atomic_open, writable_file
from .._checks import check_int, check_number, check_positive, check_seed
from .._random import as_generator
from ..data import batches
from ..diagnose.curvature_monitor import curvature_along_gradient
from ..nn.side_effects import no_side_effects

OWNER = "lr_find"


@dataclass
class LRFindResult:
    """What ``lr_find`` measured.

    ``lrs``: the rates tried (one mini-batch each, in order); ``losses``: the smoothed loss ℓ_i
    after each; ``raw_losses``: the mini-batch losses l_i; ``stable_lrs``: 2gᵀg/gᵀHg measured
    before the update at that rate (NaN where not measured, inf where gᵀHg ≤ 0); ``suggestion``:
    the suggested first learning rate (see ``lr_find``); ``steepest_lr``: the rate of steepest
    descent of ℓ; ``min_loss_lr``: the rate of the lowest ℓ; ``stable_cap``: the curvature bound
    the suggestion was capped by (None: not applied); ``stop_reason``: why the run ended.
    """

    lrs: np.ndarray
    losses: np.ndarray
    stable_lrs: np.ndarray
    suggestion: float
    raw_losses: np.ndarray = field(default_factory=lambda: np.zeros(0))
    steepest_lr: float = math.nan
    min_loss_lr: float = math.nan
    stable_cap: float | None = None
    capped: bool = False
    stop_reason: str = ""
    optimizer: str = ""

    def to_dict(self) -> dict:
        """JSON-safe figures (NaN and inf as None)."""
        def plain(values):
            return [float(v) if math.isfinite(v) else None for v in np.asarray(values, dtype=np.float64)]
        return {"lrs": plain(self.lrs), "losses": plain(self.losses), "raw_losses": plain(self.raw_losses),
                "stable_lrs": plain(self.stable_lrs), "suggestion": self.suggestion,
                "steepest_lr": self.steepest_lr, "min_loss_lr": self.min_loss_lr,
                "stable_cap": self.stable_cap, "capped": self.capped, "stop_reason": self.stop_reason,
                "optimizer": self.optimizer}


def _trainer_from(trainer_or_config, X, y):
    """A Trainer: the one given, or one built from a ``TrainConfig`` (or a dict of its keys)."""
    from ..train import Trainer

    if isinstance(trainer_or_config, Trainer):
        return trainer_or_config
    from ..cli.build import build_model, build_trainer
    from ..cli.config import TrainConfig

    config = trainer_or_config
    if isinstance(config, dict):
        config = TrainConfig.from_dict(config, source="trainer_or_config")
    if not isinstance(config, TrainConfig):
        raise TypeError(f"{OWNER}: trainer_or_config must be a ravine.train.Trainer, a TrainConfig or a dict "
                        f"of TrainConfig keys; got {type(trainer_or_config).__name__}")
    config = config.validate()
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{OWNER}: X must be a 2-D array (examples × features); got shape {X.shape}")
    y = np.asarray(y)
    if config.task == "classification":
        if y.ndim != 1 or y.dtype.kind not in "iu" or len(y) == 0 or y.min() < 0:
            raise ValueError(f"{OWNER}: y must be non-negative integer labels (one per row) for "
                             f"classification; got dtype {y.dtype}, shape {y.shape}")
        outputs = int(y.max()) + 1
    else:
        outputs = 1 if y.ndim == 1 else int(y.shape[1])
    model = build_model(config, X.shape[1], outputs)
    return build_trainer(config, model, config.task, progress=False)


def _steepest_index(lrs: np.ndarray, losses: np.ndarray, stop: int) -> int | None:
    """Index of the most negative slope dℓ/d log ε among points 0 … stop, skipping the first tenth
    (where the bias-corrected average rests on a handful of batches)."""
    if stop < 2:
        return None
    x, v = np.log(lrs[:stop + 1]), losses[:stop + 1]
    slope = np.gradient(v, x)
    skip = min(max(1, (stop + 1) // 10), stop - 1)
    window = slope[skip:]
    best = int(np.argmin(window))
    return skip + best if window[best] < 0 else None


def _suggest(lrs, losses, stable, plain_gradient_step: bool):
    """(suggestion, steepest, min-loss rate, cap or None, capped)."""
    finite = np.isfinite(losses)
    stop = int(np.flatnonzero(finite)[-1]) if finite.any() else 0
    best = int(np.nanargmin(np.where(finite, losses, np.nan)[:stop + 1])) if finite.any() else 0
    min_loss_lr = float(lrs[best])
    steep = _steepest_index(lrs, np.where(finite, losses, np.inf), best)
    # Without a descending stretch, a tenth of the best rate (fastai's older rule of thumb).
    steepest_lr = float(lrs[steep]) if steep is not None else min_loss_lr / 10.0
    measured = stable[: best + 1]
    measured = measured[np.isfinite(measured) & (measured > 0)]
    cap = float(np.median(measured)) if plain_gradient_step and len(measured) else None
    suggestion = steepest_lr if cap is None else min(steepest_lr, cap)
    suggestion = float(min(max(suggestion, lrs[0]), lrs[-1] if len(lrs) else suggestion))
    return suggestion, steepest_lr, min_loss_lr, cap, cap is not None and cap < steepest_lr


def lr_find(trainer_or_config, X, y, start_lr: float = 1e-6, end_lr: float = 10.0, steps: int = 100,
            smoothing: float = 0.98, divergence: float = 4.0, seed=0,
            curvature_every: int = 5) -> LRFindResult:
    """The learning-rate range test on (X, y), from the model's current weights (module doc).

    ``trainer_or_config``: a ``ravine.train.Trainer`` (its model, optimizer, loss, penalties,
    clipping and batch size are used; its schedule, callbacks and counters are not touched), or a
    ``TrainConfig`` / dict of ``ravine train`` options to build one from. ``steps`` mini-batches of
    the trainer's batch size, reshuffled (``seed``) each pass over the data; the rate grows from
    ``start_lr`` to ``end_lr`` geometrically; ``smoothing`` is β of the moving average; the run
    stops once the smoothed loss exceeds ``divergence`` × its minimum; 2gᵀg/gᵀHg is measured every
    ``curvature_every`` steps.

    The suggestion. The deep-learning book's advice (§8.3.1) is a first rate *higher* than the one
    that is best after the first iterations but short of instability. Here:

    1. ``min_loss_lr``: the rate at the lowest smoothed loss ℓ; past it the loss rises — the
       rates are becoming unstable.
    2. ``steepest_lr``: among the rates up to ``min_loss_lr`` (the first tenth skipped), the one
       where ℓ falls fastest per unit of log ε (min dℓ/d log ε) — the largest progress per step,
       typically a few times below ``min_loss_lr`` and well above the small rates that are
       "safe" but slow. (If ℓ never falls, ``min_loss_lr``/10.)
    3. The cap: for SGD, whose step is −ε·g (the first step of momentum SGD too; heavy-ball's
       quadratic stability limit 2(1+μ)/λ is only wider), the median of the bounds 2gᵀg/gᵀHg
       measured up to ``min_loss_lr``; ``suggestion = min(steepest_lr, cap)``. Adaptive
       optimizers (Adam, RMSProp, AdaGrad) do not step along −ε·g, so their bound is measured and
       plotted but does not cap.
    4. The suggestion is clipped to [start_lr, end_lr].

    Example::

        result = lr_find(trainer, X, y, steps=60)
        trainer.optimizer.param_groups[0]["lr"] = result.suggestion
    """
    start_lr = check_positive("start_lr", start_lr, owner=OWNER)
    end_lr = check_positive("end_lr", end_lr, owner=OWNER)
    if end_lr <= start_lr:
        raise ValueError(f"{OWNER}: end_lr must be > start_lr; got start_lr={start_lr:g}, end_lr={end_lr:g}")
    steps = check_int("steps", steps, minimum=5, owner=OWNER)
    smoothing = check_number("smoothing", smoothing, low=0.0, high=1.0, high_open=True, owner=OWNER)
    divergence = check_number("divergence", divergence, low=1.0, low_open=True, owner=OWNER)
    check_seed("seed", seed, owner=OWNER)
    curvature_every = check_int("curvature_every", curvature_every, minimum=1, owner=OWNER)
    trainer = _trainer_from(trainer_or_config, X, y)
    optimizer, model = trainer.optimizer, trainer.model
    from ..optim import SGD, Newton

    if isinstance(optimizer, Newton) or "lr" not in optimizer.defaults:
        raise ValueError(f"{OWNER}: the optimizer {type(optimizer).__name__} has no learning rate to "
                         f"search (Newton's method takes the full step); use sgd, adam, adamw, rmsprop "
                         f"or adagrad")
    X, y = trainer.check_data(X, y, OWNER)
    minimum = max(m.min_batch_examples for _, m in model.named_modules())
    if len(X) < minimum:
        raise ValueError(f"{OWNER}: X has {len(X)} rows; a training mini-batch needs at least {minimum}")

    lrs_planned = start_lr * (end_lr / start_lr) ** (np.arange(steps) / (steps - 1))
    rng = as_generator(seed, owner=OWNER)
    saved_model, saved_optimizer = model.state_dict(), optimizer.state_dict()
    saved_grads = [p.grad for p in model.parameters()]
    lrs, raw, smooth, stable = [], [], [], []
    average, best, reason = 0.0, math.inf, f"reached end_lr={end_lr:g}"
    try:
        with model.mode(training=True), no_side_effects(model):
            step = trainer.make_step()
            order: list = []
            for i, lr in enumerate(lrs_planned):
                while not order:
                    order = [b for b in batches(len(X), trainer.batch_size, seed=rng) if len(b) >= minimum]
                index = order.pop(0)
                xb, yb = X[index], y[index]
                for group in optimizer.param_groups:
                    group["lr"] = float(lr)
                bound = math.nan
                if i % curvature_every == 0:
                    with no_side_effects(model):
                        bound = curvature_along_gradient(lambda: trainer.objective(xb, yb)[1],
                                                         model.parameters(), lr)["stable_lr"]
                value = step(xb, yb)[0]
                lrs.append(float(lr))
                raw.append(float(value))
                stable.append(bound)
                if not math.isfinite(value):
                    smooth.append(math.nan)
                    reason = f"the loss became {value} at lr={lr:.3g}"
                    break
                average = smoothing * average + (1.0 - smoothing) * value
                smoothed = average / (1.0 - smoothing ** (i + 1))
                smooth.append(smoothed)
                best = min(best, smoothed)
                if smoothed > divergence * best:
                    reason = (f"diverged at lr={lr:.3g}: smoothed loss {smoothed:.4g} > "
                              f"{divergence:g} × best {best:.4g}")
                    break
    finally:
        model.load_state_dict(saved_model)
        optimizer.load_state_dict(saved_optimizer)
        for p, g in zip(model.parameters(), saved_grads):
            p.grad = g
    lrs_a, smooth_a, stable_a = (np.asarray(v, dtype=np.float64) for v in (lrs, smooth, stable))
    suggestion, steepest_lr, min_loss_lr, cap, capped = _suggest(
        lrs_a, smooth_a, stable_a, plain_gradient_step=isinstance(optimizer, SGD))
    return LRFindResult(lrs=lrs_a, losses=smooth_a, stable_lrs=stable_a, suggestion=suggestion,
                        raw_losses=np.asarray(raw, dtype=np.float64), steepest_lr=steepest_lr,
                        min_loss_lr=min_loss_lr, stable_cap=cap, capped=capped, stop_reason=reason,
                        optimizer=type(optimizer).__name__)


def _check_png(path) -> str:
    target = writable_file(path)
    if not target.lower().endswith(".png"):
        raise ValueError(f"plot_lr_find: path must name a .png file; got {target!r}")
    return target


def plot_lr_find(result: LRFindResult, path, *, title: str | None = None, dpi: int = 120):
    """Plot ``result`` to the PNG file ``path`` (written atomically); returns ``path``.

    Left: the smoothed loss (and, faint, the raw mini-batch losses) against the rate, log x.
    Right: the curvature bound 2gᵀg/gᵀHg measured along the way against the rate in use, with the
    diagonal ε = bound: where the measurements fall below it, the step is predicted to raise the
    loss. The suggestion is marked on both.
    """
    if not isinstance(result, LRFindResult):
        raise TypeError(f"plot_lr_find: result must be an LRFindResult; got {type(result).__name__}")
    target = _check_png(path)
    dpi = check_int("dpi", dpi, minimum=1, owner="plot_lr_find")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.4), layout="constrained")
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    lrs = np.asarray(result.lrs, dtype=np.float64)

    def finite(values):
        values = np.array(values, dtype=np.float64)
        values[~np.isfinite(values)] = np.nan
        return values

    if len(result.raw_losses) == len(lrs):
        left.plot(lrs, finite(result.raw_losses), "-", color="C0", alpha=0.25, lw=1, label="mini-batch loss")
    left.plot(lrs, finite(result.losses), "-", color="C0", lw=2, label="smoothed loss")
    right_x, right_y = lrs, finite(result.stable_lrs)
    keep = np.isfinite(right_y) & (right_y > 0)
    right.plot(right_x[keep], right_y[keep], "o-", color="C1", ms=4, label="2gᵀg / gᵀHg")
    if len(lrs):
        right.plot([lrs[0], lrs[-1]], [lrs[0], lrs[-1]], "--", color="0.5", label="ε = bound")
    for ax in (left, right):
        ax.axvline(result.suggestion, color="C3", lw=1.5, label=f"suggestion {result.suggestion:.3g}")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate ε")
        ax.grid(True, alpha=0.3, which="both")
    if keep.any():
        right.set_yscale("log")
    if result.stable_cap is not None:
        right.axhline(result.stable_cap, color="C2", lw=1, ls=":", label=f"cap {result.stable_cap:.3g}")
    left.set_ylabel("loss")
    right.set_ylabel("stable rate 2gᵀg / gᵀHg")
    left.set_title(title if title is not None else f"Learning-rate range test ({result.optimizer})")
    right.set_title("Curvature bound measured along the way")
    left.legend(loc="best", fontsize="small")
    right.legend(loc="best", fontsize="small")
    with atomic_open(target, "wb") as f:
        fig.savefig(f, format="png", dpi=dpi)
    return path


__all__ = ["LRFindResult", "lr_find", "plot_lr_find"]
