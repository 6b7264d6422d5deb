"""PNG plots of loss-landscape slices, drawn with matplotlib's non-interactive Agg canvas.

No window is ever opened and pyplot's global state is not touched: each plot is a fresh
``matplotlib.figure.Figure`` on a ``FigureCanvasAgg``. Files are written atomically (a temporary
file in the same folder, flushed and fsynced, then ``os.replace``), so a reader never sees half a
PNG and a failed plot leaves no temporary file behind. matplotlib is imported only when a plot is
drawn, so importing ravine stays light.

Example::

    line = loss_along_line(loss_fn, model, init, model)
    plot_line(line, "runs/line.png")
    plot_surface(loss_surface_2d(loss_fn, model), "runs/slice.png", kind="contour")
"""

from __future__ import annotations


import numpy as np

from .._atomic import atomic_open, writable_file
from .._checks import check_choice, check_int

KINDS = ("contour", "surface")


def _check_path(path) -> str:
    target = writable_file(path)
    if not target.lower().endswith(".png"):
        raise ValueError(f"path must name a .png file; got {target!r}")
    return target


def _new_figure(figsize):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_png(fig, path, dpi: int = 120) -> None:
    """Render ``fig`` to ``path`` as a PNG, atomically (``ravine._atomic``: temporary file in the
    same folder, flush, fsync, ``os.replace``; the temporary file is removed if anything fails)."""
    dpi = check_int("dpi", dpi, minimum=1)
    with atomic_open(_check_path(path), "wb") as f:
        fig.savefig(f, format="png", dpi=dpi)


def _finite_or_nan(values) -> np.ndarray:
    values = np.array(values, dtype=np.float64)
    values[~np.isfinite(values)] = np.nan
    return values


def plot_line(result, path, *, title: str | None = None, logy: bool = False, dpi: int = 120):
    """Plot a ``LineResult`` (loss against α) to the PNG file ``path``; returns ``path``.

    The ends α = 0 and α = 1 are marked and labelled with ``result.label_a`` / ``label_b``; the
    extrapolated parts α < 0 and α > 1 are shaded. ``logy``: a logarithmic loss axis (every finite
    loss must then be > 0). Non-finite losses are left out of the curve.

    Example::

        plot_line(loss_along_line(loss_fn, model, init, model), "line.png")
    """
    target = _check_path(path)
    alphas = np.asarray(result.alphas, dtype=np.float64)
    losses = _finite_or_nan(result.losses)
    if logy and np.any(losses[np.isfinite(losses)] <= 0):
        raise ValueError("logy=True needs positive losses; some are <= 0")
    fig = _new_figure((6.4, 4.4))
    ax = fig.add_subplot()
    ax.axvspan(alphas[0], 0.0, color="0.92", zorder=0)
    ax.axvspan(1.0, alphas[-1], color="0.92", zorder=0)
    ax.plot(alphas, losses, "-", color="C0", lw=2, label="L((1 − α)·θ_a + α·θ_b)")
    ends = [(0.0, result.label_a, "C2"), (1.0, result.label_b, "C3")]
    for alpha, label, color in ends:
        value = losses[np.flatnonzero(alphas == alpha)[0]]
        ax.plot([alpha], [value], "o", color=color, ms=8, zorder=3, label=f"{label} (α = {alpha:g})")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("α   (θ(α) = (1 − α)·θ_a + α·θ_b)")
    ax.set_ylabel("loss")
    ax.set_title(title if title is not None else
                 f"Loss along the line from {result.label_a} to {result.label_b}")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    save_png(fig, target, dpi=dpi)
    return path


def plot_surface(result, path, kind: str = "contour", *, title: str | None = None, levels: int = 30,
                 log: bool = False, mark_center: bool = True, dpi: int = 120):
    """Plot a ``SurfaceResult`` to the PNG file ``path``; returns ``path``.

    ``kind="contour"``: filled contours with contour lines and a colour bar over the (α, β) plane;
    ``kind="surface"``: a 3-D surface. ``log``: colour by log₁₀ loss (losses must be > 0).
    ``mark_center``: a star at (0, 0), the parameters θ the slice goes through. Non-finite losses
    are masked (left blank).

    Example::

        plot_surface(loss_surface_2d(loss_fn, model, seed=0), "slice.png", kind="contour")
    """
    check_choice("kind", kind, KINDS, owner="plot_surface")
    levels = check_int("levels", levels, minimum=2, owner="plot_surface")
    target = _check_path(path)
    alphas = np.asarray(result.alphas, dtype=np.float64)
    betas = np.asarray(result.betas, dtype=np.float64)
    z = _finite_or_nan(result.losses).T  # rows: β, columns: α — matplotlib's (y, x) order
    if log:
        if np.any(z[np.isfinite(z)] <= 0):
            raise ValueError("log=True needs positive losses; some are <= 0")
        z = np.log10(z)
    zlabel = "log₁₀ loss" if log else "loss"
    center = z[np.flatnonzero(betas == 0.0)[0], np.flatnonzero(alphas == 0.0)[0]]
    masked = np.ma.masked_invalid(z)
    finite = z[np.isfinite(z)]
    flat = finite.size == 0 or np.ptp(finite) == 0
    how = "filter-normalized random directions" if getattr(result, "filter_normalized", False) \
        else "directions δ, η"
    fig = _new_figure((6.4, 5.2) if kind == "contour" else (7.0, 5.6))
    if kind == "contour":
        ax = fig.add_subplot()
        if flat:  # contourf needs a range of values; a constant slice is one colour
            mesh = ax.pcolormesh(alphas, betas, masked, shading="nearest", cmap="viridis")
        else:
            mesh = ax.contourf(alphas, betas, masked, levels=levels, cmap="viridis")
            ax.contour(alphas, betas, masked, levels=mesh.levels, colors="k", linewidths=0.4,
                       alpha=0.5)
        fig.colorbar(mesh, ax=ax, label=zlabel)
        if mark_center:
            ax.plot([0.0], [0.0], marker="*", color="red", ms=14, mec="white", ls="none",
                    label=f"θ  (loss {result.center_loss:.4g})")
            ax.legend(loc="upper right", fontsize="small")
        ax.set_aspect("equal", adjustable="box")
    else:
        ax = fig.add_subplot(projection="3d")
        grid_a, grid_b = np.meshgrid(alphas, betas)
        ax.plot_surface(grid_a, grid_b, masked, cmap="viridis", linewidth=0, antialiased=True,
                        alpha=0.9)
        if mark_center and np.isfinite(center):
            ax.scatter([0.0], [0.0], [center], color="red", marker="*", s=120, depthshade=False,
                       label=f"θ  (loss {result.center_loss:.4g})")
            ax.legend(loc="upper right", fontsize="small")
        ax.set_zlabel(zlabel)
    ax.set_xlabel("α  (along δ)")
    ax.set_ylabel("β  (along η)")
    ax.set_title(title if title is not None else f"Loss on the plane θ + αδ + βη\n({how})")
    save_png(fig, target, dpi=dpi)
    return path


__all__ = ["plot_line", "plot_surface", "save_png"]
