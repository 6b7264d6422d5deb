"""A search's results for people: the table (sorted by the validation metric) and its PNGs.

The table holds nothing that depends on where or when a trial ran (no durations, no worker
names), so the same search gives the same ``table.csv`` on any number of workers, local or Dask.

Example::

    rows = table_rows(store.rows(), names=["lr"], metric="val_error")
    write_table_csv(rows, "searches/x/table.csv")
"""

from __future__ import annotations

import csv
import io
import math

from .._atomic import atomic_write_bytes, atomic_write_text


def _score(row: dict, metric: str) -> float:
    value = row.get("metrics", {}).get(metric)
    return math.inf if value is None or not math.isfinite(value) else float(value)


def sort_key(row: dict, metric: str):
    """Lower metric first, ties by trial index; trials without a figure last."""
    return (_score(row, metric), row["index"])


def rerun_summary(reruns: list[dict], metric: str) -> dict:
    """{trial index: {"mean", "std", "n"}} of the finished re-runs' validation ``metric``.

    ``std`` is the sample standard deviation (ddof 1; 0 for a single re-run); a trial whose
    re-runs all failed has mean inf."""
    values: dict = {}
    for rerun in reruns:
        values.setdefault(rerun["index"], [])
        value = rerun["metrics"].get(metric) if rerun["status"] == "finished" else None
        if value is not None and math.isfinite(value):
            values[rerun["index"]].append(float(value))
    out = {}
    for index, xs in values.items():
        n = len(xs)
        mean = sum(xs) / n if n else math.inf
        std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1)) if n > 1 else 0.0
        out[index] = {"mean": mean, "std": std, "n": n}
    return out


def mean_std_text(summary: dict) -> str:
    """``0.0412 ± 0.0031`` (or "" when there is no finished re-run)."""
    if not summary or not summary["n"]:
        return ""
    return f"{summary['mean']:.6g} ± {summary['std']:.2g}"


def table_rows(rows: list[dict], names: list[str], metric: str, rounds: bool = False,
               reruns: dict | None = None) -> list[dict]:
    """One dict per trial (rank, trial, status, params…, seed, epochs, val_loss, val_error).

    ``rounds``: add each trial's refine ``round`` (after ``status``); ``reruns`` (from
    ``rerun_summary``): add ``rerun_<metric>`` (mean ± std over the re-runs' seeds, empty for a trial
    not re-run) and ``reruns`` (how many finished). Rows stay sorted by the single run's metric."""
    out = []
    for rank, row in enumerate(sorted(rows, key=lambda r: sort_key(r, metric)), start=1):
        item = {"rank": rank, "trial": row["index"], "status": row["status"]}
        if rounds:
            item["round"] = row.get("round", 0)
        item.update({name: row["params"].get(name) for name in names})
        item["seed"] = row["seed"]
        item["epochs"] = row["epochs"]
        for key in ("val_loss", "val_error"):
            value = row["metrics"].get(key)
            item[key] = "" if value is None else f"{value:.6g}"
        if reruns is not None:
            summary = reruns.get(row["index"])
            item[f"rerun_{metric}"] = mean_std_text(summary)
            item["reruns"] = "" if summary is None else summary["n"]
        out.append(item)
    return out


def table_text(rows: list[dict]) -> str:
    """The table as aligned plain text."""
    if not rows:
        return "(no trials)"
    keys = list(rows[0])
    cells = [[str(k) for k in keys]] + [[_cell(r[k]) for k in keys] for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(keys))]
    return "\n".join("  ".join(c[i].rjust(widths[i]) for i in range(len(keys))) for c in cells)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return "" if value is None else str(value)


def write_table_csv(rows: list[dict], path) -> None:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
    atomic_write_text(path, buffer.getvalue())


def _save(fig, path) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    atomic_write_bytes(path, buffer.getvalue())


def plot_metric_vs_params(rows: list[dict], space, metric: str, path) -> None:
    """The validation metric against each searched hyper-parameter (log axis where log-scaled)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    names = space.names or ["trial"]
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.2), squeeze=False)
    for ax, name in zip(axes[0], names):
        points = [(r["params"].get(name, r["index"]) if name != "trial" else r["index"], _score(r, metric))
                  for r in rows if math.isfinite(_score(r, metric))]
        xs = [p[0] for p in points]
        numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs)
        if not numeric:
            labels = sorted({str(x) for x in xs})
            xs = [labels.index(str(x)) for x in xs]
            ax.set_xticks(range(len(labels)), labels)
        ax.scatter(xs, [p[1] for p in points], s=18)
        dim = space.dimensions.get(name)
        if numeric and dim is not None and getattr(dim, "log_scale", False):
            ax.set_xscale("log")
        ax.set_xlabel(name)
        ax.set_ylabel(metric)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)


def plot_curves(rows: list[dict], metric: str, path) -> None:
    """Every trial's validation curve; pruned trials dashed and grey."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for row in rows:
        points = [(p.get("epoch", i + 1), p[metric]) for i, p in enumerate(row["curve"]) if p.get(metric) is not None]
        if not points:
            continue
        pruned = row["status"] == "pruned"
        ax.plot([p[0] for p in points], [p[1] for p in points], "--" if pruned else "-",
                color="0.6" if pruned else None, linewidth=1)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.set_title("learning curves (pruned: dashed)")
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
