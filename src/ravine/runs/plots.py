"""``curves.png``: what a training run went through, one panel per quantity it recorded.

Panels, each drawn only when the history holds its data:

- **loss**: training loss (running mean over each epoch) and validation loss, per epoch (log scale
  when every value is positive);
- **error**: training and validation error rate, per epoch;
- **learning rate** per epoch (log scale when it spans more than a factor of 10);
- **gradient norm per layer**, ‖∂J/∂W‖_F for each weight matrix, per monitored update
  (``grad_norm[<name>]`` keys of ``rv.diagnose.LayerMonitor`` rows; log scale) — vanishing
  gradients show as the lower layers' lines falling away;
- **curvature along the gradient**, gᵀHg/gᵀg, per monitored update (``CurvatureMonitor`` rows;
  log scale while it stays positive, linear through zero once it does not);
- **stable learning rate**: the bound 2gᵀg/gᵀHg beyond which a step −α·g increases the quadratic
  model of the loss, next to the learning rate α actually used, with the updates where α was past
  the bound (``ill_conditioned``) marked.

Drawn on a fresh matplotlib ``Figure`` with the Agg canvas (no window, no pyplot state), written
atomically by ``ravine.diagnose.plots.save_png``.

Example::

    plot_curves(trainer.history, "runs/x/curves.png", title="digits, 64-100-10 tanh")
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from .metrics import history_rows

__all__ = ["plot_curves", "curve_panels"]

_GRAD_NORM = re.compile(r"grad_norm\[(.+)\]", re.S)


def _number(value) -> float | None:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    return float(value)


def _series(rows: list[dict], key: str, x_key: str) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) over the rows that hold a number under ``key``; non-finite y become NaN (gaps)."""
    xs, ys = [], []
    for i, row in enumerate(rows):
        y = _number(row.get(key))
        if y is None:
            continue
        x = _number(row.get(x_key))
        xs.append(x if x is not None else i + 1)
        ys.append(y if math.isfinite(y) else math.nan)
    return np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)


def _has_finite(series) -> bool:
    return series[1].size > 0 and bool(np.any(np.isfinite(series[1])))


def curve_panels(history) -> list[str]:
    """The names of the panels ``plot_curves`` would draw for ``history``, in order:
    a subset of "loss", "error", "lr", "grad_norm", "curvature", "stable_lr"."""
    epochs, steps = history_rows(history)
    panels = []
    if any(_has_finite(_series(epochs, k, "epoch")) for k in ("loss", "val_loss")):
        panels.append("loss")
    if any(_has_finite(_series(epochs, k, "epoch")) for k in ("error", "val_error")):
        panels.append("error")
    if _has_finite(_series(epochs, "lr", "epoch")):
        panels.append("lr")
    if any(_has_finite(_series(steps, k, "step")) for k in _grad_norm_keys(steps)):
        panels.append("grad_norm")
    if _has_finite(_series(steps, "curvature", "step")):
        panels.append("curvature")
    if _has_finite(_series(steps, "stable_lr", "step")):
        panels.append("stable_lr")
    return panels


def _grad_norm_keys(steps: list[dict]) -> list[str]:
    seen: dict[str, None] = {}
    for row in steps:
        seen.update(dict.fromkeys(k for k in row if isinstance(k, str) and _GRAD_NORM.fullmatch(k)))
    return list(seen)


def _log_if_positive(ax, *ys, span: float = 1.0) -> None:
    """A log y axis when every finite value is positive and they span more than ``span``×."""
    values = np.concatenate([y[np.isfinite(y)] for y in ys]) if ys else np.array([])
    if values.size and np.all(values > 0) and values.max() > span * values.min():
        ax.set_yscale("log")


def _plain_log_labels(ax) -> None:
    """On a log y axis, label ticks as plain numbers (0.3, 2, 1e-05) rather than 3×10⁻¹, and label
    the minor ticks too when the axis spans little more than a decade (else it has no labels)."""
    from matplotlib import ticker

    class Plain(ticker.LogFormatter):
        def _num_to_string(self, x, vmin, vmax):  # LogFormatter decides which ticks get labels
            return f"{x:.3g}"

    if ax.get_yscale() == "log":
        ax.yaxis.set_major_formatter(Plain(labelOnlyBase=False))
        ax.yaxis.set_minor_formatter(Plain(labelOnlyBase=False, minor_thresholds=(1.2, 0.6)))


def _plot_loss(ax, epochs):
    train, valid = _series(epochs, "loss", "epoch"), _series(epochs, "val_loss", "epoch")
    if train[0].size:
        ax.plot(*train, "-", color="C0", marker="." if train[0].size < 60 else None, label="train")
    if valid[0].size:
        ax.plot(*valid, "-", color="C1", marker="." if valid[0].size < 60 else None, label="valid")
    _log_if_positive(ax, train[1], valid[1])
    ax.set_title("Loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend(loc="best", fontsize="small")


def _plot_error(ax, epochs):
    train, valid = _series(epochs, "error", "epoch"), _series(epochs, "val_error", "epoch")
    for (x, y), color, label in ((train, "C0", "train"), (valid, "C1", "valid")):
        if x.size:
            ax.plot(x, 100.0 * y, "-", color=color, marker="." if x.size < 60 else None, label=label)
    best = valid if valid[0].size and np.any(np.isfinite(valid[1])) else None
    if best is not None:
        i = int(np.nanargmin(best[1]))
        ax.plot([best[0][i]], [100.0 * best[1][i]], "o", mfc="none", mec="C3", ms=9,
                label=f"best valid {100.0 * best[1][i]:.2f}% (epoch {best[0][i]:g})")
    ax.set_ylim(bottom=0)
    ax.set_title("Error rate")
    ax.set_xlabel("epoch")
    ax.set_ylabel("error (%)")
    ax.legend(loc="best", fontsize="small")


def _plot_lr(ax, epochs):
    x, y = _series(epochs, "lr", "epoch")
    ax.plot(x, y, "-", color="C2", drawstyle="steps-mid", marker="." if x.size < 60 else None)
    finite = y[np.isfinite(y)]
    if finite.size and finite.min() == finite.max() and finite.max() > 0:
        ax.set_ylim(0.0, 1.5 * finite.max())  # a constant rate: show it against zero
    _log_if_positive(ax, y, span=10.0)
    ax.set_title("Learning rate")
    ax.set_xlabel("epoch")
    ax.set_ylabel("lr")


def _plot_grad_norm(ax, steps):
    keys = _grad_norm_keys(steps)
    cmap_values = np.linspace(0.0, 0.9, max(len(keys), 2))
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    ys = []
    for k, key in enumerate(keys):
        x, y = _series(steps, key, "step")
        y = np.where(y > 0, y, np.nan)  # a zero norm has no place on a log axis
        ys.append(y)
        ax.plot(x, y, "-", lw=1.2, color=cmap(cmap_values[k]), label=_GRAD_NORM.fullmatch(key).group(1))
    if any(np.any(np.isfinite(y)) for y in ys):
        ax.set_yscale("log")
    ax.set_title("Gradient norm per layer  ‖∂J/∂W‖")
    ax.set_xlabel("update")
    ax.set_ylabel("Frobenius norm")
    ax.legend(loc="best", fontsize="x-small", ncol=2 if len(keys) > 4 else 1)


def _plot_curvature(ax, steps):
    x, y = _series(steps, "curvature", "step")
    ax.plot(x, y, "-", color="C4", lw=1.2, marker="." if x.size < 60 else None, label="gᵀHg / gᵀg")
    finite = y[np.isfinite(y)]
    if finite.size and np.any(finite <= 0):
        # negative curvature (a direction of descent that bends down) is the point of this panel:
        # a linear axis through zero shows its sign plainly
        ax.axhline(0.0, color="0.5", lw=0.8)
    else:
        _log_if_positive(ax, y)
    ax.set_title("Curvature along the gradient  gᵀHg / gᵀg")
    ax.set_xlabel("update")
    ax.set_ylabel("curvature")
    ax.legend(loc="best", fontsize="small")


def _plot_stable_lr(ax, steps):
    x, bound = _series(steps, "stable_lr", "step")
    bound = np.where(bound > 0, bound, np.nan)
    ax.plot(x, bound, "-", color="C5", lw=1.2, label="stable bound 2gᵀg / gᵀHg")
    lx, lr = _series(steps, "lr", "step")
    if lx.size:
        ax.plot(lx, np.where(lr > 0, lr, np.nan), "-", color="C2", lw=1.5, label="lr used")
    bad = [(row.get("step", i + 1), row.get("lr")) for i, row in enumerate(steps)
           if row.get("ill_conditioned") and _number(row.get("lr")) is not None]
    if bad:
        bx, by = zip(*bad)
        ax.plot(bx, by, "x", color="C3", ms=6, label=f"lr past the bound ({len(bad)} updates)")
    unbounded = [_number(row.get("step")) or i + 1 for i, row in enumerate(steps)
                 if _number(row.get("stable_lr")) == math.inf]
    if unbounded:  # gᵀHg ≤ 0: no bound along g; marked along the top edge
        ax.plot(unbounded, [0.97] * len(unbounded), "^", color="C5", ms=5, mfc="none",
                transform=ax.get_xaxis_transform(), clip_on=False,
                label=f"no bound, gᵀHg ≤ 0 ({len(unbounded)} updates)")
    _log_if_positive(ax, bound, lr)
    ax.set_title("Stable learning rate vs the one used")
    ax.set_xlabel("update")
    ax.set_ylabel("learning rate")
    ax.legend(loc="best", fontsize="small")


_DRAW = {"loss": (_plot_loss, 0), "error": (_plot_error, 0), "lr": (_plot_lr, 0),
         "grad_norm": (_plot_grad_norm, 1), "curvature": (_plot_curvature, 1),
         "stable_lr": (_plot_stable_lr, 1)}


def plot_curves(history, path, *, title: str | None = None, dpi: int = 110) -> Any:
    """Draw the training curves of ``history`` (a ``History`` or its ``to_dict()``) to the PNG
    file ``path``, atomically; returns ``path``. Panels without data are left out (see the module
    docstring); a history with nothing to plot raises ValueError.

    Example::

        plot_curves(history, "runs/x/curves.png")
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ..diagnose.plots import save_png

    epochs, steps = history_rows(history)
    panels = curve_panels(history)
    if not panels:
        raise ValueError("the history has nothing to plot: no epoch rows with loss, error or lr, "
                         "and no monitor rows")
    columns = 1 if len(panels) == 1 else 2
    rows = math.ceil(len(panels) / columns)
    fig = Figure(figsize=(5.6 * columns, 3.6 * rows + (0.4 if title else 0.0)), layout="constrained")
    FigureCanvasAgg(fig)
    for i, name in enumerate(panels):
        ax = fig.add_subplot(rows, columns, i + 1)
        draw, source = _DRAW[name]
        draw(ax, steps if source else epochs)
        _plain_log_labels(ax)
        ax.grid(True, which="major", alpha=0.3)
    if title:
        fig.suptitle(title)
    save_png(fig, path, dpi=dpi)
    return path
